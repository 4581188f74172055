"""The Telegram front as :mod:`bot.serve` runs it: start-up, polling or webhook, and shutdown.

Start-up calls ``getMe`` (a refused token stops the process with a clear message; Telegram out of
reach is retried), registers the commands (``ask``, ``help``, ``sources`` for everyone, the admin
commands in each admin's private chat only) and starts taking updates: long polling by default,
the webhook when TELEGRAM_WEBHOOK_URL is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.runtime import Citebot
from bot.serve import FrontError
from bot.telegram_front.errors import PollingErrors, on_error
from bot.telegram_front.handlers import ADMIN_COMMANDS, MEMBER_COMMANDS, Handlers
from bot.telegram_front.limits import SendingLimits
from bot.telegram_front.webhook import WebhookServer

__all__ = ["TelegramFront"]

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "inline_query"]
POLL_TIMEOUT = dt.timedelta(seconds=25)
# Connected while a getUpdates answered this recently (a poll is held up to POLL_TIMEOUT).
UPDATES_STALE_AFTER_SECONDS = POLL_TIMEOUT.total_seconds() + 35.0
# Updates handled at once: answers queue for the one answering thread anyway, but button presses,
# inline queries and sends must not wait behind a slow answer.
CONCURRENT_UPDATES = 256
START_RETRY_FIRST_SECONDS, START_RETRY_MAX_SECONDS = 2.0, 60.0
ADMIN_CHATS_META = "telegram.admin_command_chats"
# Webhook mode: how often Telegram is asked whether delivery works, and how recent an error
# makes the front count as not connected (Telegram retries a failed delivery within minutes).
WEBHOOK_CHECK_SECONDS = 30.0
WEBHOOK_ERROR_RECENT = dt.timedelta(minutes=2)


class _UpdatesRequest(HTTPXRequest):
    """The getUpdates connection, noting when Telegram last answered (for the health file)."""

    def __init__(self, front: TelegramFront) -> None:
        super().__init__(connection_pool_size=1)
        self._front = front

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == 200:
            self._front.updates_ok_at = time.monotonic()
        elif code in (401, 404):  # python-telegram-bot stops polling for good: say so, and exit
            self._front.token_refused.set()
        return code, payload


class TelegramFront:
    """citebot in Telegram."""

    name = "Telegram"

    def __init__(self, app: Citebot, settings: Settings, token: str) -> None:
        self.app = app
        self.settings = settings
        self.updates_ok_at: float | None = None
        self.polling_errors = PollingErrors()
        self.limits = SendingLimits()
        self.webhook: WebhookServer | None = None
        self.webhook_problem: str | None = None  # Telegram's last delivery error, while recent
        self.token_refused = asyncio.Event()
        self._closed = asyncio.Event()
        base = settings.telegram_api_base.rstrip("/")
        builder = (
            Application.builder()
            .token(token)
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            .rate_limiter(self.limits)
            .concurrent_updates(CONCURRENT_UPDATES)
            .request(HTTPXRequest(connection_pool_size=64))
            .get_updates_request(_UpdatesRequest(self))
        )
        if settings.telegram_webhook_url:
            builder = builder.updater(None)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        if base != "https://api.telegram.org":
            log.warning("using the Telegram Bot API at %s (testing only)", base)

    async def run(self) -> None:
        """Connect, register commands and take updates until closed."""
        if not await self._initialize():
            return
        application = self.application
        bot = application.bot
        inline = bool(bot.bot.supports_inline_queries)
        Handlers(self.app, self.settings, bot.username, bot.id, inline=inline).register(application)
        application.add_error_handler(on_error)
        await self._register_commands()
        await application.start()
        if self.settings.telegram_webhook_url:
            await self._start_webhook(self.settings.telegram_webhook_url)
        else:
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES, error_callback=self.polling_errors
            )
        log.info(
            "connected to Telegram as @%s (%s); admins: %d",
            bot.username,
            "webhook" if self.webhook is not None else "long polling",
            len(self.settings.telegram_admin_ids),
        )
        closed = asyncio.ensure_future(self._closed.wait())
        refused = asyncio.ensure_future(self.token_refused.wait())
        watching = asyncio.ensure_future(self._watch_webhook()) if self.webhook is not None else None
        try:
            await asyncio.wait({closed, refused}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (closed, refused, watching):
                if task is not None:
                    task.cancel()
        if self.token_refused.is_set() and not self._closed.is_set():
            raise FrontError(
                "Telegram stopped accepting TELEGRAM_TOKEN while running (revoked in @BotFather?); "
                "set the new token and start again."
            )

    async def _initialize(self) -> bool:
        """GetMe until it works; False when closed first. A refused token is a FrontError."""
        wait = START_RETRY_FIRST_SECONDS
        while not self._closed.is_set():
            try:
                await self.application.initialize()
                return True
            except InvalidToken as exc:
                raise FrontError(
                    "Telegram rejected TELEGRAM_TOKEN; copy the token again from @BotFather (/mybots)."
                ) from exc
            except NetworkError as exc:
                log.warning("cannot reach Telegram (%s); trying again in %.0f s", exc.message, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), wait)
            wait = min(wait * 2, START_RETRY_MAX_SECONDS)
        return False

    async def _register_commands(self) -> None:
        bot = self.application.bot
        members = [BotCommand(name, text) for name, text in MEMBER_COMMANDS]
        admins = members + [BotCommand(name, text) for name, text in ADMIN_COMMANDS]
        await bot.set_my_commands(members, scope=BotCommandScopeDefault())
        for admin_id in sorted(self.settings.telegram_admin_ids):
            try:
                await bot.set_my_commands(admins, scope=BotCommandScopeChat(admin_id))
            except BadRequest as exc:  # "chat not found": the admin has not messaged the bot yet
                log.warning(
                    "admin %d gets the admin commands in the menu after messaging the bot and a restart (%s)",
                    admin_id,
                    exc.message,
                )
        # Someone removed from TELEGRAM_ADMIN_IDS loses the admin commands from their menu too.
        before = json.loads(await self.app.get_meta(ADMIN_CHATS_META) or "[]")
        for former in set(before) - self.settings.telegram_admin_ids:
            with contextlib.suppress(TelegramError):
                await bot.delete_my_commands(scope=BotCommandScopeChat(former))
        await self.app.set_meta(ADMIN_CHATS_META, json.dumps(sorted(self.settings.telegram_admin_ids)))

    async def _watch_webhook(self) -> None:
        """Ask Telegram how delivery to the webhook goes: a proxy or certificate problem shows there."""
        bot = self.application.bot
        while True:
            try:
                info = await bot.get_webhook_info()
            except TelegramError as exc:
                log.debug("getWebhookInfo failed: %s", exc)
            else:
                failing = info.last_error_date is not None and (
                    dt.datetime.now(dt.UTC) - info.last_error_date < WEBHOOK_ERROR_RECENT
                )
                problem = info.last_error_message or "delivery failing" if failing else None
                if problem != self.webhook_problem and problem is not None:
                    log.warning("Telegram cannot deliver updates to the webhook: %s", problem)
                self.webhook_problem = problem
            await asyncio.sleep(WEBHOOK_CHECK_SECONDS)

    async def _start_webhook(self, url: str) -> None:
        configured = self.settings.telegram_webhook_secret
        secret = configured.get_secret_value() if configured else secrets.token_urlsafe(32)
        self.webhook = WebhookServer(
            self.application,
            urlsplit(url).path,
            secret,
            self.settings.telegram_webhook_host,
            self.settings.telegram_webhook_port,
        )
        try:
            await self.webhook.start()
        except OSError as exc:
            raise FrontError(
                f"cannot listen for Telegram's webhook on {self.settings.telegram_webhook_host}:"
                f"{self.settings.telegram_webhook_port} ({exc.strerror}); set TELEGRAM_WEBHOOK_PORT"
            ) from exc
        await self.application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    def connected(self) -> bool:
        """Polling: Telegram answered a getUpdates lately. Webhook: the server is listening."""
        if not self.application.running:
            return False
        if self.webhook is not None:
            return self.webhook.listening and self.webhook_problem is None
        return (
            self.updates_ok_at is not None
            and time.monotonic() - self.updates_ok_at < UPDATES_STALE_AFTER_SECONDS
        )

    async def stop_taking(self) -> None:
        """Stop fetching updates (the last poll confirms those already taken); the webhook stops listening."""
        self.limits.closing = True  # a send waiting out a 429 gives up rather than hold the exit
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.webhook is not None:
            await self.webhook.stop()

    async def close(self) -> None:
        """Stop the application and its connections."""
        self._closed.set()
        application = self.application
        if application.running:
            await application.stop()
        await application.shutdown()
