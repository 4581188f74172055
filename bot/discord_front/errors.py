"""The Discord front's one error handler: what the member is told, what the log says.

Every failure of a command, button, answer or message event ends here. Members get one short,
polite reply (never a traceback); the log gets the exception with the ids needed to find it. An
interaction Discord no longer knows (the 3 s window passed) gets one log line and no second
reply: that reply would be late too.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import aiohttp
import discord
from discord import app_commands

from bot.core.errors import CitebotError
from bot.discord_front.delivery import UNKNOWN_INTERACTION

__all__ = [
    "APOLOGY",
    "UNAVAILABLE",
    "NotAdmin",
    "interaction_ids",
    "is_missed_interaction",
    "report_event_error",
    "report_interaction_error",
    "report_message_error",
]

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. Please try again in a moment."
UNAVAILABLE = "That command isn't available right now. Please try again in a minute."
MESSAGE_LIMIT = 1900


class NotAdmin(app_commands.CheckFailure):
    """The member may not use the admin commands."""


def interaction_ids(interaction: discord.Interaction[Any]) -> str:
    """Where an interaction came from, for the log (user ids, never tokens)."""
    command = (
        interaction.command.qualified_name
        if interaction.command
        else interaction.data and interaction.data.get("custom_id")
    )
    where = f"guild={interaction.guild_id} channel={interaction.channel_id}"
    return f"command={command} {where} user={interaction.user.id}"


def message_ids(message: discord.Message) -> str:
    """Where a message came from, for the log."""
    guild = message.guild.id if message.guild else None
    return f"guild={guild} channel={message.channel.id} user={message.author.id}"


def is_missed_interaction(error: BaseException) -> bool:
    """Whether Discord answered "Unknown interaction": the acknowledgement came too late."""
    original = getattr(error, "original", error)
    return isinstance(original, discord.NotFound) and original.code == UNKNOWN_INTERACTION


def _reply_text(error: BaseException, ids: str) -> str:
    """What the member is told about ``error``; logs it at the level it deserves."""
    original = getattr(error, "original", error)
    if isinstance(error, NotAdmin):
        log.warning("refused admin command %s", ids)
        return str(error)
    if isinstance(error, app_commands.CommandNotFound):
        # Discord still lists a command this bot no longer has, or the bot is closing and has
        # let its commands go: neither is a fault of the member's or a bug of ours.
        log.warning("no command %r %s: closing, or Discord lists a removed command", error.name, ids)
        return UNAVAILABLE
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Please wait {error.retry_after:.0f} seconds before trying that again."
    if isinstance(error, app_commands.CheckFailure):
        log.warning("check failed %s: %s", ids, error)
        return "Sorry, you can't use that here."
    if isinstance(original, CitebotError):
        log.warning("refused %s: %s", ids, original)
        return str(original)[:MESSAGE_LIMIT]
    log.error("error in %s", ids, exc_info=original)
    return APOLOGY


async def report_interaction_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """One polite, private reply to the member; the details to the log."""
    ids = interaction_ids(interaction)
    if is_missed_interaction(error):
        log.warning("interaction expired before it was acknowledged; no reply sent %s", ids)
        return
    text = _reply_text(error, ids)
    if interaction.client.is_closed():
        log.warning("shutting down: no error reply sent, the connection is closed %s", ids)
        return
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not send the error reply (HTTP %s) %s", exc.status, ids)
    except (aiohttp.ClientError, OSError) as exc:  # the connection went away: a shutdown, a network fault
        log.warning("could not send the error reply (%s) %s", type(exc).__name__, ids)


async def report_message_error(message: discord.Message, error: BaseException, why: str) -> None:
    """One apology in reply to the message; the exception with ids to the log."""
    log.error("error answering %s %s", why, message_ids(message), exc_info=error)
    with contextlib.suppress(discord.HTTPException):
        await message.reply(APOLOGY, mention_author=False)


def report_event_error(event_method: str, args: tuple[Any, ...]) -> None:
    """An error outside interactions and answers (gateway events): logged with ids, never raised."""
    ids = ""
    for arg in args:
        if isinstance(arg, discord.Message):
            ids = " " + message_ids(arg)
    log.exception("error in %s%s", event_method, ids)
