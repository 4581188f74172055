"""Fetching a link for the knowledge: ``kb add URL``, Discord's ``/kb add url:`` and ``kb refresh``.

An admin command makes the bot fetch an address someone typed, so every fetch is bounded:

- **Addresses.** Every address a host resolves to is checked before connecting, at the first
  request and at every redirect; private, loopback, link-local and other non-public addresses are
  refused unless ``allow_private`` (the ALLOW_PRIVATE_URLS setting). The checking resolver hands
  aiohttp only the addresses it checked, so a second DNS answer cannot swap in another one (DNS
  rebinding). A host written as an address (``http://127.0.0.1/``) is checked as written, since
  aiohttp connects to it without resolving.
- **Redirects** are followed by hand, at most :data:`MAX_REDIRECTS`, so each hop is checked too.
- **Size.** The body is read in chunks and the fetch stops as soon as it passes ``max_bytes``
  (MAX_DOCUMENT_BYTES), counting what was decompressed; a larger Content-Length is refused before
  reading anything.
- **Time.** The whole fetch, redirects included, must finish within ``timeout`` seconds.
- **Content type.** Only web pages (HTML, XHTML) and PDFs are read.

Every failure is a :class:`FetchError` whose message names the link; nothing is kept from it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from bot.core.errors import CitebotError
from bot.core.knowledge import too_large

__all__ = [
    "FETCH_TIMEOUT_SECONDS",
    "MAX_REDIRECTS",
    "FetchError",
    "FetchLimits",
    "FetchedPage",
    "PageKind",
    "RefreshError",
    "address_problem",
    "fetch",
    "is_link",
]

FETCH_TIMEOUT_SECONDS = 30.0
# Five hops cover http -> https -> www -> a moved page and then some; more is a loop or a trap.
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
USER_AGENT = "citebot (knowledge base; fetches pages an admin added)"

PageKind = Literal["html", "pdf"]
# The media types read, and what each is read as.
CONTENT_TYPES: dict[str, PageKind] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(CitebotError):
    """A link could not be fetched or is not a page to read; the message names the link."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"cannot fetch {url}: {reason} (nothing changed)")


