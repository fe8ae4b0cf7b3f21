"""The console's audit charts and register book downloads, held against the API's answers.

The documents are tests/test_audit.py's fixture (processing times per unit, an overdue document
of TTĐ, one of VP resolved late); each page's figures are compared with the API's JSON for the
same period, fetched in the same test. charts.py's drawing is tested on its own below.
"""

from __future__ import annotations

import csv
import io
import math
import re
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.console import charts
from tests.console_helpers import sign_in
from tests.test_audit import PERIOD, fixture_documents  # noqa: F401 - the fixture, used by name

QUERY = f"from={PERIOD['from']}&to={PERIOD['to']}"
UNIT_NAMES = {"VP": "Văn phòng", "TTĐ": "Trung tâm Thông tin"}


def api(client: TestClient, as_user, path: str, username: str = "auditor", **params) -> dict:
    answer = client.get(f"/api/v1/audit/{path}", params={**PERIOD, **params}, headers=as_user(username))
    assert answer.status_code == 200, answer.text
    return answer.json()


def figure(html: str, chart_id: str) -> str:
    found = re.search(rf'<figure class="chart" id="{chart_id}">(.*?)</figure>', html, re.S)
    assert found, f"no chart {chart_id}"
    return found.group(1)


def table_of(figure_html: str) -> dict[str, str]:
    """The accessible table's rows: label → the raw value (data-value), '' for none."""
    return {unescape(label): value for label, value in
            re.findall(r'<tr><th scope="row">(.*?)</th><td data-value="([^"]*)">', figure_html)}


