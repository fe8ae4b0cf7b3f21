"""A generated mix of documents shared by the parity tests of this package (built once, read only).

``congvan generate``'s simulation over two years ending today: every state, returns, recalls
(before and after resolution), extensions of documents and of assignments, deadlines on the units
only, proposals with and without a named leader, confidential documents in their own register,
and the calendar's public holidays plus an admin's day off and swapped working Saturday.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from app.db import make_sessionmaker
from app.models import User
from app.services import calendar as calendar_service
from app.services import organisation as org
from app.services.audit.scope import AuditPeriod
from app.services.generator import generate
from tests.conftest import empty_document_tables

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DOCUMENTS = 2500


@dataclass(frozen=True)
class Generated:
    now: datetime
    today: date
    period: AuditPeriod  # every generated document
    usernames: list[str]  # every user: the tests' staff and the generator's


@pytest.fixture(autouse=True)
def _clean_documents() -> None:
    """This package reads one generated database; the fixture below empties it first."""


@pytest.fixture(scope="package")
def generated(engine: Engine, staff: dict[str, str]) -> Iterator[Generated]:
    now = datetime.now(UTC)
    today = now.astimezone(HCM).date()
    start = today - timedelta(days=730)
    empty_document_tables(engine)
    with make_sessionmaker(engine)() as session:
        admin = org.get_user(session=session, username="admin")
        # An admin's word on the calendar: a weekday off and a Saturday worked, a year ago.
        day_off = today - timedelta(days=365 + today.weekday() - 2)  # a Wednesday
        calendar_service.set_override(session=session, day=day_off, kind="day_off", name="Nghỉ bù (thử)", actor=admin)
        calendar_service.set_override(session=session, day=day_off - timedelta(days=4), kind="working_day",
                                      name="Làm bù (thử)", actor=admin)
        session.commit()
        generate(session=session, count=DOCUMENTS, start=start, end=today, tz=HCM, now=now, seed=10)
        usernames = list(session.scalars(select(User.username).order_by(User.username)))
    yield Generated(now, today, AuditPeriod(start - timedelta(days=1), today), usernames)
    empty_document_tables(engine)
