"""What every request registers, on both sides: the benchmark's clerk and a realistic document.

The API side, the raw SQL side, the wrk script and the in-process step timings must all send the
same bytes, or the comparison is between two different workloads.
"""

from __future__ import annotations

from datetime import date

from app.config import Settings
from bench.common.accounts import ensure_user

CLERK = "bench_clerk"
PASSWORD = "bench password, not a secret"
RAW_REGISTER = "bench_raw"
API_PATH = "/api/v1/incoming-documents"

# A realistic body: Vietnamese summary (~190 chars) and issuer, as clerks type them.
ISSUER = "Ban chỉ đạo chương trình CNTT tỉnh Bình Dương"
SUMMARY = (
    "Báo cáo sơ kết 02 năm thực hiện Quyết định số 721/QĐ-UBND ngày 11/03/2011 của UBND tỉnh "
    "về việc ban hành Kế hoạch ứng dụng CNTT trong hoạt động của cơ quan nhà nước tỉnh Bình Dương"
)


def prepare_database(settings: Settings) -> None:
    """Migrate a fresh database and create the clerk."""
    from app.migrate import upgrade_to_head

    upgrade_to_head(settings)
    ensure_user(settings, CLERK, PASSWORD, "clerk", "Bench Clerk")


def document_body(client_id: int, seq: int, document_date: date) -> dict[str, object]:
    """A valid registration body; (client, seq) makes the symbol, so duplicate detection never fires."""
    return {
        "symbol": f"{seq}/BC-BENCH{client_id:02d}",
        "document_date": document_date.isoformat(),
        "issuer": ISSUER,
        "summary": SUMMARY,
        "urgency": "normal",
        "page_count": 3,
        "signer_name": "Nguyễn Văn A",
        "channel": "paper",
    }
