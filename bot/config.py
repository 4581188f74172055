"""Settings, read once from the environment and `.env` at start and passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.documents import MAX_DOCUMENT_BYTES
from bot.core.service import MINIMUM_CONFIDENCE

__all__ = ["Settings"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class Settings(BaseSettings):
    """Every setting citebot reads; `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    knowledge_dir: Path = Path("knowledge")
    # Where `ask`, `chat` and `check` keep a knowledge folder prepared once per content (see
    # bot.storage.folder_cache); unset: $XDG_CACHE_HOME/citebot or ~/.cache/citebot.
    cache_dir: Path | None = None
    database_path: Path = Path("data/citebot.sqlite3")
    # The calibrated probability below which the bot declines (see bot.core.service).
    minimum_confidence: float = Field(default=MINIMUM_CONFIDENCE, ge=0.0, le=1.0)
    max_question_chars: int = Field(default=500, ge=1, le=4000)
    # The largest knowledge file read, in bytes (see bot.core.documents.MAX_DOCUMENT_BYTES).
    max_document_bytes: int = Field(default=MAX_DOCUMENT_BYTES, ge=1_000)
    # `kb add URL` and `kb refresh` (see bot.runtime.fetching): how long one fetch may take in all
    # (30 s: a slow page loads well within it, a stalled server holds the command no longer),
    # and whether links may lead to private, loopback and link-local addresses.
    fetch_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    allow_private_urls: bool = False
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

    # Telegram front (`python -m bot telegram`); `.env.example` explains each one.
    telegram_token: SecretStr | None = None
    # Where the Bot API is; requests go to {base}/bot{token}/{method}. Tests point it at a loopback fake.
    telegram_api_base: str = "https://api.telegram.org"
    # User ids allowed the admin commands, comma-separated (a group's admins are not citebot admins).
    telegram_admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # Set: Telegram pushes updates to this https URL (webhook mode); unset: long polling.
    telegram_webhook_url: str | None = None
    # Telegram sends it back with every update; empty: a new random one at each start.
    telegram_webhook_secret: SecretStr | None = None
    # Where the webhook server listens (behind the proxy that serves TELEGRAM_WEBHOOK_URL).
    telegram_webhook_host: str = "0.0.0.0"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_dir(cls, value: object) -> object:
        # CACHE_DIR= (empty, as .env.example writes it) means the default, not the current folder.
        if isinstance(value, str):
            return Path(value).expanduser() if value.strip() else None
        return value

    @field_validator("telegram_admin_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        ids: set[int] = set()
        for part in value.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.lstrip("-").isdigit():
                raise ValueError(f"TELEGRAM_ADMIN_IDS holds {part!r}, not a numeric Telegram user id")
            ids.add(int(part))
        return frozenset(ids)

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1 to 256 of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is None:
            return None
        parts = urlsplit(value)
        # Telegram posts only to https; plain http is allowed on loopback, for tests.
        if not parts.hostname or not (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
        ):
            raise ValueError("TELEGRAM_WEBHOOK_URL must be the https:// address Telegram posts updates to")
        return value
