"""Which updates are questions, commands, button presses and inline queries, and what each gets.

- a private chat: every text message is a question;
- a group: a message that @mentions the bot, a reply to one of its messages, ``/ask`` (and
  ``/ask@botname``); every other message is ignored;
- buttons: Show context, 👍 / 👎, and a decline's suggestions;
- inline mode: ``@botname question`` in any chat;
- ``/start``, ``/help``, ``/sources``; the admin commands for TELEGRAM_ADMIN_IDS only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import Any

from telegram import (
    InlineQueryResultArticle,
    InputFile,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.charts import CHART_FILENAME, admin_chart
from bot.config import Settings
from bot.core.errors import KnowledgeError, QuestionError
from bot.presentation import (
    ADMIN_REFUSAL,
    RELOAD_FAILED,
    context_paragraphs,
    fit_lines,
    present,
    reload_lines,
    sources_heading,
    sources_lines,
    sources_of,
    stats_lines,
    truncate,
    unanswered_lines,
)
from bot.runtime import Citebot, UnknownAnswerError, UserRef
from bot.runtime.cooldowns import Cooldowns
from bot.telegram_front.flow import NO_PREVIEW, AnswerFlow, ChatTarget, send
from bot.telegram_front.render import (
    CONTEXT,
    FEEDBACK,
    HTML,
    MESSAGE_MAX,
    Rendered,
    parse_data,
    render_answer,
    render_context,
    suggestion_from,
    visible_len,
)

__all__ = ["ADMIN_COMMANDS", "MEMBER_COMMANDS", "Handlers"]

log = logging.getLogger(__name__)

# (command, description) as /setMyCommands lists them.
MEMBER_COMMANDS = (
    ("ask", "Ask a question; I answer with quotes from my sources"),
    ("sources", "The documents I answer from"),
    ("help", "What I can do"),
)
ADMIN_COMMANDS = (
    ("reload", "Re-read the knowledge folder (add 'dry' to only see what would change)"),
    ("unanswered", "Questions I declined, newest first (add a page number)"),
    ("stats", "Questions per day, share answered, feedback (add a number of days)"),
)
PAGE_SIZE = 10
MAX_STATS_DAYS = 365
INLINE_RESULTS = 5
INLINE_CACHE_SECONDS = 60  # the knowledge can be reloaded; a minute of stale inline results at most
INLINE_PACE_SECONDS = 0.5  # one inline query answered per member per half second
# A vote is acknowledged with its outcome if it is stored this soon; otherwise with thanks at once.
VOTE_WAIT_SECONDS = 1.0
ADMIN_PRIVATE_ONLY = "Please use {command} in a private chat with me: its answer is for admins only."
DRY_RUN_WORDS = frozenset({"dry", "dry-run", "--dry-run", "dryrun"})
_COMMAND = re.compile(r"/\S+")


def _help_text(username: str, *, admin: bool, inline: bool) -> str:
    lines = [
        "I answer questions with sentences quoted word for word from my sources, with a link to each.",
        "• In a private chat, just send me your question.",
        f"• In a group, mention me (@{username}), reply to one of my messages, or use /ask followed by "
        "your question.",
    ]
    if inline:  # only once inline mode is switched on with BotFather
        lines.append(f"• In any chat, type @{username} and a question to share an answer.")
    lines += [
        "• /sources lists what I know about.",
        "Under an answer, Show context shows the whole paragraph, and 👍 / 👎 tell my maintainers how "
        "I'm doing. When I don't know, I say so and suggest questions I can answer.",
    ]
    if admin:
        lines.append(
            "Admin commands, in a private chat with me: /reload (or /reload dry), /unanswered [page], "
            "/stats [days]."
        )
    return HTML.text("\n".join(lines))


def _asker(message: Message) -> int | None:
    """Who asks: the member, or the chat an anonymous admin or a channel speaks as; None for bots."""
    if message.sender_chat is not None:  # anonymous group admin, or a linked channel's post
        return message.sender_chat.id
    if message.from_user is None or message.from_user.is_bot:  # never answer a bot: no loops
        return None
    return message.from_user.id


def _mentions(message: Message, username: str, bot_id: int) -> bool:
    for entity in message.entities:
        if (
            entity.type == MessageEntity.MENTION
            and message.parse_entity(entity).lower() == f"@{username.lower()}"
        ):
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == bot_id:
            return True
    return False


class Handlers:
    """The Telegram handlers over one application; :meth:`register` adds them to python-telegram-bot's."""

    def __init__(self, app: Citebot, settings: Settings, username: str, bot_id: int, *, inline: bool) -> None:
        self.app = app
        self.settings = settings
        self.username = username
        self.bot_id = bot_id
        self.inline_mode = inline  # switched on with BotFather's /setinline
        self.flow = AnswerFlow(app, settings, username)
        self.votes: set[asyncio.Task[Any]] = set()
        self.inline_pace = Cooldowns()

    def register(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Add every handler; the order decides which one an update goes to."""
        new_message = filters.UpdateType.MESSAGE  # edits are not asked again
        application.add_handler(CommandHandler("start", self.start, filters=new_message))
        application.add_handler(CommandHandler("help", self.help, filters=new_message))
        application.add_handler(CommandHandler("sources", self.sources, filters=new_message))
        application.add_handler(CommandHandler("ask", self.ask, filters=new_message))
        application.add_handler(CommandHandler("reload", self.reload, filters=new_message))
        application.add_handler(CommandHandler("unanswered", self.unanswered, filters=new_message))
        application.add_handler(CommandHandler("stats", self.stats, filters=new_message))
        private = filters.ChatType.PRIVATE & new_message
        application.add_handler(
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.private_question)
        )
        application.add_handler(MessageHandler(private & filters.COMMAND, self.unknown_command))
        application.add_handler(MessageHandler(private & ~filters.TEXT, self.not_text))
        groups = filters.ChatType.GROUPS & new_message & filters.TEXT & ~filters.COMMAND
        application.add_handler(MessageHandler(groups, self.group_message))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_handler(InlineQueryHandler(self.inline))

    # -- helpers ----------------------------------------------------------------------------------
    def _is_admin(self, user_id: int) -> bool:
        return user_id in self.settings.telegram_admin_ids

    def _help_for(self, user_id: int) -> str:
        return _help_text(self.username, admin=self._is_admin(user_id), inline=self.inline_mode)

    @staticmethod
    def _target(message: Message, user_id: int, why: str, *, heading: bool = False) -> ChatTarget:
        return ChatTarget(
            user=UserRef("telegram", user_id),
            chat_id=message.chat.id,
            private=message.chat.type == ChatType.PRIVATE,
            reply_to=message.message_id,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            why=why,
            heading=heading,
        )

    async def _say(self, context: ContextTypes.DEFAULT_TYPE, message: Message, plain: str) -> None:
        await self._reply(context, message, HTML.text(plain))

    async def _reply(self, context: ContextTypes.DEFAULT_TYPE, message: Message, html_text: str) -> None:
        await send(
            context.bot,
            message.chat.id,
            Rendered(html_text),
            reply_to=message.message_id,
            thread_id=message.message_thread_id if message.is_topic_message else None,
        )

    # -- questions --------------------------------------------------------------------------------
    async def private_question(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Every text message in a private chat is a question."""
        message = update.effective_message
        if message is None or message.from_user is None or message.text is None:
            return
        await self.flow.run(context.bot, self._target(message, message.from_user.id, "private"), message.text)

    async def group_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A question if it mentions the bot or replies to it; otherwise not for us."""
        message = update.effective_message
        if message is None or message.text is None or _asker(message) is None:
            return
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == self.bot_id:
            why = "reply"
        elif _mentions(message, self.username, self.bot_id):
            why = "mention"
        else:
            return
        if not self.flow.clean(message.text):
            await self._reply(context, message, self._usage())
            return
        await self.flow.run(context.bot, self._target(message, _asker(message) or 0, why), message.text)

    async def ask(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/ask question`` (``/ask@botname`` in groups); without a question, how to use it."""
        message = update.effective_message
        if message is None or message.text is None or _asker(message) is None:
            return
        # The text after "/ask" or "/ask@botname", as typed (context.args would lose line breaks).
        command = _COMMAND.match(message.text)
        question = message.text[command.end() :] if command else ""
        if not question.strip():
            await self._reply(context, message, self._usage())
            return
        await self.flow.run(context.bot, self._target(message, _asker(message) or 0, "command"), question)

    def _usage(self) -> str:
        examples = [e for i in self.app.service.knowledge.intents if not i.is_chitchat for e in i.examples]
        example = examples[0] if examples else "your question"
        return HTML.text(f"Ask me a question after the command, like:\n/ask {example}")

    async def not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice: only text can be a question."""
        message = update.effective_message
        if message is not None and message.from_user is not None:
            await self._say(context, message, "I can only answer questions written as text.")

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command this bot does not have, in a private chat."""
        message = update.effective_message
        if message is not None:
            await self._reply(
                context, message, HTML.text("I don't know that command. /help lists what I can do.")
            )

    # -- member commands ----------------------------------------------------------------------------
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The greeting, with how to ask."""
        message = update.effective_message
        if message is None or message.from_user is None:
            return
        titles = ", ".join(d.title for d in self.app.service.knowledge.summaries[:3])
        about = f" I know about: {titles}." if titles else ""
        greeting = HTML.text(f"Hi! I'm citebot.{about}\n\n")
        await self._reply(context, message, greeting + self._help_for(message.from_user.id))

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What the bot can do."""
        message = update.effective_message
        if message is not None and message.from_user is not None:
            await self._reply(context, message, self._help_for(message.from_user.id))

    async def sources(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The documents answered from, with their titles and links."""
        message = update.effective_message
        if message is None:
            return
        documents = self.app.service.knowledge.documents
        if not documents:
            await self._say(context, message, "I have no sources yet.")
            return
        lines = [
            HTML.bold(sources_heading(len(documents))),
            *sources_lines(sources_of(self.app.service.knowledge.summaries), HTML),
        ]
        await self._reply(context, message, fit_lines(lines, MESSAGE_MAX, visible_len))

    # -- admin commands -----------------------------------------------------------------------------
    async def _admin(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
    ) -> Message | None:
        """The message if its sender is a citebot admin in a private chat; otherwise a polite refusal
        (logged for a non-admin), and None.
        """
        message = update.effective_message
        if message is None or message.from_user is None:
            return None
        if self._is_admin(message.from_user.id):
            if message.chat.type == ChatType.PRIVATE:
                return message
            # The reports hold members' questions, and the group would read them.
            await self._say(context, message, ADMIN_PRIVATE_ONLY.format(command=f"/{command}"))
            return None
        user = UserRef("telegram", message.from_user.id)
        where = "private" if message.chat.type == ChatType.PRIVATE else str(message.chat.id)
        log.warning(
            "refused /%s to a non-admin user=%s chat=%s", command, self.app.user_hash(user)[:12], where
        )
        await self._say(context, message, ADMIN_REFUSAL.format(command=f"/{command}"))
        return None

    async def reload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/reload`` re-reads KNOWLEDGE_DIR; ``/reload dry`` only says what would change."""
        message = await self._admin(update, context, "reload")
        if message is None:
            return
        args = [a.lower() for a in context.args or []]
        if args and (len(args) > 1 or args[0] not in DRY_RUN_WORDS):
            await self._reply(
                context, message, HTML.text("Usage: /reload, or /reload dry to only see what would change.")
            )
            return
        dry_run = bool(args)
        try:
            report = await self.app.reload(dry_run=dry_run)
        except KnowledgeError as exc:
            log.warning("reload refused: %d problems", len(exc.problems))
            lines = [HTML.text(RELOAD_FAILED), *(HTML.text(f"• {p}") for p in exc.problems)]
            await self._reply(context, message, fit_lines(lines, MESSAGE_MAX, visible_len))
            return
        log.info(
            "reload by an admin dry_run=%s applied=%s version=%s", dry_run, report.applied, report.version
        )
        await self._reply(
            context,
            message,
            fit_lines(reload_lines(report, dry_run=dry_run, m=HTML), MESSAGE_MAX, visible_len),
        )

    async def unanswered(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/unanswered [page]``: the declined questions, newest first, ten a page."""
        message = await self._admin(update, context, "unanswered")
        if message is None:
            return
        args = context.args or []
        if len(args) > 1 or (args and (not args[0].isdigit() or not 1 <= int(args[0]) <= 10_000)):
            await self._reply(
                context, message, HTML.text("Usage: /unanswered, or /unanswered 2 for the second page.")
            )
            return
        page = int(args[0]) - 1 if args else 0
        rows = await self.app.unanswered(limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        lines = unanswered_lines(rows[:PAGE_SIZE], page, HTML)
        if len(rows) > PAGE_SIZE:
            lines.append(HTML.text(f"Older: /unanswered {page + 2}"))
        await self._reply(context, message, fit_lines(lines, MESSAGE_MAX, visible_len))

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/stats [days]``: questions per day, share answered, top questions, feedback."""
        message = await self._admin(update, context, "stats")
        if message is None:
            return
        args = context.args or []
        if len(args) > 1 or (args and (not args[0].isdigit() or not 1 <= int(args[0]) <= MAX_STATS_DAYS)):
            await self._reply(
                context,
                message,
                HTML.text(f"Usage: /stats, or /stats 7 for the last 7 days (1 to {MAX_STATS_DAYS})."),
            )
            return
        days = int(args[0]) if args else 30
        stats = await self.app.stats(days=days)
        await self._reply(context, message, fit_lines(stats_lines(stats, HTML), MESSAGE_MAX, visible_len))
        # A photo of its own after the text: a caption holds only 1024 characters.
        chart = await admin_chart(self.app, days=days)
        if chart is not None:
            await context.bot.send_photo(
                message.chat.id,
                InputFile(chart, filename=CHART_FILENAME),
                reply_parameters=ReplyParameters(message.message_id, allow_sending_without_reply=True),
            )

    # -- buttons ------------------------------------------------------------------------------------
    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on Show context, 👍 / 👎 or a suggestion; always answered at once."""
        query = update.callback_query
        if query is None:
            return
        pressed = parse_data(query.data or "")
        message = query.message if isinstance(query.message, Message) else None
        if pressed is None or message is None:
            await query.answer("This button no longer works.")
            return
        if pressed.kind == FEEDBACK:
            await self._vote(query.from_user.id, pressed.answer_id, pressed.helpful, query.answer)
            return
        await query.answer()  # before the work: the member's client stops its spinner
        if pressed.kind == CONTEXT:
            paragraphs = context_paragraphs(self.app.service.knowledge, pressed.refs)
            await self._reply(context, message, render_context(paragraphs))
            return
        question = suggestion_from(message.text or "", pressed.index)
        if question is None:
            await self._say(context, message, "That suggestion is no longer available.")
            return
        target = self._target(message, query.from_user.id, "suggestion", heading=True)
        await self.flow.run(context.bot, target, question)

    async def _vote(self, user_id: int, answer_id: int, helpful: bool, answer: Any) -> None:
        vote = asyncio.ensure_future(
            self.app.record_feedback(answer_id, UserRef("telegram", user_id), helpful)
        )
        done, _ = await asyncio.wait({vote}, timeout=VOTE_WAIT_SECONDS)
        if not done:  # the log is catching up: thank now, store in the background
            self.votes.add(vote)
            vote.add_done_callback(self._vote_stored)
            await answer("Thanks for the feedback!")
            return
        try:
            vote.result()
        except UnknownAnswerError:
            await answer("That answer is too old to vote on.")
            return
        log.info("feedback answer=%s helpful=%s", answer_id, helpful)
        await answer("Thanks for the feedback!")

    def _vote_stored(self, vote: asyncio.Task[Any]) -> None:
        self.votes.discard(vote)
        if not vote.cancelled() and vote.exception() is not None:
            log.warning("a vote could not be stored: %s", vote.exception())

    # -- inline mode --------------------------------------------------------------------------------
    async def inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``@botname question`` in any chat: the cited answer, or the suggestions' answers."""
        query = update.inline_query
        if query is None:
            return
        question = " ".join(query.query.split())
        asker = UserRef("telegram", query.from_user.id)
        # Clients send a query at each pause in typing; more than that from one member (or any
        # query while shutting down) gets no results rather than time on the answering thread.
        if not question or self.app.shutting_down or self.inline_pace.retry_after(asker, INLINE_PACE_SECONDS):
            await query.answer([], cache_time=0 if question else INLINE_CACHE_SECONDS)
            return
        try:
            self.app.service.validate(question)
        except QuestionError as exc:
            await query.answer(
                [self._article("too-long", str(exc), Rendered(HTML.text(str(exc))))], cache_time=0
            )
            return
        # Not logged: clients send a query at each pause in typing, half-words and all.
        answer = await self.app.answer(question)
        shown = present(answer)
        results: list[InlineQueryResultArticle] = []
        if shown.kind == "decline":
            for suggestion in shown.suggestions:
                suggested = present(await self.app.answer(suggestion))
                if suggested.kind == "answer" and len(results) < INLINE_RESULTS:
                    rendered = render_answer(suggested, heading=True, buttons=False)
                    results.append(self._article(suggestion, suggestion, rendered, suggested.quotes[0]))
            if not results:
                rendered = render_answer(shown, heading=True, buttons=False)
                results.append(self._article(question, "I don't know that from my sources", rendered))
        else:
            rendered = render_answer(shown, heading=True, buttons=False)
            description = shown.quotes[0] if shown.quotes else shown.text
            results.append(self._article(question, question, rendered, description))
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS)

    def _article(
        self, key: str, title: str, rendered: Rendered, description: str | None = None
    ) -> InlineQueryResultArticle:
        # Ids are at most 64 bytes; the same answer keeps its id while the knowledge is the same.
        digest = hashlib.sha256(f"{self.app.knowledge_version}\n{key}".encode()).hexdigest()[:32]
        return InlineQueryResultArticle(
            id=digest,
            title=truncate(title, 100),
            description=truncate(description, 200) if description else None,
            input_message_content=InputTextMessageContent(
                rendered.text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            ),
        )
