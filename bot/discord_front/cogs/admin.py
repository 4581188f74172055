"""/kb: the admin commands (Manage Server or the guild's admin role; replies only the admin sees)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.charts import CHART_FILENAME, admin_chart
from bot.core.documents import fallback_title
from bot.core.errors import KnowledgeError
from bot.discord_front.bot import CitebotBot, NotAdmin
from bot.discord_front.render import MARKDOWN, MESSAGE_MAX, escape_markdown, truncate
from bot.discord_front.review import REVIEW_ITEMS, review_message
from bot.presentation import RELOAD_FAILED, fit_lines, reload_lines, stats_lines, unanswered_lines
from bot.runtime import DEFAULT_REVIEW_BELOW, DOCUMENT_SUFFIXES, LoggedQuestion, ReloadReport, Stats

__all__ = ["KnowledgeAdmin", "render_reload", "render_stats", "render_unanswered", "setup"]

log = logging.getLogger(__name__)

PAGE_SIZE = 10
MAX_UPLOAD_BYTES = 1_000_000
REFUSAL = (
    "Sorry, only members with the Manage Server permission or this server's citebot admin role can use /kb."
)


def render_reload(report: ReloadReport, *, dry_run: bool) -> str:
    """What a reload changed, for the admin."""
    return fit_lines(reload_lines(report, dry_run=dry_run, m=MARKDOWN), MESSAGE_MAX)


def render_unanswered(questions: Sequence[LoggedQuestion], page: int) -> str:
    """One page of declined questions, newest first."""
    return fit_lines(unanswered_lines(questions, page, MARKDOWN), MESSAGE_MAX)


def render_stats(stats: Stats) -> str:
    """Questions per day, share answered, top questions and feedback counts."""
    return fit_lines(stats_lines(stats, MARKDOWN), MESSAGE_MAX)


class UnansweredPages(discord.ui.View):
    """Previous / next buttons over the declined questions (only for the admin who asked)."""

    def __init__(
        self, bot: CitebotBot, owner_id: int, guild_id: int | None, page: int, has_more: bool
    ) -> None:
        super().__init__(timeout=600)
        self.bot, self.owner_id, self.guild_id, self.page = bot, owner_id, guild_id, page
        self.previous.disabled = page == 0
        self.next.disabled = not has_more

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Only the admin who asked turns the pages."""
        return interaction.user.id == self.owner_id

    async def _show(self, interaction: discord.Interaction[Any], page: int) -> None:
        rows = await self.bot.app.unanswered(
            limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE, guild_id=self.guild_id
        )
        view = UnansweredPages(self.bot, self.owner_id, self.guild_id, page, len(rows) > PAGE_SIZE)
        await interaction.response.edit_message(content=render_unanswered(rows[:PAGE_SIZE], page), view=view)

    @discord.ui.button(label="Newer", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """The newer page."""
        async with self.bot.guarded(interaction, "unanswered page"):
            await self._show(interaction, max(0, self.page - 1))

    @discord.ui.button(label="Older", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]) -> None:
        """The older page."""
        async with self.bot.guarded(interaction, "unanswered page"):
            await self._show(interaction, self.page + 1)


