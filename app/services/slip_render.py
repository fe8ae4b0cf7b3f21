"""Print the processing slip (phiếu giải quyết văn bản đến) as the paper form looks.

Two renderings of the same :class:`~app.schemas.slip.Slip`:

* :func:`render_slip_html`: one self-contained A4 page (inline CSS only: no external style
  sheet, font, image or script), every value escaped, for the browser's print dialog;
* :func:`render_slip_pdf`: an A4 PDF drawn with fpdf2 in DejaVu Sans, the Unicode TrueType
  font vendored in ``app/assets/fonts`` (Bitstream Vera licence, see the LICENSE file there),
  so Vietnamese prints correctly on a machine set up with ``pip install`` alone.

Both follow the paper form of the seed: agency at the upper left, place and date at the
upper right, the title, the clerk's arrival stamp ("CÔNG VĂN ĐẾN · Số · Ngày"), then
1. the summary, 2. the office leadership's opinion, 3. the ministry leadership's direction
(with the units and their roles), 4. the unit leader's direction, and the handler's results.
Every note carries its author, their title, the leader they stood in for and the date.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from html import escape
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from app.schemas.slip import Slip, SlipEntry, SlipSummary
from app.services.organisation import DEFAULT_REGISTER_CODE

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

TITLE = "PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN"
STATE_LABELS = {
    "registered": "Đã vào sổ",
    "office_review": "Chờ ý kiến lãnh đạo Văn phòng",
    "leadership_review": "Chờ ý kiến chỉ đạo của lãnh đạo Bộ",
    "in_progress": "Đang xử lý",
    "resolved": "Đã giải quyết",
    "archived": "Đã lập hồ sơ, lưu trữ",
    "returned": "Trả lại",
    "recalled": "Đã thu hồi",
}
# (number, heading, Slip attribute): the form's sections after the summary.
SECTIONS = [
    ("2", "Ý kiến của lãnh đạo Văn phòng", "office_opinions"),
    ("3", "Ý kiến chỉ đạo của lãnh đạo Bộ", "leadership_directions"),
    ("4", "Ý kiến chỉ đạo của Lãnh đạo đơn vị", "unit_directions"),
    ("5", "Kết quả xử lý", "handler_results"),
]
SUMMARY_HEADING = "Tóm tắt nội dung văn bản"
BLANK = "……………"


# --- shared wording --------------------------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def administrative_date(day: date) -> str:
    """``ngày 15 tháng 8 năm 2013``; ND30 writes days below 10 and months 1–2 with a leading 0."""
    dd = f"{day.day:02d}" if day.day < 10 else str(day.day)
    mm = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {dd} tháng {mm} năm {day.year}"


def slip_date(day: date | None) -> str:
    """Every date the slip prints (JSON notes, HTML and PDF): ``15/08/2013``; nothing for no date.
    The one exception is the dateline's words, ``administrative_date``, which Decree 30 prescribes."""
    return day.strftime("%d/%m/%Y") if day else ""


def slip_datetime(moment: datetime) -> str:
    """Every moment the slip prints: ``15/08/2013 14:05`` (the date as ``slip_date``, then the time)."""
    return f"{slip_date(moment.date())} {moment:%H:%M}"


def signature(entry: SlipEntry) -> str:
    """``Nguyễn Văn A, Lãnh đạo Bộ (ủy quyền của Trần Văn B)``."""
    text = entry.author
    if entry.author_title:
        text += f", {entry.author_title}"
    if entry.on_behalf_of:
        text += f" (ủy quyền của {entry.on_behalf_of})"
    return text


@dataclass
class _Row:
    unit: str
    role: str
    due: str


@dataclass
class _Note:
    text: str
    signed: str
    at: str
    due: str | None
    units: list[_Row] = field(default_factory=list)


def _notes(entries: list[SlipEntry]) -> Iterator[_Note]:
    for entry in entries:
        yield _Note(
            text=_nfc(entry.text),
            signed=_nfc(signature(entry)),
            at=slip_datetime(entry.at),
            due=slip_date(entry.due_date) or None,
            units=[
                _Row(unit=_nfc(f"{a.unit_name} ({a.unit_code})"), role=_nfc(a.role_label),
                     due=slip_date(a.due_date) or "—")
                for a in entry.assignments or []
            ],
        )


def _summary_lines(slip: Slip) -> list[tuple[str, str]]:
    """Section 1 as (label, value) pairs, in the paper form's order."""
    s = slip.summary
    urgency = s.urgency_label
    if s.confidentiality != "normal":
        urgency += f" · Độ mật: {s.confidentiality_label}"
    return [
        ("Số ký hiệu văn bản", s.symbol),
        ("Mức độ khẩn", urgency),
        ("Số đến", str(s.arrival_number) if s.register_code == DEFAULT_REGISTER_CODE
         else f"{s.arrival_number} (sổ {s.register_code})"),
        ("Ngày, tháng văn bản", slip_date(s.document_date)),
        ("Cơ quan ban hành", s.issuer),
        ("Trích yếu", s.summary),
        ("Thời hạn xử lý", _deadline(s)),
    ]


