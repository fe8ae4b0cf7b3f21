"""Configuration read from the environment (prefix ``CONGVAN_``).

The server, the CLI and the tests all build their settings here, so one set of
environment variables configures every entry point.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONGVAN_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./var"),
        description="Holds the SQLite file, attachments and the generated secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/dbname",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens. When unset, one is generated once and kept in the data directory.",
    )
    timezone: str = "Asia/Ho_Chi_Minh"
    agency_name: str = Field(
        default="BỘ THÔNG TIN VÀ TRUYỀN THÔNG",
        description="The receiving agency, printed at the head of the processing slip.",
    )
    place_name: str = Field(
        default="Hà Nội", min_length=1,
        description="Where the agency sits, printed on the processing slip's dateline (\"Hà Nội, ngày 15 tháng 8 "
        "năm 2013\").",
    )
    max_upload_mb: int = Field(default=50, ge=1)
    token_ttl_minutes: int = Field(default=480, ge=1)
    slip_link_minutes: int = Field(
        default=10, ge=1, le=24 * 60, description="How long a link made by POST …/slip-link opens the printable "
        "slip without a bearer token (never longer than the token that made it).")
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords for one username within the login window before further "
        "attempts get 429 (the same for unknown usernames).")
    login_max_failures_per_client: int = Field(
        default=30, ge=1, description="Wrong passwords from one client address within the login window before "
        "its further attempts get 429 (offices share addresses behind NAT: keep it well above the per-user limit).")
    login_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    login_hash_threads: int = Field(
        default=2, ge=1, le=64, description="Password hashes computed at once per server process, on threads of "
        "their own, so that a flood of logins cannot take the threads that serve documents.")
    login_queue: int = Field(
        default=32, ge=1, description="Logins waiting for a hashing thread per server process before further "
        "ones get 503 with Retry-After.")
    db_pool_size: int = Field(default=10, ge=1)
    db_pre_ping: bool = Field(
        default=False,
        description="Ping every PostgreSQL connection the pool hands out (a round trip each). Off, a check of "
        "the idle socket catches connections the server closed; turn it on behind a firewall or load balancer "
        "that silently drops idle connections faster than TCP keepalives (30 s) refresh them.",
    )
    db_jit: bool = Field(
        default=False,
        description="PostgreSQL's JIT compilation for this app's statements. Off: its statements are short, and "
        "the planner's cost of a work list at a million documents set off 420-520 ms of compiling for a query "
        "of a few milliseconds (bench/results/console-pages-issue15.md).",
    )
    sqlite_busy_timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=600,
        description="SQLite: how long a request waits for the database file's write lock before it is "
        "answered 503 (database busy, Retry-After).",
    )
    exact_total_up_to: int = Field(
        default=10_000, ge=1, description="The document list counts its matches exactly up to this many; beyond "
        "it the total is an estimate (`total_is_estimate`), so that a search for common words answers at once.")
    console_exact_total_up_to: int = Field(
        default=200, ge=1, description="The console's document list counts up to this many and shows \"more "
        "than\" beyond: a person pages through the first hundreds, and counting further is most of the page's "
        "time for a common word.")
    worker_threads: int = Field(
        default=8,
        ge=1,
        description="Threads per server process for the API's blocking work (database calls). Fewer than "
        "Starlette's 40 contend less for the interpreter under load (see bench/README.md).",
    )

    organ_id: str = Field(
        default="000.00.00.G12",
        description="Our organisation id on the national document exchange (edXML OrganId, issued with the "
        "connection to the hub; set yours): messages not addressed to it are flagged, status messages are sent "
        "from it.",
    )
    organ_name: str | None = Field(default=None, description="Our name in status messages; default agency_name.")
    exchange_endpoint: str | None = Field(
        default=None,
        description="Where the worker POSTs status messages (the hub connector's URL); unset, they wait "
        "in the outbox.",
    )
    exchange_timeout_s: float = Field(default=10.0, gt=0, le=120)
    exchange_retry_base_s: float = Field(
        default=30.0, gt=0, description="First retry delay of a failed delivery; doubled each time, up to an hour.")
    exchange_max_mb: int = Field(default=50, ge=1, description="The largest edXML message taken in (413 above).")
    run_worker: bool = Field(
        default=True,
        description="`congvan serve` runs the background worker (outbox deliveries) in-process; set false "
        "when `congvan worker` runs separately.",
    )
    worker_poll_s: float = Field(default=2.0, gt=0, le=60)
    due_soon_days: int = Field(default=2, ge=0, le=30, description="Working days before a deadline that make "
                               "an assignment due soon (a due_soon notice, a digest line)")
    digest_at: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                           description="Local time of the working day's reminder scan and digests")
    smtp_url: SecretStr | None = Field(
        default=None, description="smtp://user:password@host:587?starttls=true or smtps://…:465; unset: no digests")
    mail_from: str = Field(default="congvan@localhost", description="The digests' From address")
    console_url: str = Field(default="http://127.0.0.1:8000/console", description="Base of the links in digests")
    webhook_allow_private: bool = Field(
        default=False, description="Allow webhook targets on private, loopback or link-local addresses")
    trust_dir: Path | None = Field(
        default=None, description="Root and intermediate certificates (PEM/DER) that PDF signatures are checked "
        "against; default <data dir>/trust. `congvan trust add FILE` puts one there.")
    trust_fetch: bool = Field(
        default=False, description="Fetch missing intermediates and revocation data (OCSP/CRL) over the network "
        "when verifying signatures; off, revocation is not checked and each result says so.")
    verify_inline_max_mb: float = Field(
        default=5.0, ge=0, description="PDFs up to this size are verified while they are stored; larger ones by "
        "the worker (the upload answers at once, the result follows).")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'congvan.db').resolve()}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def resolved_trust_dir(self) -> Path:
        return self.trust_dir or self.data_dir / "trust"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def signing_key(self) -> str:
        """The token signing key: configured, or generated once and kept (mode 0600) in the data dir.

        Keeping it on disk means tokens survive a restart and several server processes on
        the same data directory agree on it, without anyone committing a secret. Read once
        per process (every request checks a token); a new key takes a restart.
        """
        return self._signing_key

    @cached_property
    def _signing_key(self) -> str:
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            pass
        key = secrets.token_urlsafe(48)
        # Write aside, then link into place: link() fails if another process won the race,
        # and a reader never sees a half-written file.
        tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        try:
            os.link(tmp, path)
        except FileExistsError:
            key = path.read_text().strip()
        finally:
            tmp.unlink()
        return key


def get_settings() -> Settings:
    return Settings()
