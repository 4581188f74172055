"""Per-guild settings of the Discord front, read once and kept in memory.

Every message in a guild consults them (answer channels, cooldown), so they are not read from
SQLite each time. The bot is the only writer (its admin commands), and writes go through here:
the database first, then the cache, so a failed write leaves both as they were.
"""

from __future__ import annotations

from bot.storage import GuildSettings, Store

__all__ = ["GuildSettingsCache"]


class GuildSettingsCache:
    """Guild settings with write-through caching."""

    def __init__(self, store: Store, default_cooldown: float) -> None:
        self._store = store
        self._default_cooldown = default_cooldown
        self._cache: dict[int, GuildSettings] = {}

    async def get(self, guild_id: int) -> GuildSettings:
        """The settings of a guild (defaults when it has none)."""
        cached = self._cache.get(guild_id)
        if cached is None:
            cached = await self._store.guild_settings(guild_id, default_cooldown=self._default_cooldown)
            self._cache[guild_id] = cached
        return cached

    async def _reread(self, guild_id: int) -> None:
        self._cache.pop(guild_id, None)
        await self.get(guild_id)

    async def add_answer_channel(self, guild_id: int, channel_id: int) -> None:
        """Treat every message in the channel as a question."""
        await self._store.add_answer_channel(guild_id, channel_id)
        await self._reread(guild_id)

    async def remove_answer_channel(self, guild_id: int, channel_id: int) -> bool:
        """Stop treating the channel as an answer channel; False if it was not one."""
        removed = await self._store.remove_answer_channel(guild_id, channel_id)
        await self._reread(guild_id)
        return removed

    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        """Set (None: clear) the role that may manage the bot in the guild."""
        await self._store.set_admin_role(guild_id, role_id)
        await self._reread(guild_id)

    async def set_cooldown(self, guild_id: int, seconds: float) -> None:
        """Set the per-user cooldown between questions in the guild; raises ValueError if negative."""
        if seconds < 0:
            raise ValueError("cooldown seconds must not be negative")
        await self._store.set_cooldown(guild_id, seconds)
        await self._reread(guild_id)
