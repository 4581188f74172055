"""The Telegram front's one error handler: every failure is logged once and the bot keeps serving.

Handlers do not catch what they cannot handle: python-telegram-bot hands it here, with the update
it came from. Polling failures (Telegram unreachable) come here too, and are logged once a minute
while they last instead of at every retry.
"""

from __future__ import annotations

import contextlib
import logging
import time

from telegram import ReplyParameters, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.telegram_front.render import HTML

__all__ = ["SORRY", "PollingErrors", "on_error"]

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong while answering. Please try again in a moment."
POLLING_WARNING_INTERVAL_SECONDS = 60.0


def _ids(update: object) -> str:
    if not isinstance(update, Update):
        return "(no update)"
    chat = update.effective_chat
    where = "none" if chat is None else ("private" if chat.type == "private" else str(chat.id))
    return f"update={update.update_id} chat={where}"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with the update's ids, and apologise where the member is waiting."""
    error = context.error
    if isinstance(error, Forbidden):  # blocked by the member, or removed from the group
        log.info("cannot send %s: %s", _ids(update), error.message)
        return
    log.error("error handling %s", _ids(update), exc_info=error)
    if not isinstance(update, Update):
        return
    with contextlib.suppress(TelegramError):
        if update.callback_query is not None:
            # Presses are answered before their work starts, so this usually cannot be shown;
            # the message below then tells the member.
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer(SORRY)
        message = update.effective_message
        if message is not None and update.inline_query is None:
            await context.bot.send_message(
                message.chat.id,
                HTML.text(SORRY),
                parse_mode="HTML",
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
            )


class PollingErrors:
    """getUpdates failures; the updater retries by itself, and they are logged once a minute."""

    def __init__(self) -> None:
        self._last_warning = -POLLING_WARNING_INTERVAL_SECONDS
        self.count = 0

    def __call__(self, error: TelegramError) -> None:
        """Count ``error``, and log it unless one was logged less than a minute ago."""
        self.count += 1
        now = time.monotonic()
        if now - self._last_warning >= POLLING_WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            log.warning("cannot get updates from Telegram (%s); retrying", error.message)
