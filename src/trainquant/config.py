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
    sqlite_busy_timeout_ms: int = 15000
    page_size_max: int = 500
    # How often a server process's threads take turns with the GIL (Python's default: 5 ms). Pages and
    # GET routes wait that long after every query while a check-in batch is judged in the same process.
    switch_interval_ms: float = Field(default=0.5, gt=0, le=100)
    # Background jobs (trainquant/jobs): where huey keeps its queue. Empty: a SQLite file beside a SQLite
    # database (var/jobs.db), or huey's own tables in a PostgreSQL database; or redis://host:6379/0.
    jobs_url: str = ""
    # Run a job consumer (threads) inside `serve`; set false where `trainquant worker` processes run.
    jobs_embedded: bool = True
    jobs_workers: int = Field(default=2, ge=1, le=32)
    # Figures after answered check-in batches wait for this much quiet (at most the delay), so a burst
    # of batches is recomputed once.
    drain_quiet_s: float = Field(default=0.3, ge=0, le=60)
    drain_max_delay_s: float = Field(default=10.0, ge=0, le=600)
    # Backups (`trainquant backup`, and the nightly job at backup_hour local time when backup_keep > 0).
    backup_dir: str = ""  # empty: backups/ in the instance folder
    backup_keep: int = Field(default=7, ge=0, le=3650)
    backup_hour: int = Field(default=2, ge=0, le=23)

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

    def instance_dir(self) -> Path:
        """The folder of the instance's own files (the SQLite database, the job queue, backups): the
        SQLite database's folder, else ``var/``."""
        path = self.sqlite_path()
        return path.parent if path is not None else Path("var")

    def backups_dir(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.instance_dir() / "backups"

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return None if raw in ("", ":memory:") else Path(raw)


@lru_cache
def get_settings() -> Settings:
    return Settings()