def _deadline(s: SlipSummary) -> str:
    """The effective deadline, where it comes from, and the overdue mark (the detail's rule)."""
    text = slip_date(s.deadline) or BLANK
    if s.deadline is not None and s.due_date is None:
        text += " (của đơn vị chủ trì)"
    if s.overdue:
        text += " · QUÁ HẠN"
        if s.overdue_units:
            text += f" ({', '.join(s.overdue_units)})"
    return text


def _dateline(slip: Slip, place: str) -> str:
    return f"{place}, {administrative_date(slip.summary.received_at.date())}"


def _footer(slip: Slip) -> str:
    state = STATE_LABELS.get(slip.summary.state, slip.summary.state)
    return f"Tình trạng: {state} · Văn bản #{slip.document_id}"


# --- HTML ------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 25mm; }
* { box-sizing: border-box; }
html { background: #e9e9e9; }
body { margin: 0; font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", Times, serif;
       font-size: 13pt; line-height: 1.35; color: #000; }
.sheet { width: 210mm; min-height: 297mm; margin: 8mm auto; padding: 18mm 15mm 18mm 25mm;
         background: #fff; box-shadow: 0 0 4mm rgba(0,0,0,.25); }
.head { display: flex; justify-content: space-between; align-items: flex-start; gap: 8mm; }
.head .left { text-align: center; max-width: 85mm; }
.agency { font-weight: bold; text-transform: uppercase; }
.agency::after { content: ""; display: block; width: 30mm; margin: 1.5mm auto 0; border-top: 1px solid #000; }
.dateline { font-style: italic; text-align: center; padding-top: 1mm; }
.stamp { display: inline-block; margin-top: 5mm; padding: 2mm 5mm; border: 2px solid #000;
         outline: 1px solid #000; outline-offset: 1mm; text-align: center; line-height: 1.4; }
.stamp .title { font-weight: bold; letter-spacing: .5pt; }
h1 { font-size: 15pt; text-align: center; margin: 7mm 0 5mm; letter-spacing: .3pt; }
h2 { font-size: 13pt; margin: 5mm 0 1.5mm; }
ul.summary { list-style: none; margin: 0; padding: 0 0 0 4mm; }
ul.summary li { margin: .6mm 0; text-indent: -4mm; padding-left: 4mm; }
ul.summary li::before { content: "- "; }
.value { font-weight: bold; }
.gap { display: inline-block; width: 12mm; }
h2 { break-after: avoid; }
.note { margin: 1.5mm 0 3mm 4mm; padding-left: 3mm; border-left: 1px solid #999; }
.note .text { white-space: pre-wrap; font-style: italic; orphans: 3; widows: 3; }
.note .meta { text-align: right; font-size: 11pt; break-before: avoid; }
table.units, .note .due { break-inside: avoid; }
.note .meta .who { font-weight: bold; }
.note .due { font-size: 11.5pt; }
table.units { border-collapse: collapse; margin: 1.5mm 0 1mm; font-size: 11.5pt; }
table.units th, table.units td { border: 1px solid #000; padding: .6mm 2.5mm; text-align: left; }
table.units th { font-weight: bold; }
.blank { border-bottom: 1px dotted #000; height: 7mm; margin: 0 0 0 4mm; }
footer { margin-top: 8mm; border-top: 1px solid #999; padding-top: 1.5mm; font-size: 10pt; color: #333; }
@media print {
  html { background: none; }
  .sheet { width: auto; min-height: 0; margin: 0; padding: 0; box-shadow: none; }
}
"""


def _html_note(note: _Note) -> str:
    parts = [f'<div class="note"><div class="text">{escape(note.text)}</div>']
    if note.units:
        rows = "".join(
            f"<tr><td>{escape(r.unit)}</td><td>{escape(r.role)}</td><td>{escape(r.due)}</td></tr>"
            for r in note.units
        )
        parts.append(
            '<table class="units"><thead><tr><th>Đơn vị</th><th>Vai trò</th><th>Hạn xử lý</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    if note.due:
        parts.append(f'<div class="due">Hạn xử lý: <b>{escape(note.due)}</b></div>')
    parts.append(
        f'<div class="meta"><span class="who">{escape(note.signed)}</span>'
        f' · <time>{escape(note.at)}</time></div></div>'
    )
    return "".join(parts)


def _signature_lines(slip: Slip) -> list[str]:
    """``Chữ ký số: CV.pdf — Nguyễn Văn A, 03/12/2026 14:05 (hợp lệ)``, one per signature."""
    lines = []
    for signature in slip.signatures:
        who = signature.signer_name or "—"
        when = f", {slip_datetime(signature.signed_at)}" if signature.signed_at else ""
        lines.append(f"Chữ ký số: {signature.filename} — {who}{when} ({signature.status_label})"
                     if signature.status != "pending" else
                     f"Chữ ký số: {signature.filename} ({signature.status_label})")
    return lines


def render_slip_html(slip: Slip, *, place: str) -> str:
    """The slip as one printable, self-contained A4 HTML page (UTF-8); ``place`` heads its dateline
    (``CONGVAN_PLACE_NAME``)."""
    s = slip.summary
    summary = dict(_summary_lines(slip))

    def item(label: str) -> str:
        return f'{escape(label)}: <span class="value">{escape(_nfc(summary[label]))}</span>'

    body = [
        '<div class="sheet">',
        '<header class="head"><div class="left">'
        f'<div class="agency">{escape(_nfc(slip.agency))}</div>'
        '<div class="stamp"><div class="title">CÔNG VĂN ĐẾN</div>'
        f"<div>Số: <b>{s.arrival_number}</b></div>"
        f"<div>Ngày {escape(slip_date(s.received_at.date()))}</div></div></div>"
        f'<div class="dateline">{escape(_nfc(_dateline(slip, place)))}</div></header>',
        f"<h1>{escape(TITLE)}</h1>",
        f'<section class="s1"><h2>1. {escape(SUMMARY_HEADING)}:</h2><ul class="summary">',
        f'<li>{item("Số ký hiệu văn bản")}<span class="gap"></span>{item("Mức độ khẩn")}</li>',
        *(f"<li>{item(label)}</li>" for label in
          ("Số đến", "Ngày, tháng văn bản", "Cơ quan ban hành", "Trích yếu", "Thời hạn xử lý")),
        *(f'<li class="signature">{escape(line)}</li>' for line in _signature_lines(slip)),
        "</ul></section>",
    ]
    for number, heading, attribute in SECTIONS:
        notes = list(_notes(getattr(slip, attribute)))
        body.append(f'<section class="s{number}"><h2>{number}. {escape(heading)}:</h2>')
        body.extend(_html_note(n) for n in notes)
        if not notes:
            body.append('<div class="blank"></div><div class="blank"></div>')
        body.append("</section>")
    body.append(f"<footer>{escape(_nfc(_footer(slip)))}</footer></div>")
    title = f"{TITLE} – số đến {s.arrival_number}"
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


# --- PDF -------------------------------------------------------------------------------

_FONT = "DejaVu"
_LEFT, _TOP, _RIGHT, _BOTTOM = 25.0, 15.0, 15.0, 18.0  # mm


class _SlipPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, "", 8)
        self.set_text_color(80)
        self.cell(0, 4, self.footer_text, align="L")
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)


def render_slip_pdf(slip: Slip, *, place: str) -> bytes:
    """The slip as an A4 PDF in DejaVu Sans (Vietnamese included); ``place`` as for the HTML."""
    s = slip.summary
    pdf = _SlipPDF(orientation="P", unit="mm", format="A4")
    pdf.footer_text = _nfc(_footer(slip))
    pdf.set_title(_nfc(f"{TITLE} – số đến {s.arrival_number}"))
    pdf.set_author(_nfc(slip.agency))
    pdf.set_creator("congvan")
    pdf.add_font(_FONT, "", str(FONT_REGULAR))
    pdf.add_font(_FONT, "B", str(FONT_BOLD))
    pdf.set_margins(_LEFT, _TOP, _RIGHT)
    pdf.set_auto_page_break(auto=True, margin=_BOTTOM)
    pdf.add_page()
    width = pdf.epw

    # Header: agency (left, bold, underlined by a short rule) and place/date (right).
    left_w = 80.0
    pdf.set_font(_FONT, "B", 10.5)
    pdf.multi_cell(left_w, 5, _nfc(slip.agency).upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    rule_y = pdf.get_y() + 1
    pdf.line(_LEFT + left_w / 2 - 15, rule_y, _LEFT + left_w / 2 + 15, rule_y)
    pdf.set_xy(_LEFT + left_w, _TOP)
    pdf.set_font(_FONT, "", 10.5)
    pdf.multi_cell(width - left_w, 5, _nfc(_dateline(slip, place)), align="C")

    # The arrival stamp: a double-ruled box under the agency.
    stamp_x, stamp_y, stamp_w, stamp_h = _LEFT + left_w / 2 - 24, rule_y + 5, 48.0, 19.0
    pdf.set_line_width(0.6)
    pdf.rect(stamp_x, stamp_y, stamp_w, stamp_h)
    pdf.set_line_width(0.2)
    pdf.rect(stamp_x + 1, stamp_y + 1, stamp_w - 2, stamp_h - 2)
    pdf.set_xy(stamp_x, stamp_y + 2)
    pdf.set_font(_FONT, "B", 10)
    pdf.cell(stamp_w, 5, "CÔNG VĂN ĐẾN", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(_FONT, "", 10)
    pdf.cell(stamp_w, 5, f"Số: {s.arrival_number}", align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.cell(stamp_w, 5, f"Ngày {slip_date(s.received_at.date())}", align="C")

    pdf.set_xy(_LEFT, stamp_y + stamp_h + 6)
    pdf.set_font(_FONT, "B", 14)
    pdf.cell(width, 8, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    def heading(text: str) -> None:
        if pdf.will_page_break(22):
            pdf.add_page()
        pdf.ln(2)
        pdf.set_font(_FONT, "B", 11)
        pdf.multi_cell(width, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field_line(label: str, value: str) -> None:
        with _indented(pdf, 4):
            pdf.set_font(_FONT, "", 10.5)
            pdf.write(5.5, f"- {label}: ")
            pdf.set_font(_FONT, "B", 10.5)
            pdf.write(5.5, value)
            pdf.ln(5.5)

    heading(f"1. {SUMMARY_HEADING}:")
    lines = _summary_lines(slip)
    with _indented(pdf, 4):  # the form puts the symbol and the urgency on one line
        for number, (label, value) in enumerate(lines[:2]):
            pdf.set_font(_FONT, "", 10.5)
            pdf.write(5.5, f"{'- ' if number == 0 else '        '}{label}: ")
            pdf.set_font(_FONT, "B", 10.5)
            pdf.write(5.5, _nfc(value))
        pdf.ln(5.5)
    for label, value in lines[2:]:
        field_line(label, _nfc(value))
    for line in _signature_lines(slip):
        with _indented(pdf, 4):
            pdf.set_font(_FONT, "", 10.5)
            pdf.multi_cell(width - 4, 5.5, f"- {_nfc(line)}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    indent = 6.0
    for number, title, attribute in SECTIONS:
        heading(f"{number}. {title}:")
        notes = list(_notes(getattr(slip, attribute)))
        if not notes:  # dotted lines to write on, as on the paper form
            pdf.set_draw_color(120)
            pdf.set_dash_pattern(dash=0.6, gap=0.8)
            for _ in range(2):
                y = pdf.get_y() + 6
                pdf.line(_LEFT + 4, y, _LEFT + width, y)
                pdf.set_y(y)
            pdf.set_dash_pattern()
            pdf.set_draw_color(0)
            pdf.ln(2)
        for note in notes:
            if pdf.will_page_break(20):
                pdf.add_page()
            top, page = pdf.get_y(), pdf.page_no()
            with _indented(pdf, indent):
                pdf.set_font(_FONT, "", 10.5)
                pdf.multi_cell(0, 5.5, note.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
                if note.units:
                    pdf.ln(1)
                    pdf.set_font(_FONT, "", 9.5)
                    with pdf.table(width=min(120.0, width - indent), col_widths=(60, 25, 25), align="LEFT",
                                   line_height=5.5, text_align="LEFT", first_row_as_headings=True,
                                   headings_style=FontFace(family=_FONT, emphasis="BOLD")) as table:
                        table.row(["Đơn vị", "Vai trò", "Hạn xử lý"])
                        for row in note.units:
                            table.row([row.unit, row.role, row.due])
                    pdf.ln(1)
                if note.due:
                    pdf.set_font(_FONT, "", 9.5)
                    pdf.write(5, "Hạn xử lý: ")
                    pdf.set_font(_FONT, "B", 9.5)
                    pdf.write(5, note.due)
                    pdf.ln(5)
            pdf.set_font(_FONT, "B", 9)
            pdf.multi_cell(width, 4.5, note.signed, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(_FONT, "", 9)
            pdf.multi_cell(width, 4.5, note.at, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            if pdf.page_no() == page:  # a rule down the note's left edge, as in the HTML
                pdf.set_draw_color(150)
                pdf.line(_LEFT + 3, top + 0.5, _LEFT + 3, pdf.get_y() - 0.5)
                pdf.set_draw_color(0)
            pdf.ln(2.5)
    return bytes(pdf.output())


@contextmanager
def _indented(pdf: FPDF, by: float) -> Iterator[None]:
    """Write (and wrap) ``by`` mm right of the left margin."""
    margin = pdf.l_margin
    pdf.set_left_margin(margin + by)
    pdf.set_x(margin + by)
    try:
        yield
    finally:
        pdf.set_left_margin(margin)
        pdf.set_x(margin)
