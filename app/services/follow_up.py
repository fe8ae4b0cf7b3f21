"""The working day's follow-up (đôn đốc): one reminder scan a day, then one digest e-mail per user.

At or after ``CONGVAN_DIGEST_AT`` (local time) on a working day, the first worker to get there
runs the day's scan in one transaction: the ``reminder_scans`` row for the day, the due-soon and
overdue notices (app.services.notifications), their webhook events and a pending digest for
every user with something due who has an e-mail address. Another worker, or this one after a
restart, finds the day's row and does nothing: the day is scanned once. On a weekend or a
holiday (app.workflow.calendar) there is no scan and no digest.

Digests are then sent by whichever worker claims them (a lease, as for the other queues). A digest
is marked sent only after the SMTP server accepted it; a worker dying between the two would
send it again once its lease ran out, so the lease (10 minutes) is far longer than a send.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import Digest, ReminderScan, User
from app.services import leases, notifications, webhooks
from app.services.calendar import load_calendar

LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class FollowUpConfig:
    tz: ZoneInfo
    due_soon_days: int = 2
    digest_at: time = time(7, 30)
    smtp_url: str | None = None
    mail_from: str = "congvan@localhost"
    console_url: str = "http://127.0.0.1:8000/console"


def run_daily_scan(factory: sessionmaker[Session], config: FollowUpConfig, *, now: datetime) -> int | None:
    """The day's scan if it is due and not yet done; returns the reminders found, None if nothing ran."""
    local = now.astimezone(config.tz)
    if local.time() < config.digest_at:
        return None
    day = local.date()
    with factory() as session:
        if session.get(ReminderScan, day) is not None or not load_calendar(session=session).is_working_day(day):
            return None
        try:
            session.add(ReminderScan(day=day, ran_at=now, reminders=0))
            session.flush()
        except IntegrityError:  # another worker scanned the day a moment ago
            session.rollback()
            return None
        found = notifications.scan(session=session, now=now, tz=config.tz, due_soon_days=config.due_soon_days)
        for kind in ("due_soon", "overdue"):
            webhooks.emit_many(session=session, event_type=f"assignment.{kind}", now=now, events=[
                (r.document_id, {"document_id": r.document_id, "arrival_number": r.arrival_number, "symbol": r.symbol,
                                 "assignment_id": r.assignment_id, "unit_name": r.unit_name,
                                 "due_date": r.deadline.isoformat()})
                for r in found if r.kind == kind])
        counts: dict[int, int] = {}
        for reminder in found:
            for user_id in reminder.recipients:
                counts[user_id] = counts.get(user_id, 0) + 1
        with_mail = set(session.scalars(select(User.id).where(User.id.in_(sorted(counts)), User.email.is_not(None),
                                                             User.is_active.is_(True))))
        session.add_all(Digest(user_id=user_id, day=day, state="pending", attempts=0, items=counts[user_id])
                        for user_id in sorted(with_mail))
        session.get(ReminderScan, day).reminders = len(found)
        session.commit()
    return len(found)


def _claim(session: Session, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    return leases.claim(session, Digest, now=now, lease=LEASE, limit=limit)


def send_digests(factory: sessionmaker[Session], config: FollowUpConfig, *, now: datetime, limit: int = 50) -> int:
    """Send the pending digests this worker claims; returns how many were sent."""
    if not config.smtp_url:
        return 0
    with factory() as session:
        claimed = _claim(session, now, limit)
        if not claimed:
            return 0
        days = {d.day for d in session.scalars(select(Digest).where(Digest.id.in_([c[0] for c in claimed])))}
        found = {day: notifications.reminders(session, today=day, due_soon_days=config.due_soon_days) for day in days}
    sent = 0
    for digest_id, lease in claimed:
        with factory() as session:
            digest = session.get(Digest, digest_id)
            user = session.get(User, digest.user_id)
            mine = [r for r in found[digest.day] if user.id in r.recipients]
            try:
                _send(config, _message(config, user, digest.day, mine))
                error = None
            except (OSError, smtplib.SMTPException, UnicodeEncodeError) as exc:  # (smtplib logs in in ASCII only)
                error = f"{type(exc).__name__}: {exc}"[:500]
            if digest.claimed_until != lease:
                continue
            digest.attempts += 1
            digest.claimed_until = None
            if error is None:
                digest.state, digest.sent_at, digest.items = "sent", now, len(mine)
                sent += 1
            else:
                digest.last_error = error
                if digest.attempts >= 5:
                    digest.state = "failed"
                else:
                    digest.claimed_until = now + timedelta(minutes=5 * digest.attempts)  # a pause before the retry
            session.commit()
    return sent


def _message(config: FollowUpConfig, user: User, day, items: list[notifications.Reminder]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[congvan] Văn bản sắp đến hạn và quá hạn – ngày {day:%d/%m/%Y}"
    message["From"] = config.mail_from
    message["To"] = user.email
    overdue = [r for r in items if r.kind == "overdue"]
    soon = [r for r in items if r.kind == "due_soon"]

    def lines(group: list[notifications.Reminder]) -> list[str]:
        return [f"- {r.symbol} (số đến {r.arrival_number}), hạn {r.deadline:%d/%m/%Y}, {r.unit_name}: "
                f"{r.summary[:150]}\n  {config.console_url.rstrip('/')}/documents/{r.document_id}"
                for r in sorted(group, key=lambda r: (r.deadline, r.arrival_number))]

    body = [f"Kính gửi đồng chí {user.full_name},", "",
            f"Tình hình văn bản đến cần xử lý ngày {day:%d/%m/%Y}:", "",
            f"Quá hạn ({len(overdue)}):", *(lines(overdue) or ["- Không có"]), "",
            f"Sắp đến hạn ({len(soon)}):", *(lines(soon) or ["- Không có"]), "",
            "Thư này do hệ thống quản lý văn bản đến congvan gửi tự động."]
    message.set_content("\n".join(body))
    return message


def _send(config: FollowUpConfig, message: EmailMessage) -> None:
    """Over ``smtp://host:port`` (``?starttls=true`` to upgrade), ``smtps://`` (TLS from the
    start), with ``user:password@`` when the server wants a login."""
    url = urlsplit(config.smtp_url)
    options = parse_qs(url.query)
    context = ssl.create_default_context()
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname, url.port or 465, timeout=15, context=context)
    else:
        client = smtplib.SMTP(url.hostname, url.port or 25, timeout=15)
    with client:
        if url.scheme != "smtps" and options.get("starttls", ["false"])[0] == "true":
            client.starttls(context=context)
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
