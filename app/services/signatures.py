"""Signature results for stored PDFs: checked when stored (small files) or by the worker (large
ones), re-checked on request, looked up when attachments are shown.

Verification itself is ``app.signatures.verify``; this module decides when it runs and keeps the
result (``SignatureCheck``, one row per file's bytes). A file of at most ``inline_max_bytes`` is
verified before the upload answers, outside the upload's transaction (measured: a one-page or a
100-page text file in about 8 ms, bench/README.md); a larger one gets a ``pending`` row that the
worker claims with a lease, so the upload answers at once and
several workers never verify one file together. A result checked against another trust set than
today's is checked again when the file is next stored or asked for.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.models import SignatureCheck
from app.models.base import utcnow
from app.services import leases
from app.services.attachments import blob_path
from app.signatures.trust import TrustStore
from app.signatures.verify import Verdict, verify_pdf

PDF = "application/pdf"
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Verification:
    """How this process verifies: the trust store, network fetching, the inline limit, the blobs."""

    store: TrustStore
    root: Path
    inline_max_bytes: int = 5 * 1024 * 1024
    allow_fetching: bool = False

    def verify(self, sha256: str) -> tuple[Verdict, str]:
        trust = self.store.current()
        return verify_pdf(blob_path(self.root, sha256), trust, allow_fetching=self.allow_fetching), trust.fingerprint


def verification_for(settings: Settings) -> Verification:
    return Verification(store=TrustStore(settings.resolved_trust_dir), root=settings.attachments_dir,
                        inline_max_bytes=int(settings.verify_inline_max_mb * 1024 * 1024),
                        allow_fetching=settings.trust_fetch)


def _row(session: Session, sha256: str) -> SignatureCheck | None:
    return session.scalar(select(SignatureCheck).where(SignatureCheck.sha256 == sha256))


def _record(check: SignatureCheck, verdict: Verdict, fingerprint: str, now: datetime) -> None:
    check.state, check.status, check.message = "done", verdict.status, verdict.message
    check.signatures = [s.as_json() for s in verdict.signatures]
    check.trust_fingerprint, check.checked_at, check.claimed_until = fingerprint, now, None


def request(*, session: Session, verification: Verification, sha256: str, content_type: str,
            now: datetime) -> SignatureCheck | None:
    """A PDF just stored: its result row, ``pending`` when it is new or was checked against
    another trust set than today's. Nothing for another type of file. Verifies nothing: the
    caller commits, then ``verify_inline`` checks a small file outside any transaction (on
    SQLite a write transaction holds the database's one write lock; a verification must not)."""
    if content_type != PDF:
        return None
    check = _row(session, sha256)
    if check is not None and (check.state == "pending" or check.trust_fingerprint == verification.store.current().fingerprint):
        return check
    if check is None:
        check = SignatureCheck(sha256=sha256, state="pending", signatures=[], requested_at=now)
        try:
            with session.begin_nested():
                session.add(check)
                session.flush()
        except IntegrityError:  # the same bytes stored by a concurrent request
            return _row(session, sha256)
    else:
        check.state = "pending"
    return check


def verify_inline(*, session: Session, verification: Verification, check: SignatureCheck | None, size: int,
                  now: datetime) -> SignatureCheck | None:
    """Verify a pending file of at most ``inline_max_bytes`` now, then record the result (flushed,
    for the caller to commit); a larger one stays pending for the worker. Call it with no
    transaction open: the verification itself touches no database."""
    if check is None or check.state != "pending" or size > verification.inline_max_bytes:
        return check
    verdict, fingerprint = verification.verify(check.sha256)
    _record(check, verdict, fingerprint, now)
    session.flush()
    return check


def reverify(*, session: Session, verification: Verification, sha256: str, now: datetime) -> SignatureCheck:
    """Check the file again now (after the trust set changed, say), whatever its size."""
    check = _row(session, sha256)
    if check is None:
        check = SignatureCheck(sha256=sha256, state="pending", signatures=[], requested_at=now)
        session.add(check)
    verdict, fingerprint = verification.verify(sha256)
    _record(check, verdict, fingerprint, now)
    session.flush()
    return check


def results_for(session: Session, sha256s: Collection[str]) -> dict[str, SignatureCheck]:
    wanted = sorted(set(sha256s))
    if not wanted:
        return {}
    return {c.sha256: c for c in session.scalars(select(SignatureCheck).where(SignatureCheck.sha256.in_(wanted)))}


def verify_pending(factory: sessionmaker[Session], verification: Verification, *, now: datetime | None = None,
                   limit: int = 10) -> int:
    """The worker's pass: claim pending files under a lease, verify each outside any
    transaction, record the result if the lease is still ours. Returns how many were checked."""
    now = now or utcnow()
    with factory() as session:
        claimed = [(check_id, lease, session.get(SignatureCheck, check_id).sha256)
                   for check_id, lease in leases.claim(session, SignatureCheck, now=now, lease=LEASE, limit=limit)]
    for check_id, lease, sha256 in claimed:
        verdict, fingerprint = verification.verify(sha256)
        with factory() as session:
            check = session.get(SignatureCheck, check_id)
            if check is not None and check.claimed_until == lease:
                _record(check, verdict, fingerprint, utcnow())
                session.commit()
    return len(claimed)