def bars_of(figure_html: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect class="bar" [^>]*width="([\d.]+)"', figure_html)]


def unit_label(key: str) -> str:
    return "chưa giao cho đơn vị nào" if key == "(chưa giao)" else f"{UNIT_NAMES[key]} ({key})"


def raw(value) -> str:
    return "" if value is None else repr(float(value))


@pytest.mark.usefixtures("fixture_documents")
def test_audit_page_draws_the_apis_figures(app: FastAPI, client: TestClient, as_user) -> None:
    by_unit = api(client, as_user, "processing-times", group_by="unit")["rows"]
    by_month = api(client, as_user, "processing-times", group_by="month")["rows"]
    assert {r["key"] for r in by_unit} == {"VP", "TTĐ", "(chưa giao)"}  # the fixture is what we think

    answer = sign_in(app, "auditor").get(f"/console/audit?{QUERY}")
    assert answer.status_code == 200, answer.text
    html = answer.text
    assert html.count("<svg") == 3
    assert 'value="01/04/2026"' in html and 'value="31/05/2026"' in html  # shown as Vietnamese write dates
    assert "01/04/2026" in html and "31/05/2026" in html

    processing = figure(html, "processing-time")
    assert table_of(processing) == {unit_label(r["key"]): raw(r["median_working_days"]) for r in by_unit}
    # a bar for each unit that resolved something (VP); TTĐ and the undirected ones have none
    resolved = [r for r in by_unit if r["median_working_days"] is not None]
    assert len(bars_of(processing)) == len(resolved) == 1
    assert "<title" in processing and "<desc" in processing

    on_time = figure(html, "on-time-rate")
    assert table_of(on_time) == {f"{r['key'][5:]}/{r['key'][:4]}": raw(r["on_time_rate"]) for r in by_month}
    rates = [r["on_time_rate"] for r in by_month if r["on_time_rate"] is not None]
    assert rates == [0.5]  # April: D1 on time, D3 late; May resolved nothing with a deadline
    assert bars_of(on_time) == [pytest.approx(0.5 * charts.PLOT_WIDTH)]  # the axis ends at 100 %
    assert ">50%<" in on_time

    overdue = figure(html, "overdue")
    assert table_of(overdue) == {unit_label(r["key"]): raw(r["overdue"]) for r in by_unit}
    assert table_of(overdue)["Trung tâm Thông tin (TTĐ)"] == "1.0"
    # one bar per unit, in the API's order, as long as its count (VP 1, TTĐ 1, the undirected none)
    axis_end = charts.TICKS * math.ceil(charts.nice_ceiling(max(r["overdue"] for r in by_unit)) / charts.TICKS)
    assert bars_of(overdue) == [pytest.approx(r["overdue"] / axis_end * charts.PLOT_WIDTH) for r in by_unit]
    assert sum(1 for width in bars_of(overdue) if width > 0) == 2

    # beneath it, what is still past its deadline today: the API's overdue rows, one line each
    still = api(client, as_user, "overdue")["rows"]
    assert {r["kind"] for r in still} == {"document", "assignment"}  # D2 and TTĐ's assignment of it
    lines = re.findall(r'<tr data-document-id="(\d+)" data-kind="(\w+)">.*?<td data-label="[^"]*">(\d+)</td>\s*</tr>',
                       html, re.S)
    assert lines == [(str(r["document_id"]), r["kind"], str(r["working_days_overdue"])) for r in still]


@pytest.mark.usefixtures("fixture_documents")
def test_audit_page_defaults_to_this_year_and_says_what_it_shows(app: FastAPI, client: TestClient, as_user) -> None:
    browser = sign_in(app, "auditor")
    answer = browser.get("/console/audit")
    assert answer.status_code == 200
    default = client.get("/api/v1/audit/processing-times", headers=as_user("auditor"))
    period = default.json()["period"]
    shown = [f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in (period["from"], period["to"])]  # ISO → dd/mm/yyyy
    assert f'value="{shown[0]}"' in answer.text and f'value="{shown[1]}"' in answer.text
    assert period["from"].endswith("-01-01")
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert " style=" not in answer.text  # the CSP refuses inline styles
    assert browser.get("/console/language/en?next=/console/audit").status_code == 303
    english = browser.get(f"/console/audit?{QUERY}")
    assert "Processing time per unit" in english.text and "not directed to a unit yet" in english.text


def test_audit_page_period_errors_go_next_to_their_fields(app: FastAPI) -> None:
    browser = sign_in(app, "auditor")
    reversed_ = browser.get("/console/audit?from=2026-05-01&to=2026-04-01")
    assert reversed_.status_code == 422
    assert 'id="to-error"' in reversed_.text and "<svg" not in reversed_.text
    not_a_day = browser.get("/console/audit?from=2026-02-30")
    assert not_a_day.status_code == 422 and 'id="from-error"' in not_a_day.text


@pytest.mark.parametrize("username,status", [("auditor", 200), ("leader", 200), ("admin", 200),
                                             ("specialist", 403), ("clerk", 403)])
def test_who_may_see_the_audit_page_is_who_the_api_lets(app: FastAPI, client: TestClient, as_user, username: str,
                                                         status: int) -> None:
    answer = sign_in(app, username).get("/console/audit")
    assert answer.status_code == status
    assert client.get("/api/v1/audit/processing-times", headers=as_user(username)).status_code == status
    assert "text/html" in answer.headers["content-type"]
    if status == 403:
        assert "<svg" not in answer.text and "auditor" in answer.text  # the API's message: the roles it needs


def test_register_book_page_links_the_period(app: FastAPI) -> None:
    answer = sign_in(app, "clerk").get(f"/console/register-book?{QUERY}")
    assert answer.status_code == 200
    assert f'href="/console/register-book.csv?{QUERY.replace("&", "&amp;")}"' in answer.text
    assert f'href="/console/register-book.xlsx?{QUERY.replace("&", "&amp;")}"' in answer.text
    assert sign_in(app, "specialist").get("/console/register-book").status_code == 403


@pytest.mark.usefixtures("fixture_documents")
def test_register_book_csv_is_the_apis(app: FastAPI, client: TestClient, as_user) -> None:
    mine = sign_in(app, "clerk").get(f"/console/register-book.csv?{QUERY}")
    theirs = client.get("/api/v1/audit/register-book.csv", params=PERIOD, headers=as_user("clerk"))
    assert mine.status_code == theirs.status_code == 200
    assert mine.headers["content-type"] == theirs.headers["content-type"] == "text/csv; charset=utf-8"
    assert mine.headers["content-disposition"] == theirs.headers["content-disposition"] == \
        'attachment; filename="so-den-tat-ca-2026-04-01-2026-05-31.csv"'
    assert mine.headers["cache-control"] == "no-store"
    assert mine.content == theirs.content and mine.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu"]
    assert len(rows) == 1 + 12 and rows[1][:4] == ["2026-04-24", "1", "Sở Nội vụ", "1/BC-AUD"]


@pytest.mark.usefixtures("fixture_documents")
def test_register_book_xlsx_is_the_apis(app: FastAPI, client: TestClient, as_user) -> None:
    from openpyxl import load_workbook

    mine = sign_in(app, "clerk").get(f"/console/register-book.xlsx?{QUERY}")
    theirs = client.get("/api/v1/audit/register-book.xlsx", params=PERIOD, headers=as_user("clerk"))
    assert mine.status_code == theirs.status_code == 200
    assert mine.content[:4] == b"PK\x03\x04"  # a zip: the workbook
    assert mine.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert mine.headers["content-disposition"] == theirs.headers["content-disposition"] == \
        'attachment; filename="so-den-tat-ca-2026-04-01-2026-05-31.xlsx"'
    assert mine.headers["cache-control"] == "no-store"
    cells = [[[c.value for c in row] for row in load_workbook(io.BytesIO(answer.content)).active.iter_rows()]
             for answer in (mine, theirs)]
    assert cells[0] == cells[1] and len(cells[0]) == 2 + 12
    assert cells[0][2][1] == 1 and cells[0][2][5] == "Báo cáo: Văn bản D1"


def test_register_book_downloads_need_the_apis_roles(app: FastAPI, client: TestClient, as_user) -> None:
    specialist = sign_in(app, "specialist")
    for suffix in ("csv", "xlsx"):
        refused = specialist.get(f"/console/register-book.{suffix}?{QUERY}")
        assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
        assert client.get(f"/api/v1/audit/register-book.{suffix}", headers=as_user("specialist")).status_code == 403
    auditor = sign_in(app, "auditor").get(f"/console/register-book.csv?{QUERY}")
    assert auditor.status_code == 200
    bad = sign_in(app, "clerk").get("/console/register-book.csv?from=2026-05-01&to=2026-04-01")
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]


