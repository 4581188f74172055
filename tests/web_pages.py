"""A loopback web server for the link tests: pages, a PDF, redirects and misbehaving answers.

:class:`PageServer` serves :data:`ROUTES` (or whatever a test puts in ``routes``) on 127.0.0.1
from a thread; :func:`make_pdf` writes a small real PDF with text on each page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["ARTICLE", "HANDBOOK_PAGES", "PageServer", "Route", "make_pdf"]

NAV_TEXT = "Subscribe to the Moon Weekly newsletter"
FOOTER_TEXT = "Copyright 2024 Moon Weekly, all rights reserved"
AD_TEXT = "Buy the new Lunar telescope today"

ARTICLE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Far side rovers | Moon Weekly</title>
<meta property="article:published_time" content="2024-06-12">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/subscribe">{NAV_TEXT}</a></li></ul></nav>
<aside class="advert"><p>{AD_TEXT}</p></aside>
<main><article>
<h1>Far side rovers</h1>
<p>Yutu-2 is the rover that has explored the far side of the Moon since January 2019. It left the
Chang'e-4 lander on the floor of the Von Kármán crater, and it has driven more than
1,500 metres across the regolith since then.</p>
<h2>Instruments</h2>
<p>The rover carries a panoramic camera, a ground-penetrating radar and an infrared spectrometer,
which together describe the rocks and the layers of dust below its wheels.</p>
<ul>
<li>The panoramic camera takes colour pictures of the landscape around the rover.</li>
<li>The lunar penetrating radar sees layers down to forty metres below the surface.</li>
</ul>
<p>Its mission was planned to last three months, but the rover was still working more than
five years later, waking up at every lunar dawn.</p>
</article></main>
<footer><p>{FOOTER_TEXT}. <a href="/privacy">Privacy</a></p></footer>
</body></html>
"""

HANDBOOK_PAGES = [
    [
        "Lunar Gateway handbook",
        "",
        "The Gateway is a small space station that will orbit the Moon.",
        "It is built by NASA with ESA, JAXA and the Canadian Space Agency.",
        "",
        "Its first modules are planned to launch together on one rocket.",
    ],
    [
        "The Power and Propulsion Element supplies electricity and moves",
        "the station between orbits with solar electric propulsion.",
        "",
        "HALO is the first living space for astronauts visiting the station.",
        "",
        "2",
    ],
]


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold these lines (an empty line is a gap, as between paragraphs)."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    kids: list[int] = []
    number = 4
    for lines in pages:
        shown = []
        y = 720
        for line in lines:
            if line:
                text = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                shown.append(f"1 0 0 1 72 {y} Tm ({text}) Tj")
            y -= 14
        stream = ("BT /F1 12 Tf\n" + "\n".join(shown) + "\nET").encode("cp1252")
        objects[number] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
        objects[number + 1] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % number
        )
        kids.append(number + 1)
        number += 2
    refs = " ".join(f"{kid} 0 R" for kid in kids)
    objects[2] = f"<< /Type /Pages /Kids [{refs}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for index in sorted(objects):
        offsets[index] = len(out)
        out += b"%d 0 obj\n" % index + objects[index] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % number
    for index in range(1, number):
        out += b"%010d 00000 n \n" % offsets[index]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (number, xref)
    return bytes(out)


@dataclass
class Route:
    """What the server answers at one path."""

    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    endless: bool = False  # stream the body again and again, without a length, until the client goes


def default_routes() -> dict[str, Route]:
    """The pages every link test can use."""
    return {
        "/article.html": Route(body=ARTICLE.encode()),
        "/docs/handbook.pdf": Route(content_type="application/pdf", body=make_pdf(HANDBOOK_PAGES)),
        "/moved": Route(status=302, headers={"Location": "/article.html"}),
        "/loop": Route(status=302, headers={"Location": "/loop"}),
        "/huge.html": Route(body=b"<p>" + b"a" * 100_000 + b"</p>"),
        "/endless.html": Route(body=b"<p>" + b"word " * 2_000 + b"</p>", endless=True),
        "/picture.png": Route(content_type="image/png", body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64),
        "/slow.html": Route(body=ARTICLE.encode(), delay=5.0),
        "/missing.html": Route(status=404, body=b"<p>Not here</p>"),
        "/menu.html": Route(body=b"<html><body><nav><a href='/'>Home</a></nav></body></html>"),
        "/broken.pdf": Route(content_type="application/pdf", body=b"%PDF-1.4\nthis is not a PDF at all"),
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        route = self.server.routes.get(self.path.split("?", 1)[0])
        self.server.requests.append(self.path)
        if route is None:
            route = Route(status=404, body=b"no such page")
        if route.delay:
            time.sleep(route.delay)
        try:
            self.send_response(route.status)
            if route.content_type is not None:
                self.send_header("Content-Type", route.content_type)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not route.endless:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
            while route.endless and not self.server.stopping.is_set():
                self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading, as it should past its limit

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    requests: list[str]
    stopping: threading.Event


class PageServer:
    """The loopback web server; ``routes`` may be changed while it runs."""

    def __init__(self, routes: Callable[[], dict[str, Route]] = default_routes) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = routes()
        self._server.requests = []
        self._server.stopping = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def routes(self) -> dict[str, Route]:
        return self._server.routes

    @property
    def requests(self) -> list[str]:
        """The paths asked for, in order."""
        return self._server.requests

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> PageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