class RefreshError(CitebotError):
    """Some links could not be fetched again, so nothing was refreshed; ``failures`` names each."""

    def __init__(self, failures: list[CitebotError]) -> None:
        self.failures = tuple(failures)
        noun = "link" if len(failures) == 1 else "links"
        lines = "\n".join(f"- {failure}" for failure in failures)
        super().__init__(
            f"refresh changed nothing: {len(failures)} {noun} failed (try again later, or remove "
            f"a link that is gone for good with kb remove):\n{lines}"
        )


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """The bounds of one fetch (from the settings)."""

    max_bytes: int
    timeout: float = FETCH_TIMEOUT_SECONDS
    allow_private: bool = False
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched page or PDF: the link asked for, where it led, what it is, and its bytes."""

    url: str
    final_url: str
    kind: PageKind
    body: bytes


def is_link(text: str) -> bool:
    """Whether ``text`` is an http(s) link (rather than a file name)."""
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def address_problem(address: str) -> str | None:
    """Why a link may not lead to the IP ``address`` by default (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("%eth0") is not part of it
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 carried inside IPv6 reaches the IPv4 host: judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_problem(str(embedded))
    if ip.is_loopback or ip.is_unspecified:  # connecting to 0.0.0.0 or :: reaches this machine
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


class _Blocked(Exception):
    """A host resolved to an address links may not reach; raised through aiohttp's connector."""

    def __init__(self, host: str, address: str, problem: str) -> None:
        super().__init__(f"{host} is {address}, {problem}")


class _CheckingResolver(AbstractResolver):
    """The threaded resolver, refusing a host when any of its addresses is not public."""

    def __init__(self) -> None:
        self._resolver = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        # Every address, not only the first: the connector tries them in turn.
        for result in results:
            problem = address_problem(result["host"])
            if problem is not None:
                raise _Blocked(host, result["host"], problem)
        return results

    async def close(self) -> None:
        await self._resolver.close()


def _literal_problem(url: URL) -> str | None:
    """Why a link whose host is written as an IP address may not be fetched (None: it may)."""
    host = url.host or ""
    try:
        problem = address_problem(host)
    except ValueError:
        return None  # a name: the resolver checks it
    return f"{host} is {problem}" if problem is not None else None


def _kind(content_type: str | None) -> PageKind | None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return CONTENT_TYPES.get(media)


async def _read_body(response: aiohttp.ClientResponse, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it passes ``max_bytes``."""
    if response.content_length is not None and response.content_length > max_bytes:
        return None
    body = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)


async def _page(
    url: str, hop: str, current: URL, response: aiohttp.ClientResponse, limits: FetchLimits
) -> FetchedPage:
    """The page a final (not redirecting) response holds, within the limits."""
    if not 200 <= response.status < 300:
        answered = f"{response.status} {response.reason or ''}".rstrip()
        raise FetchError(url, f"{hop}the server answered {answered}")
    content_type = response.headers.get("Content-Type")
    kind = _kind(content_type)
    if kind is None:
        raise FetchError(
            url,
            f"{hop}it is {content_type or 'of no stated type'}, not a web page or PDF "
            "(text/html, application/xhtml+xml, application/pdf)",
        )
    body = await _read_body(response, limits.max_bytes)
    if body is None:
        raise FetchError(url, f"{hop}it {_over_limit(response.content_length, limits.max_bytes)}")
    return FetchedPage(url, str(current), kind, body)


async def _fetch(url: str, limits: FetchLimits) -> FetchedPage:
    private_note = " (ALLOW_PRIVATE_URLS is off)"
    current = URL(url)
    connector = aiohttp.TCPConnector(
        resolver=None if limits.allow_private else _CheckingResolver(), use_dns_cache=False
    )
    headers = {"User-Agent": USER_AGENT, "Accept": "text/html, application/xhtml+xml, application/pdf"}
    # trust_env=False: no proxy from the environment, which would resolve (and reach) hosts itself.
    async with aiohttp.ClientSession(connector=connector, headers=headers, trust_env=False) as session:
        for _ in range(limits.max_redirects + 1):
            hop = "" if str(current) == url else f"it redirects to {current}, and "
            if current.scheme not in ("http", "https") or not current.host:
                raise FetchError(url, f"{hop}only http and https links can be added")
            problem = None if limits.allow_private else _literal_problem(current)
            if problem is not None:
                raise FetchError(url, f"{hop}{problem}{private_note}")
            try:
                async with session.get(current, allow_redirects=False) as response:
                    if response.status not in _REDIRECTS:
                        return await _page(url, hop, current, response, limits)
                    location = response.headers.get("Location")
                    if not location:
                        raise FetchError(url, f"{hop}the server redirects without saying where")
                    current = current.join(URL(location))
            except _Blocked as exc:
                raise FetchError(url, f"{hop}{exc}{private_note}") from None
            except aiohttp.ClientError as exc:
                raise FetchError(url, f"{hop}the connection failed ({_client_error(exc)})") from exc
    raise FetchError(url, f"it redirects more than {limits.max_redirects} times")


def _over_limit(size: int | None, max_bytes: int) -> str:
    if size is not None and size > max_bytes:
        return too_large(size, max_bytes)
    # No stated size (or a wrong one): reading stopped at the limit.
    return f"is over the {max_bytes:,}-byte limit (MAX_DOCUMENT_BYTES); reading stopped there"


def _client_error(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host name is unknown"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.strerror or "cannot connect"
    return str(exc) or type(exc).__name__


async def fetch(url: str, limits: FetchLimits) -> FetchedPage:
    """Fetch ``url`` within ``limits``; raises :class:`FetchError` naming it when that cannot be done."""
    url = url.strip()
    if not is_link(url):
        raise FetchError(url, "only http and https links can be added")
    try:
        async with asyncio.timeout(limits.timeout):
            return await _fetch(url, limits)
    except TimeoutError:
        raise FetchError(url, f"it took longer than {limits.timeout:g} s (FETCH_TIMEOUT_SECONDS)") from None
