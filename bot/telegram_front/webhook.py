"""Webhook mode: an aiohttp server that Telegram posts updates to.

Telegram sends the secret given to ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token`` with
every update; a request without it (anyone who found the URL) is refused with 403 and never
reaches the bot. An accepted update is queued for python-telegram-bot's handlers and answered at
once with 200, as Telegram wants.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

__all__ = ["SECRET_HEADER", "WebhookServer"]

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes; anything much larger is not from Telegram.
MAX_BODY_BYTES = 1_000_000
REFUSAL_WARNING_INTERVAL_SECONDS = 60.0


class WebhookServer:
    """Receives updates on ``path`` at ``host:port``; only with the secret token."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        path: str,
        secret: str,
        host: str,
        port: int,
    ) -> None:
        self.application = application
        self.path = path or "/"
        self._secret = secret.encode()
        self.host, self.port = host, port
        self.refused = 0
        self.last_update_at: float | None = None
        self._last_warning = -REFUSAL_WARNING_INTERVAL_SECONDS
        self._runner: web.AppRunner | None = None

    @property
    def listening(self) -> bool:
        """Whether the server is up."""
        return self._runner is not None

    async def start(self) -> None:
        """Listen (raises OSError when the port is taken)."""
        server = web.Application(client_max_size=MAX_BODY_BYTES)
        server.router.add_post(self.path, self._receive)
        runner = web.AppRunner(server, handle_signals=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("webhook server listening on %s:%d%s", self.host, self.port, self.path)

    async def stop(self) -> None:
        """Stop listening: Telegram keeps the updates and delivers them after the restart."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _receive(self, request: web.Request) -> web.Response:
        # Headers are text decoded by aiohttp; odd bytes in them must be refused, not crash.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            self._refuse(request)
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400, text="not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        try:
            update = Update.de_json(data, self.application.bot)
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
            log.warning("a webhook update that is not a valid Telegram update: %s", type(exc).__name__)
            return web.Response(status=400, text="not an update")
        self.last_update_at = time.monotonic()
        await self.application.update_queue.put(update)
        return web.Response(status=200)

    def _refuse(self, request: web.Request) -> None:
        self.refused += 1
        now = time.monotonic()
        if now - self._last_warning >= REFUSAL_WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            log.warning(
                "refused a webhook request without the right secret token from %s (%d so far)",
                request.remote,
                self.refused,
            )