@app_commands.guild_only()
# Hides /kb from members without Manage Server in Discord's menus (server admins may change that);
# interaction_check below is what actually enforces it.
@app_commands.default_permissions(manage_guild=True)
class KnowledgeAdmin(commands.GroupCog, group_name="kb", group_description="Manage citebot's knowledge"):
    """The /kb commands."""

    channel = app_commands.Group(name="channel", description="Channels where I answer every message")

    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        super().__init__()

    async def is_admin(self, interaction: discord.Interaction[Any]) -> bool:
        """Manage Server, or the guild's admin role."""
        if interaction.guild_id is None:
            return False
        if interaction.permissions.manage_guild:
            return True
        role_id = (await self.bot.app.guild_settings(interaction.guild_id)).admin_role_id
        roles = getattr(interaction.user, "roles", [])
        return role_id is not None and any(role.id == role_id for role in roles)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Admins only; others get a polite refusal (and a log line)."""
        if await self.is_admin(interaction):
            return True
        raise NotAdmin(REFUSAL)

    @app_commands.command(name="reload")
    @app_commands.describe(dry_run="Only show what would change")
    async def reload(self, interaction: discord.Interaction[CitebotBot], dry_run: bool = False) -> None:
        """Reload the knowledge from its files, showing the difference."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            report = await self.bot.app.reload(dry_run=dry_run)
        except KnowledgeError as exc:
            log.warning(
                "reload refused guild=%s user=%s: %d problems",
                interaction.guild_id,
                interaction.user.id,
                len(exc.problems),
            )
            await interaction.followup.send(
                truncate(f"{RELOAD_FAILED}\n{exc}", 2000),
                ephemeral=True,
            )
            return
        log.info(
            "reload guild=%s user=%s dry_run=%s applied=%s version=%s",
            interaction.guild_id,
            interaction.user.id,
            dry_run,
            report.applied,
            report.version,
        )
        await interaction.followup.send(render_reload(report, dry_run=dry_run), ephemeral=True)

    @app_commands.command(name="add")
    @app_commands.describe(
        file="A .md or .txt file (or leave it out and give a url to fetch)",
        title="The document's title",
        url="Where it was published; without a file, the web page or PDF to fetch",
    )
    async def add(
        self,
        interaction: discord.Interaction[CitebotBot],
        file: discord.Attachment | None = None,
        title: str | None = None,
        url: str | None = None,
    ) -> None:
        """Add a document from an attached .md or .txt file, or from a web page or PDF link."""
        if file is None:
            await self._add_link(interaction, url, title)
            return
        if not file.filename.lower().endswith(DOCUMENT_SUFFIXES) or file.size > MAX_UPLOAD_BYTES:
            await interaction.response.send_message(
                "Please attach a .md or .txt file under 1 MB.", ephemeral=True
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            text = (await file.read()).decode("utf-8")
        except UnicodeDecodeError:
            await interaction.followup.send("That file is not UTF-8 text.", ephemeral=True)
            return
        found = fallback_title(text, file.filename) if title is None else None
        document = await self.bot.app.add_document(
            text, title=found[0] if found else title, url=url, added_by=f"discord:{interaction.user.id}"
        )
        log.info(
            "document added id=%s guild=%s user=%s", document.id, interaction.guild_id, interaction.user.id
        )
        origin = (
            f"\nThe title is {found[1]}, as the file has no front matter title; "
            "the `title` option sets another."
            if found
            else ""
        )
        await interaction.followup.send(
            f"Added **{escape_markdown(document.title)}** (`{document.id}`, "
            f"{len(document.paragraphs)} paragraphs).{origin}",
            ephemeral=True,
        )

    async def _add_link(
        self, interaction: discord.Interaction[CitebotBot], url: str | None, title: str | None
    ) -> None:
        """``/kb add url:`` without a file: fetch the page or PDF and add its text."""
        if url is None:
            await interaction.response.send_message(
                "Please attach a .md or .txt file, or give the `url` of a web page or PDF to fetch.",
                ephemeral=True,
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        # A fetch or conversion error names the link; the cog's error handler shows it privately.
        document, converted = await self.bot.app.add_link(
            url, title=title, added_by=f"discord:{interaction.user.id}"
        )
        log.info(
            "document added from a link id=%s guild=%s user=%s",
            document.id,
            interaction.guild_id,
            interaction.user.id,
        )
        origin = (
            f"\nThe title is {converted.title_from}; the `title` option sets another."
            if converted.title_from
            else ""
        )
        await interaction.followup.send(
            f"Added **{escape_markdown(document.title)}** (`{document.id}`, "
            f"{len(document.paragraphs)} paragraphs) from <{document.meta.url}>.{origin}",
            ephemeral=True,
        )

    @app_commands.command(name="remove")
    @app_commands.describe(document="The document to remove")
    async def remove(self, interaction: discord.Interaction[CitebotBot], document: str) -> None:
        """Remove a document."""
        removed = await self.bot.app.remove_document(document)
        log.info(
            "document remove id=%s removed=%s guild=%s user=%s",
            document,
            removed,
            interaction.guild_id,
            interaction.user.id,
        )
        text = f"Removed `{document}`." if removed else f"There is no document `{escape_markdown(document)}`."
        await interaction.response.send_message(text, ephemeral=True)

    @remove.autocomplete("document")
    async def remove_autocomplete(
        self, interaction: discord.Interaction[CitebotBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Documents whose id or title match what is typed; nothing for non-admins."""
        # discord.py runs no checks for autocomplete, so the document ids would leak without this.
        if not await self.is_admin(interaction):
            return []
        needle = current.lower()
        return [
            app_commands.Choice(name=truncate(f"{d.title} ({d.id})", 100), value=d.id[:100])
            for d in self.bot.app.service.knowledge.summaries
            if needle in d.id.lower() or needle in d.title.lower()
        ][:25]

    @app_commands.command(name="unanswered")
    async def unanswered(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """The recent questions I declined, newest first."""
        rows = await self.bot.app.unanswered(limit=PAGE_SIZE + 1, offset=0, guild_id=interaction.guild_id)
        view = UnansweredPages(self.bot, interaction.user.id, interaction.guild_id, 0, len(rows) > PAGE_SIZE)
        await interaction.response.send_message(
            render_unanswered(rows[:PAGE_SIZE], 0), view=view, ephemeral=True
        )

    @app_commands.command(name="review")
    @app_commands.describe(
        below=f"Also answers under this confidence, 0 to 1 (default {DEFAULT_REVIEW_BELOW})"
    )
    async def review(
        self,
        interaction: discord.Interaction[CitebotBot],
        below: app_commands.Range[float, 0, 1] = DEFAULT_REVIEW_BELOW,
    ) -> None:
        """Teach me: walk the questions I declined, answered unsurely or got a 👎 for."""
        page = await self.bot.app.review(0, below=below, guild_id=interaction.guild_id)
        await interaction.response.send_message(**review_message(page, below), ephemeral=True)

    @app_commands.command(name="stats")
    @app_commands.describe(days="How many days back (default 30)")
    async def stats(
        self, interaction: discord.Interaction[CitebotBot], days: app_commands.Range[int, 1, 365] = 30
    ) -> None:
        """Questions per day, share answered, top questions, feedback, and a chart of them."""
        # Deferred: the chart is drawn in a worker thread, and a cold matplotlib takes seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        stats = await self.bot.app.stats(days=days, guild_id=interaction.guild_id)
        chart = await admin_chart(self.bot.app, days=days, guild_id=interaction.guild_id)
        if chart is None:
            await interaction.followup.send(render_stats(stats), ephemeral=True)
            return
        picture = discord.File(io.BytesIO(chart), filename=CHART_FILENAME, description="Questions per day")
        await interaction.followup.send(render_stats(stats), file=picture, ephemeral=True)

    @app_commands.command(name="sync")
    async def sync(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """Register the commands with Discord again."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        count = await self.bot.sync_commands(force=True)
        log.info("commands synced by guild=%s user=%s", interaction.guild_id, interaction.user.id)
        await interaction.followup.send(f"Registered {count} commands.", ephemeral=True)

    @app_commands.command(name="adminrole")
    @app_commands.describe(role="Members with this role may use /kb (leave empty to clear)")
    async def adminrole(
        self, interaction: discord.Interaction[CitebotBot], role: discord.Role | None = None
    ) -> None:
        """Set or clear the role whose members may use /kb besides Manage Server."""
        assert interaction.guild_id is not None
        await self.bot.app.set_admin_role(interaction.guild_id, role.id if role else None)
        log.info(
            "admin role guild=%s user=%s role=%s",
            interaction.guild_id,
            interaction.user.id,
            role.id if role else None,
        )
        text = f"Members with {role.mention} may now use /kb." if role else "The admin role is cleared."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="cooldown")
    @app_commands.describe(seconds="Seconds a member waits between two questions (0: no limit)")
    async def cooldown(
        self, interaction: discord.Interaction[CitebotBot], seconds: app_commands.Range[float, 0, 3600]
    ) -> None:
        """Set this server's per-member question cooldown."""
        assert interaction.guild_id is not None
        await self.bot.app.set_cooldown(interaction.guild_id, seconds)
        await interaction.response.send_message(
            f"Members can ask a question every {seconds:g} seconds.", ephemeral=True
        )

    @channel.command(name="add")
    @app_commands.describe(channel="A channel where I answer every message")
    async def channel_add(
        self, interaction: discord.Interaction[CitebotBot], channel: discord.TextChannel
    ) -> None:
        """Answer every message in a channel."""
        assert interaction.guild_id is not None
        await self.bot.app.add_answer_channel(interaction.guild_id, channel.id)
        note = (
            ""
            if self.bot.settings.message_content_intent
            else ("\nNote: without the message content intent I only see messages that mention me.")
        )
        await interaction.response.send_message(
            f"I'll answer every message in {channel.mention}.{note}", ephemeral=True
        )

    @channel.command(name="remove")
    @app_commands.describe(channel="The channel to stop answering in")
    async def channel_remove(
        self, interaction: discord.Interaction[CitebotBot], channel: discord.TextChannel
    ) -> None:
        """Stop answering every message in a channel."""
        assert interaction.guild_id is not None
        removed = await self.bot.app.remove_answer_channel(interaction.guild_id, channel.id)
        text = (
            f"I no longer answer every message in {channel.mention}."
            if removed is not False
            else (f"{channel.mention} was not an answer channel.")
        )
        await interaction.response.send_message(text, ephemeral=True)

    @channel.command(name="list")
    async def channel_list(self, interaction: discord.Interaction[CitebotBot]) -> None:
        """The channels where I answer every message."""
        assert interaction.guild_id is not None
        channels = sorted((await self.bot.app.guild_settings(interaction.guild_id)).answer_channels)
        text = (
            ("Answer channels: " + ", ".join(f"<#{c}>" for c in channels))
            if channels
            else "No answer channels."
        )
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: CitebotBot) -> None:
    """Load the cog."""
    bot.add_dynamic_items(*REVIEW_ITEMS)
    await bot.add_cog(KnowledgeAdmin(bot))
