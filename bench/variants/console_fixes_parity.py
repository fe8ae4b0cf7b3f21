"""Check bench/variants/console_fixes.py against the shipped code on a database: the same work list
page (ids, in order) and total, the same documents pages, for each generated user.

    CONGVAN_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<db> CONGVAN_DATA_DIR=$(mktemp -d) \\
        PYTHONPATH=bench/variants .venv/bin/python bench/variants/console_fixes_parity.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import console_fixes as variant  # noqa: E402

from app.console.deps import reader_for  # noqa: E402
from app.schemas.documents import DocumentFilters  # noqa: E402
from app.services import access  # noqa: E402
from app.services import documents  # noqa: E402
from app.services import organisation as org  # noqa: E402
from bench.console import DEFAULT_USERS  # noqa: E402

settings = variant.app.state.settings
failures = 0
with variant.app.state.read_sessionmaker() as session:
    for item in DEFAULT_USERS.split(","):
        kind, username = item.split("=", 1)
        user = org.get_user(session=session, username=username)
        reader = reader_for(session, user, settings)
        common = dict(session=session, user=user, limit=50, today=reader.today, tz=settings.tz,
                      delegators=reader.delegators, exact_up_to=settings.exact_total_up_to)
        for name, filters, order, offset in [("work list", DocumentFilters(awaiting_me=True), "priority", 0),
                                             ("work list offset 50", DocumentFilters(awaiting_me=True), "priority", 50),
                                             ("documents", DocumentFilters(), "arrival", 0),
                                             ("documents urgent", DocumentFilters(urgency="urgent"), "arrival", 0)]:
            documents.visible_documents = access.visible_documents
            t0 = time.perf_counter()
            a, ta = variant.shipped_list_documents(filters=filters, order=order, offset=offset, **common)
            t1 = time.perf_counter()
            documents.visible_documents = variant.visible_documents
            b, tb = variant.list_documents(filters=filters, order=order, offset=offset, **common)
            t2 = time.perf_counter()
            same = [x.id for x in a] == [x.id for x in b] and ta == tb
            failures += not same
            print(f"{username:<16} {name:<20} shipped {len(a)} rows total {ta.value}{'+' if ta.is_estimate else ''} "
                  f"{(t1 - t0) * 1000:7.1f} ms | variant {len(b)} rows total {tb.value}{'+' if tb.is_estimate else ''} "
                  f"{(t2 - t1) * 1000:7.1f} ms  {'same' if same else 'DIFFERENT'}", flush=True)
print("parity:", "ok" if not failures else f"{failures} different")
sys.exit(1 if failures else 0)
