"""The one answer flow: cooldown → validate → answer off the loop → render → send → log.

Every way of asking on Telegram (a private message, a mention or reply in a group, ``/ask``, a
suggestion button) runs :meth:`AnswerFlow.run` with a :class:`ChatTarget`: where the question
came from and where the answer goes. Failures are not caught here: they reach the application's
one error handler (:mod:`.errors`), which logs them once and apologises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from bot.config import Settings
from bot.core.errors import QuestionError
from bot.presentation import present
from bot.runtime import Citebot, ReplyOrder, UserRef
from bot.telegram_front.render import HTML, Rendered, render_answer

__all__ = ["RESTARTING", "AnswerFlow", "ChatTarget", "send"]

log = logging.getLogger(__name__)

RESTARTING = "I'm restarting; please ask again in a minute."
# An answer not ready this soon shows "typing…".
TYPING_AFTER_SECONDS = 1.0
# Replies that may wait for their turn in one chat. A group gets 20 messages a minute: a chat
# asking faster than that would otherwise hold more and more of the updates handled at once,
# until no other chat is served. Questions beyond it are not answered (and say so in the log).
MAX_WAITING_PER_CHAT = 10
BACKLOG_WARNING_INTERVAL_SECONDS = 60.0
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(rendered: Rendered) -> InlineKeyboardMarkup | None:
    """The inline keyboard of a rendered message, if it has buttons."""
    if not rendered.keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rendered.keyboard]
    )


async def send(
    bot: Bot,
    chat_id: int,
    rendered: Rendered,
    *,
    reply_to: int | None = None,
    thread_id: int | None = None,
) -> None:
    """Send ``rendered`` as HTML without link previews, replying to ``reply_to`` if it still exists."""
    await bot.send_message(
        chat_id,
        rendered.text,
        parse_mode=ParseMode.HTML,
        link_preview_options=NO_PREVIEW,
        reply_markup=keyboard(rendered),
        reply_parameters=(
            ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
        ),
        message_thread_id=thread_id,
    )


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """A question's origin and where its replies go."""

    user: UserRef
    chat_id: int
    private: bool
    reply_to: int | None  # the message answered (None: a new message in the chat)
    thread_id: int | None  # the forum topic, in groups that have them
    why: str  # "private", "mention", "reply", "command", "suggestion", for the log
    heading: bool = False  # put the question above the answer (when it is not replied to)

    def describe(self, app: Citebot) -> str:
        """Pseudonymous ids for the log."""
        chat = "private" if self.private else self.chat_id
        return f"{self.why} chat={chat} user={app.user_hash(self.user)[:12]}"


class AnswerFlow:
    """Runs one question from any entry point to its answer."""

    def __init__(self, app: Citebot, settings: Settings, bot_username: str) -> None:
        self.app = app
        self.settings = settings
        self.order = ReplyOrder()
        self._mention = re.compile(rf"(?<!\w)@{re.escape(bot_username)}\b", re.IGNORECASE)
        self._noticed: dict[UserRef, float] = {}  # when each user was last told to slow down
        self._waiting: dict[int, int] = {}  # chat -> questions of it being answered or sent
        self._backlog_warned: dict[int, float] = {}
        self.skipped = 0  # questions not answered because their chat's backlog was full

    def clean(self, text: str) -> str:
        """The question: without mentions of the bot, blanks collapsed."""
        return " ".join(self._mention.sub(" ", text).split())

    async def run(self, bot: Bot, target: ChatTarget, text: str) -> None:
        """Answer ``text`` for ``target``; errors propagate to the error handler."""
        chat = target.chat_id
        if self._waiting.get(chat, 0) >= MAX_WAITING_PER_CHAT:
            self._skip(target)
            return
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        # The turn is taken before anything is awaited, so replies keep the order of questions.
        turn = self.order.take(chat)
        try:
            async with self.app.in_flight.answering():
                rendered = await self._answer(bot, target, text)
                if rendered is None:
                    return
                await turn.wait()
                await send(
                    bot, target.chat_id, rendered, reply_to=target.reply_to, thread_id=target.thread_id
                )
        finally:
            turn.done()
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat]

    def _skip(self, target: ChatTarget) -> None:
        self.skipped += 1
        now = asyncio.get_running_loop().time()
        chat = target.chat_id
        if (
            now - self._backlog_warned.get(chat, -BACKLOG_WARNING_INTERVAL_SECONDS)
            >= BACKLOG_WARNING_INTERVAL_SECONDS
        ):
            self._backlog_warned[chat] = now
            if len(self._backlog_warned) > 10_000:
                self._backlog_warned.clear()
            log.warning(
                "not answering in chat=%s: %d replies already wait there (Telegram allows a group 20 "
                "messages a minute); %d questions skipped so far",
                "private" if target.private else chat,
                MAX_WAITING_PER_CHAT,
                self.skipped,
            )

    async def _answer(self, bot: Bot, target: ChatTarget, text: str) -> Rendered | None:
        app = self.app
        if app.shutting_down:
            return Rendered(HTML.text(RESTARTING))
        wait = app.cooldown_left(target.user, self.settings.cooldown_seconds)
        if wait:
            return self._slow_down(target, wait)
        question = self.clean(text)
        try:
            app.service.validate(question)
        except QuestionError as exc:
            return Rendered(HTML.text(str(exc)))
        work = asyncio.ensure_future(app.ask(question, channel_id=target.chat_id, user=target.user))
        done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER_SECONDS)
        if not done:
            with contextlib.suppress(TelegramError):
                await bot.send_chat_action(
                    target.chat_id, ChatAction.TYPING, message_thread_id=target.thread_id
                )
        result = await work
        log.info(
            "answered %s answered=%s intent=%s confidence=%.2f answer_id=%s",
            target.describe(app),
            result.answer.answered,
            result.answer.intent,
            result.answer.confidence,
            result.answer_id,
        )
        return render_answer(present(result.answer, result.answer_id), heading=target.heading)

    def _slow_down(self, target: ChatTarget, wait: float) -> Rendered | None:
        # Said once per cooldown: repeating it to someone who keeps typing would be spam of our own.
        loop = asyncio.get_running_loop()
        noticed = self._noticed.get(target.user)
        if noticed is not None and loop.time() - noticed < self.settings.cooldown_seconds:
            return None
        self._noticed[target.user] = loop.time()
        if len(self._noticed) > 10_000:
            self._noticed.clear()
        return Rendered(HTML.text(f"You're asking quickly! Please wait {math.ceil(wait)} more seconds."))