def test_downloads_need_a_session(app: FastAPI) -> None:
    from tests.console_helpers import console_client

    answer = console_client(app).get(f"/console/register-book.csv?{QUERY}")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login?next=")


# --- charts.py ------------------------------------------------------------------------------------


def draw(data, **overrides) -> str:
    texts = dict(chart_id="test chart", title="Title <t>", desc="Desc & more", axis="days", label_heading="Unit",
                 value_heading="Days", table_summary="Figures", empty="Nothing here", fmt=charts.number("en"))
    return str(charts.bar_chart(data, **{**texts, **overrides}))


def test_chart_escapes_labels_and_texts() -> None:
    html = draw([('<script>alert("x")</script>', 1.0), ("Sở \"Nội vụ\" & co", 2.0)])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Sở &#34;Nội vụ&#34; &amp; co" in html
    assert "<title id=\"test-chart-title\">Title &lt;t&gt;</title>" in html and "Desc &amp; more" in html
    assert " style=" not in html


def test_chart_bar_lengths_are_proportional() -> None:
    html = draw([("A", 1.0), ("B", 2.0), ("C", 4.0)])
    widths = bars_of(html)
    # the axis ends at 4 (nice_ceiling: 1, 2, 4, 6, 8 × 10^k): the largest bar fills the plot
    assert widths == [pytest.approx(charts.PLOT_WIDTH * v / 4) for v in (1, 2, 4)]
    assert widths[1] == pytest.approx(2 * widths[0]) and widths[2] == pytest.approx(4 * widths[0])
    assert table_of(html) == {"A": "1.0", "B": "2.0", "C": "4.0"}
    assert bars_of(draw([("A", 5.0), ("B", 3.0)])) == [pytest.approx(charts.PLOT_WIDTH * 5 / 6, abs=0.01),
                                                        pytest.approx(charts.PLOT_WIDTH / 2)]
    fixed = bars_of(draw([("rate", 0.25)], axis_max=1))
    assert fixed == [pytest.approx(charts.PLOT_WIDTH / 4)]


def test_chart_handles_zero_missing_and_empty_data() -> None:
    zeros = draw([("A", 0.0), ("B", 0.0)])
    assert bars_of(zeros) == [0.0, 0.0]  # no division by zero: the axis ends at 1
    assert 'data-axis-max="1"' in zeros
    missing = draw([("A", None), ("B", 3.0)])
    assert len(bars_of(missing)) == 1 and table_of(missing) == {"A": "", "B": "3.0"}
    assert "<td data-value=\"\">—</td>" in missing
    empty = draw([])
    assert "<rect" not in empty and "Nothing here" in empty and "<table" not in empty
    assert "<title" in empty and "<desc" in empty


def test_chart_long_labels_are_shortened_in_the_drawing_only() -> None:
    label = "Trung tâm Công nghệ thông tin và Truyền thông tỉnh"
    html = draw([(label, 1.0)])
    assert f'<th scope="row">{label}</th>' in html  # whole in the table
    assert re.search(r'<text class="bar-label"[^>]*>[^<]*…</text>', html)


def test_nice_ceiling() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 0.7, 1, 3.2, 5, 12, 2400, 9000)] == \
        [1.0, 0.8, 1.0, 4.0, 6.0, 20.0, 4000.0, 10000.0]


def test_counts_get_whole_ticks() -> None:
    """A count axis reads 0, 1, 2, 3, 4, never 0, 0, 0, 1, 1."""
    html = str(charts.bar_chart([("Văn phòng (VP)", 0)], chart_id="c", title="t", desc="d", axis="a",
                                label_heading="l", value_heading="v", table_summary="s", empty="e",
                                fmt=charts.number("vi", 0), whole=True))
    assert re.findall(r'<text class="tick"[^>]*>([^<]*)</text>', html) == ["0", "1", "2", "3", "4"]
    bars, end = charts.layout([("a", 6)], axis_max=None, fmt=str, missing="—", whole=True)
    assert end == 8 and bars[0].length == 6 / 8 * charts.PLOT_WIDTH
