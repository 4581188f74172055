"""Settings, read once from the environment and `.env` at start and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.service import MINIMUM_CONFIDENCE

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Every setting citebot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    knowledge_dir: Path = Path("knowledge")
    database_path: Path = Path("data/citebot.sqlite3")
    # The calibrated probability below which the bot declines (see bot.core.service).
    minimum_confidence: float = Field(default=MINIMUM_CONFIDENCE, ge=0.0, le=1.0)
    max_question_chars: int = Field(default=500, ge=1, le=4000)
    log_level: str = "INFO"

    # Store (`bot.storage`); `.env.example` explains each one.
    database_timeout_seconds: float = Field(default=5.0, ge=0.0)
    # Key of the keyed hash that pseudonymises user ids; empty: generated once and kept in the database.
    user_id_key: SecretStr = SecretStr("")
    question_retention_days: int = Field(default=90, ge=1)
    log_questions: bool = False

    # Discord front (`python -m bot discord`); `.env.example` explains each one.
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = None
    message_content_intent: bool = False
    cooldown_seconds: float = Field(default=5.0, ge=0.0)
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    # A file the bot touches every 30 s while connected; Docker's HEALTHCHECK reads its age.
    health_file: Path | None = None
    # How often the health file is written; the check allows three intervals of 30 s at most.
    health_interval_seconds: float = Field(default=30.0, gt=0.0, le=30.0)
    # For tests only: point discord.py at a loopback fake Discord API instead of discord.com.
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
