"""Settings read from the environment (prefix ``TQ_``); nothing is read at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"
DEV_ENCRYPTION_KEY = "dev-insecure-encryption-key-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TQ_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="sqlite:///./var/trainquant.db")
    secret_key: str = DEV_SECRET_KEY
    # Key material for connector credentials encrypted at rest (used from the integrations issue on).
    encryption_key: str = DEV_ENCRYPTION_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    # Server processes. SQLite still has one writer, but requests judge their batches in parallel
    # (see attendance/ingest.py); one per core is a good start.
    workers: int = Field(default=1, ge=1, le=64)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    default_timezone: str = "Asia/Shanghai"
    session_max_age_s: int = 8 * 3600
    cookie_secure: bool = False
    import_max_bytes: int = 20 * 1024 * 1024
    import_max_rows: int = 200_000
    events_max_bytes: int = 16 * 1024 * 1024
    # Rejected check-in records one sender (API key, user, terminal, importer) may store per hour; past
    # it they are answered "rejected-cap" and only counted. Above a busy terminal's honest bad hour
    # (unregistered PINs), far below what junk sends.
    rejected_per_source_per_hour: int = Field(default=5000, ge=0)
    sqlite_busy_timeout_ms: int = 15000
    page_size_max: int = 500

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "Settings":
        if self.env == "production":
            weak = [
                name
                for name, value, default in (
                    ("TQ_SECRET_KEY", self.secret_key, DEV_SECRET_KEY),
                    ("TQ_ENCRYPTION_KEY", self.encryption_key, DEV_ENCRYPTION_KEY),
                )
                if value == default or len(value) < 32
            ]
            if weak:
                raise ValueError(
                    f"{', '.join(weak)} must be set to a random value of at least 32 characters "
                    "when TQ_ENV=production"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return None if raw in ("", ":memory:") else Path(raw)


@lru_cache
def get_settings() -> Settings:
    return Settings()
