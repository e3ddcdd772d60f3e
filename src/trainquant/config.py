"""Settings read from the environment (prefix ``TQ_``); nothing is read at import time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trainquant.analytics.terms import DEFAULT_SPEC
from trainquant.instance import (
    ENCRYPTION_KEY_NAME,
    MIN_SECRET_KEY_LENGTH,
    SECRET_KEY_NAME,
    is_fernet_key,
    load_or_create_secrets,
    new_encryption_key,
    new_secret_key,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TQ_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="sqlite:///./var/trainquant.db")
    # The instance's own files (generated secrets, the job queue of a SQLite installation, its consumer
    # lock, backups). Unset: the SQLite database's folder (var/ by default), else ./var.
    instance_dir: Path | None = None
    # Signs session cookies and QR check-in tokens. There is no built-in value: production needs it
    # configured; development generates one into the instance folder; tests get an ephemeral one.
    secret_key: str = Field(default="", repr=False)
    # A Fernet key (32 url-safe-base64 bytes) for connector credentials encrypted at rest; found like secret_key.
    encryption_key: str = Field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    # The address people open (e.g. https://train.school.cn/). It names this school's accounts in xAPI
    # statements (actor.account.homePage), so it must stay the same once learners have statements.
    # Unset: http://<host>:<port>/.
    public_url: str = ""
    # Server processes. SQLite still has one writer, but requests judge their batches in parallel
    # (see attendance/ingest.py); one per core is a good start.
    workers: int = Field(default=1, ge=1, le=64)
    # uvicorn kills a worker process that does not answer its health check within this many seconds.
    # A worker answers only once its interpreter has started and imported the CLI, which on a busy
    # 2-core machine takes longer than uvicorn's default of 5 s: the workers were killed and started
    # again in a loop, and the others carried the whole load.
    worker_healthcheck_s: int = Field(default=60, ge=5, le=3600)
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    default_timezone: str = "Asia/Shanghai"
    session_max_age_s: int = 8 * 3600
    cookie_secure: bool = False
    import_max_bytes: int = 20 * 1024 * 1024
    # The course player asks "are you still there?" and pauses after this long without input; what
    # played since the last input is not counted (learning/video.py).
    learning_idle_minutes: float = Field(default=5.0, gt=0, le=120)
    # The largest course video HR may upload.
    media_max_bytes: int = Field(default=2 * 1024 * 1024 * 1024, gt=0)
    import_max_rows: int = 200_000
    events_max_bytes: int = 16 * 1024 * 1024
    # Rejected check-in records one sender (API key, user, terminal, importer) may store per hour; past
    # it they are answered "rejected-cap" and only counted. Above a busy terminal's honest bad hour
    # (unregistered PINs), far below what junk sends.
    rejected_per_source_per_hour: int = Field(default=5000, ge=0)
    # Platform check-in exports (WeCom, DingTalk, Feishu): what the school does with each of the
    # platform's own verdicts on a punch, as {"<platform>.<field>.<value>": "reject" | "review" |
    # "accept"} over the defaults in attendance/platforms/rules.py (VERDICT_POLICY); "review" opens a
    # proxy-review case for HR. And which punches belong to a session: those from this many minutes
    # before its start to this many after its end; a second tap this many seconds after the first is one punch.
    platform_verdict_policy: dict[str, Literal["reject", "review", "accept"]] = Field(default_factory=dict)
    platform_window_before_min: int = Field(default=20, ge=0, le=240)
    platform_window_after_min: int = Field(default=60, ge=0, le=240)
    platform_double_tap_s: int = Field(default=60, ge=0, le=600)
    # After a connector's webhook secret is rotated, the previous one still verifies this many hours.
    webhook_rotation_grace_h: int = Field(default=24, ge=0, le=24 * 30)
    # Scheduled pulls from the systems' REST APIs: a failed request (429, 5xx, timeout) is tried again
    # this many times, after an exponential backoff from pull_backoff_s (or the Retry-After asked for),
    # never waiting longer than pull_max_wait_s at once; a run holds its source for pull_lease_s after
    # each commit, after which a run whose process died is taken over and resumed. Pages are committed
    # together (their records and the next page's position in one transaction) until they hold
    # pull_commit_records records: a commit per small page costs more than storing its records.
    pull_retries: int = Field(default=5, ge=0, le=20)
    pull_backoff_s: float = Field(default=1.0, ge=0, le=60)
    pull_max_wait_s: float = Field(default=120.0, ge=0, le=3600)
    pull_lease_s: int = Field(default=300, ge=5, le=3600)
    pull_commit_records: int = Field(default=20_000, ge=1, le=200_000)
    # Events going out to subscribed systems: a failed delivery is tried again after a backoff from
    # outbox_backoff_s, doubling up to outbox_backoff_max_s, outbox_max_attempts times in all (the
    # defaults: about a day and a half), each post waiting outbox_timeout_s for an answer.
    # Conversion factors of the ROI report over the defaults in analytics/roi/rules.py (DEFAULT_FACTORS),
    # each {"value": ..., "source": "...", "version": "..."}: e.g. revenue_per_retained_student.
    roi_factors: dict[str, dict[str, str | float | int]] = Field(default_factory=dict)
    # Ratings ("excellent", ...) over the defaults in analytics/roi/rules.py: the lowest figure of each
    # band, per scale: "roi" (ROI %) and "gain" (a person's isolated gain over what they would have had, %).
    rating_bands: dict[str, dict[str, float]] = Field(default_factory=dict)
    # The school's terms, as the reports' term filter offers them: "key:MM-DD" starts in the order of the
    # year, the first on 01-01 (analytics/terms.py). Keys the catalogue names: winter (寒假班), spring
    # (春季班), summer (暑期班), autumn (秋季班); another key is shown as written.
    school_terms: str = DEFAULT_SPEC
    # `trainquant demo` serves the simulated teaching platform, CRM and OA on this port and the next two.
    demo_systems_port: int = Field(default=8711, ge=1024, le=65533)
    outbox_max_attempts: int = Field(default=12, ge=1, le=100)
    outbox_backoff_s: float = Field(default=30.0, ge=0, le=3600)
    outbox_backoff_max_s: float = Field(default=6 * 3600.0, ge=0, le=7 * 24 * 3600)
    outbox_timeout_s: float = Field(default=10.0, gt=0, le=120)
    sqlite_busy_timeout_ms: int = 15000
    page_size_max: int = 500
    # How often a server process's threads take turns with the GIL (Python's default: 5 ms). Pages and
    # GET routes wait that long after every query while a check-in batch is judged in the same process.
    switch_interval_ms: float = Field(default=0.5, gt=0, le=100)
    # How much lower (nice) bulk work runs than reads: judging check-in batches and recomputing figures
    # (trainquant/bulk.py). 0 runs them at the readers' priority.
    bulk_nice: int = Field(default=10, ge=0, le=19)
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
    # Refused log-ins are kept this long for review, then the nightly housekeeping deletes them.
    login_failures_keep_days: int = Field(default=365, ge=1, le=3650)
    # Where login throttling counts failures: "database" (this application's database, shared by every
    # server process) or a ``limits`` storage URI such as redis://host:6379 or memory:// (one process only).
    rate_limit_storage: str = "database"
    # Failed log-ins allowed per account (the name typed) and per client address, in stacked windows
    # (``limits`` notation): past each, the wait grows to the end of a longer window.
    login_limits_per_account: str = "5/minute;10/15 minutes;20/hour;50/day"
    # Higher: a school's staff often share one address behind a NAT.
    login_limits_per_address: str = "20/minute;100/hour;500/day"

    @field_validator("login_limits_per_account", "login_limits_per_address")
    @classmethod
    def _limits_parse(cls, value: str) -> str:
        from limits import parse_many

        parse_many(value)  # raises ValueError naming what it could not read
        return value

    @field_validator("school_terms")
    @classmethod
    def _terms_parse(cls, value: str) -> str:
        from trainquant.analytics.terms import parse

        parse(value)  # raises a ValueError saying what is wrong
        return value

    @field_validator("platform_verdict_policy")
    @classmethod
    def _policy_keys(cls, value: dict[str, str]) -> dict[str, str]:
        from trainquant.attendance.platforms.rules import policy_key_problem

        problems = [p for key in value if (p := policy_key_problem(key))]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _resolve_secrets(self) -> Settings:
        # Configured values win; what is missing comes from the instance folder (development) or is
        # made up for this process (tests). Production never invents a key: it refuses to start.
        missing = [name for name, value in ((SECRET_KEY_NAME, self.secret_key), (ENCRYPTION_KEY_NAME, self.encryption_key)) if not value]
        if missing and self.env == "production":
            raise ValueError(
                f"{', '.join(missing)} must be configured when TQ_ENV=production: TQ_SECRET_KEY a random value of at "
                f"least {MIN_SECRET_KEY_LENGTH} characters, TQ_ENCRYPTION_KEY a Fernet key "
                "(python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
            )
        if missing and self.env == "test":
            self.secret_key = self.secret_key or new_secret_key()
            self.encryption_key = self.encryption_key or new_encryption_key()
        elif missing:
            generated = load_or_create_secrets(self.instance_folder())
            self.secret_key = self.secret_key or generated.secret_key
            self.encryption_key = self.encryption_key or generated.encryption_key
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"{SECRET_KEY_NAME} must have at least {MIN_SECRET_KEY_LENGTH} characters")
        if not is_fernet_key(self.encryption_key):
            raise ValueError(f"{ENCRYPTION_KEY_NAME} must be a Fernet key: 32 random bytes in url-safe base64 (44 characters)")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def home_page(self) -> str:
        """The homePage of this school's xAPI accounts (see ``public_url``)."""
        url = self.public_url or f"http://{self.host}:{self.port}/"
        return url if url.endswith("/") else url + "/"

    def instance_folder(self) -> Path:
        """``instance_dir`` when set, else the SQLite database's folder, else ``var/``."""
        if self.instance_dir is not None:
            return self.instance_dir
        path = self.sqlite_path()
        return path.parent if path is not None else Path("var")

    def backups_dir(self) -> Path:
        return Path(self.backup_dir) if self.backup_dir else self.instance_folder() / "backups"

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        raw = self.database_url.split("///", 1)[1] if "///" in self.database_url else ""
        return None if raw in ("", ":memory:") else Path(raw)


@lru_cache
def get_settings() -> Settings:
    return Settings()
