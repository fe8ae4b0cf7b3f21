"""PDF signatures: what verifying one costs, and what it does to registering documents with a signed
attachment. One command, JSON results.

    .venv/bin/python bench/signatures.py                          # SQLite, a temporary data directory
    .venv/bin/python bench/signatures.py --backend postgresql     # a fresh database at 127.0.0.1:5432

1. makes a test CA (``tests.signature_helpers.Authority``) whose root is the whole trust set, and
   the files: a signed one-page PDF (``one_page_pdf``), a 100-page PDF of Vietnamese text in the
   DejaVu font (fpdf2) signed and unsigned, and a signed 100-page scan (one ~90 KB JPEG a page);
2. verification: ``app.signatures.verify.verify_pdf`` in-process on each, ``--runs`` (30) times
   after one untimed call: wall and CPU time, median and p95, the file's size and its status
   (which must be the expected one);
3. registration: a fresh database (SQLite, or PostgreSQL ``congvan_signatures_<timestamp>``),
   the CA's root in ``CONGVAN_TRUST_DIR``, a clerk; then ``--rounds`` (3) rounds, each starting
   uvicorn once per variant — ``inline``: the defaults, a small PDF is verified before the upload
   answers; ``deferred``: ``CONGVAN_VERIFY_INLINE_MAX_MB=0``, the upload answers ``pending`` (no
   worker runs under plain uvicorn, so nothing verifies it meanwhile) — in alternating order
   (inline first, then deferred first, ...), so the machine's drift touches both. After a warm-up,
   ``--clients`` (4) threads each register ``--per-client`` (50) documents one after another:
   ``POST /incoming-documents`` then ``POST .../attachments`` with a signed one-page PDF, each PDF
   signed apart beforehand (a result is kept per file's bytes, so one file uploaded twice would be
   verified once). Every answer must be a 201, and the upload's ``signature_status`` ``valid``
   (inline) or ``pending`` (deferred);
4. prints a summary and writes ``bench/results/signatures-<backend>-<timestamp>.json``: per run and
   per variant (all rounds together) documents+attachments per second, p50/p95 of the upload and
   of the registration, the server's CPU per document.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the repository first

from app.config import Settings  # noqa: E402
from app.signatures.trust import TrustStore, load_trust_set  # noqa: E402
from app.signatures.verify import verify_pdf  # noqa: E402
from bench.common import ROOT  # noqa: E402
from bench.common.accounts import login  # noqa: E402
from bench.common.machine import wait_for_quiet  # noqa: E402
from bench.common.postgres import Pg, postgresql_facts  # noqa: E402
from bench.common.processes import all_procs, descendants, proc_stat  # noqa: E402
from bench.common.results import run_record, shown, write_json  # noqa: E402
from bench.common.server import serving, unwind_on_signals  # noqa: E402
from bench.common.stats import percentile  # noqa: E402
from bench.registration.workload import CLERK, PASSWORD, document_body, prepare_database  # noqa: E402
from tests.signature_helpers import Authority, one_page_pdf, pem, sign_pdf  # noqa: E402

FONT = ROOT / "app" / "assets" / "fonts" / "DejaVuSans.ttf"
PAGE_TEXT = (
    "Căn cứ Luật Tổ chức Chính phủ ngày 19 tháng 6 năm 2015; căn cứ Nghị định số 30/2020/NĐ-CP ngày 05 "
    "tháng 3 năm 2020 của Chính phủ về công tác văn thư; theo đề nghị của Chánh Văn phòng, Ủy ban nhân dân "
    "tỉnh báo cáo kết quả thực hiện kế hoạch ứng dụng công nghệ thông tin trong hoạt động của cơ quan nhà "
    "nước, những tồn tại, hạn chế và nhiệm vụ trọng tâm trong thời gian tới. "
) * 8  # about 3 000 characters: a full page
VARIABLE = "CONGVAN_VERIFY_INLINE_MAX_MB"
VARIANTS = {"inline": None, "deferred": "0"}  # the variable's value (None: unset, the default)
EXPECTED = {"inline": "valid", "deferred": "pending"}
PG_SETTINGS = ["fsync", "synchronous_commit", "shared_buffers"]
WARMUP_DOCUMENTS = 5  # per server start, before the clients: pyHanko's imports, the pools


# --- the files ---------------------------------------------------------------------------------


def hundred_pages(*, scanned: bool) -> bytes:
    """100 A4 pages: Vietnamese text in DejaVu, or a distinct ~90 KB greyscale JPEG each (a scan)."""
    from fpdf import FPDF
    from PIL import Image

    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=12)
    for page in range(1, 101):
        pdf.add_page()
        if scanned:
            jpeg = io.BytesIO()
            Image.effect_noise((827, 1170), 10).save(jpeg, "JPEG", quality=50)  # 100 dpi, noise: no two alike
            pdf.image(jpeg, x=0, y=0, w=210, h=297)
        else:
            pdf.multi_cell(0, 6, f"Trang {page}/100. {PAGE_TEXT}")
    return bytes(pdf.output())


def verification(authority: Authority, tmp: Path, runs: int) -> list[dict[str, object]]:
    """``verify_pdf`` on each file, ``runs`` times after one untimed call; wall and CPU ms."""
    trust_dir = tmp / "trust"
    TrustStore(trust_dir).add(pem(authority.root))
    trust = load_trust_set(trust_dir)
    signer = authority.leaf("Nguyễn Văn An")
    text, scan = hundred_pages(scanned=False), hundred_pages(scanned=True)
    files = [("signed, 1 page", 1, sign_pdf(one_page_pdf("CV 1/UBND-VP"), signer, authority), "valid"),
             ("signed, 100 pages of text", 100, sign_pdf(text, signer, authority), "valid"),
             ("unsigned, 100 pages of text", 100, text, "unsigned"),
             ("signed, 100 scanned pages", 100, sign_pdf(scan, signer, authority), "valid")]
    out = []
    for label, pages, data, expected in files:
        path = tmp / f"{len(out)}.pdf"
        path.write_bytes(data)
        status = verify_pdf(path, trust).status
        walls, cpus = [], []
        for _ in range(runs):
            wall, cpu = time.perf_counter(), time.process_time()
            verify_pdf(path, trust)
            cpus.append((time.process_time() - cpu) * 1000)
            walls.append((time.perf_counter() - wall) * 1000)
        walls.sort()
        cpus.sort()
        out.append({"file": label, "pages": pages, "bytes": len(data), "status": status, "expected": expected,
                    "runs": runs, "median_ms": round(percentile(walls, 50), 2), "p95_ms": round(percentile(walls, 95), 2),
                    "max_ms": round(walls[-1], 2), "cpu_median_ms": round(percentile(cpus, 50), 2)})
    return out


# --- registration with a signed attachment -----------------------------------------------------


def register_run(base_url: str, token: str, pdfs: list[bytes], clients: int, seq0: int,
                 expected: str) -> tuple[dict[str, object], list[float], list[float]]:
    """``clients`` threads, each registering its share of ``pdfs`` (a document, then its attachment):
    the run's numbers, and the upload's and the registration's latencies (ms)."""
    share = len(pdfs) // clients
    uploads: list[float] = []  # ms
    registrations: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    ends: list[float] = []
    document_date = date.today() - timedelta(days=7)

    def client_thread(n: int) -> None:
        mine_up, mine_reg, wrong = [], [], []
        with httpx.Client(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as client:
            start.wait()
            for i, pdf in enumerate(pdfs[n * share:(n + 1) * share]):
                error, reg_ms, up_ms = register_one(client, document_body(n, seq0 + i, document_date), pdf, expected)
                mine_reg.append(reg_ms)
                if up_ms is not None:
                    mine_up.append(up_ms)
                if error:
                    wrong.append(error)
        with lock:
            uploads.extend(mine_up)
            registrations.extend(mine_reg)
            errors.extend(wrong)
            ends.append(time.perf_counter())

    threads = [threading.Thread(target=client_thread, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = max(ends) - began
    done = clients * share
    return ({"documents": done, "errors": len(errors), "first_errors": errors[:3], "seconds": round(seconds, 2),
             "per_s": round((done - len(errors)) / seconds, 2), "upload": latency(uploads),
             "registration": latency(registrations)}, uploads, registrations)


def latency(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {"p50_ms": round(percentile(values, 50) or 0, 1), "p95_ms": round(percentile(values, 95) or 0, 1),
            "max_ms": round(values[-1] if values else 0, 1)}


def register_one(client: httpx.Client, body: dict[str, object], pdf: bytes,
                 expected: str) -> tuple[str | None, float, float | None]:
    """(what went wrong or None, the registration's ms, the upload's ms or None if not sent)."""
    started = time.perf_counter()
    created = client.post("/api/v1/incoming-documents", json=body)
    reg_ms = (time.perf_counter() - started) * 1000
    if created.status_code != 201:
        return f"registration {created.status_code}: {created.text[:300]}", reg_ms, None
    started = time.perf_counter()
    uploaded = client.post(f"/api/v1/incoming-documents/{created.json()['id']}/attachments",
                           files={"file": ("cong-van.signed.pdf", pdf, "application/pdf")})
    up_ms = (time.perf_counter() - started) * 1000
    if uploaded.status_code != 201:
        return f"upload {uploaded.status_code}: {uploaded.text[:300]}", reg_ms, up_ms
    if (status := uploaded.json()["signature_status"]) != expected:
        return f"signature_status {status!r}, expected {expected!r}", reg_ms, up_ms
    return None, reg_ms, up_ms


def server_cpu_s(pid: int) -> float:
    return sum(info.cpu_s for p in descendants(all_procs(), pid) if (info := proc_stat(p)) is not None)


def registration(settings: Settings, authority: Authority, tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    """The rounds of both variants on one database; each run's numbers, and each variant's over all rounds."""
    TrustStore(settings.resolved_trust_dir).add(pem(authority.root))
    prepare_database(settings)
    signer = authority.leaf("Trần Thị Bình")
    per_run = args.clients * args.per_client
    count = args.rounds * len(VARIANTS) * (per_run + WARMUP_DOCUMENTS)
    print(f"signing {count} one-page PDFs ...", flush=True)
    pdfs = iter([sign_pdf(one_page_pdf(f"CV {i}/UBND-VP"), signer, authority) for i in range(count)])
    runs = []
    pooled = {variant: ([], []) for variant in VARIANTS}  # the upload's and the registration's ms, all rounds
    for round_ in range(args.rounds):
        order = list(VARIANTS) if round_ % 2 == 0 else list(reversed(VARIANTS))
        for variant in order:
            if VARIANTS[variant] is None:
                os.environ.pop(VARIABLE, None)
            else:
                os.environ[VARIABLE] = VARIANTS[variant]
            seq0 = 1_000_000 * (len(runs) + 1)
            with serving(settings, tmp / f"server-{len(runs)}.log") as server:
                token = login(server.base_url, CLERK, PASSWORD)
                warm, _, _ = register_run(server.base_url, token, [next(pdfs) for _ in range(WARMUP_DOCUMENTS)], 1,
                                          seq0 - 1000, EXPECTED[variant])
                if warm["errors"]:
                    raise RuntimeError(f"warm-up failed ({variant}): {warm['first_errors']}")
                busy = wait_for_quiet(args.quiet_below, args.quiet_wait)[-1]
                cpu0 = server_cpu_s(server.process.pid)
                run, uploads, registrations = register_run(server.base_url, token, [next(pdfs) for _ in range(per_run)],
                                                           args.clients, seq0, EXPECTED[variant])
                run["server_cpu_ms_per_document"] = round(
                    1000 * (server_cpu_s(server.process.pid) - cpu0) / run["documents"], 2)
            pooled[variant][0].extend(uploads)
            pooled[variant][1].extend(registrations)
            runs.append({"round": round_ + 1, "variant": variant, VARIABLE: VARIANTS[variant],
                         "machine_busy_before_pct": busy, **run})
            print(f"  round {round_ + 1} {variant:8} {row(run)}", flush=True)
    os.environ.pop(VARIABLE, None)
    variants = {}
    for variant, (uploads, registrations) in pooled.items():
        mine = [r for r in runs if r["variant"] == variant]
        documents, seconds = sum(r["documents"] for r in mine), sum(r["seconds"] for r in mine)
        errors = sum(r["errors"] for r in mine)
        variants[variant] = {
            "documents": documents, "errors": errors, "seconds": round(seconds, 2),
            "per_s": round((documents - errors) / seconds, 2), "per_s_by_round": [r["per_s"] for r in mine],
            "upload": latency(uploads), "registration": latency(registrations),
            "server_cpu_ms_per_document": round(
                sum(r["server_cpu_ms_per_document"] * r["documents"] for r in mine) / documents, 2),
        }
    return {"clients": args.clients, "per_client": args.per_client, "rounds": args.rounds, "runs": runs,
            "variants": variants}


def row(run: dict[str, object]) -> str:
    return (f"{run['per_s']:7.2f} documents+attachments/s ({run['documents']} in {run['seconds']} s, "
            f"{run['errors']} errors); upload p50 {run['upload']['p50_ms']} / p95 {run['upload']['p95_ms']} ms; "
            f"registration p50 {run['registration']['p50_ms']} / p95 {run['registration']['p95_ms']} ms")


# --- the run -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=30, help="timed verifications of each file")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both variants")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=50, help="documents each client registers in a run")
    parser.add_argument("--skip", choices=["verification", "registration"], help="run only the other part")
    parser.add_argument("--quiet-below", type=float, default=20.0, help="machine busy %% to wait under")
    parser.add_argument("--quiet-wait", type=float, default=30.0, help="longest wait for it, s")
    parser.add_argument("--tag", default="")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    return parser.parse_args(argv)


def summary(result: dict[str, object]) -> list[str]:
    machine = result["machine"]
    lines = [f"signatures on {result['backend']}; {machine['cpu_model']}, {machine['nproc']} cores"]
    for v in result.get("verification", []):
        lines.append(f"verify_pdf, {v['file']:28} {v['bytes'] / 1e6:7.3f} MB: {v['status']:8} median "
                     f"{v['median_ms']:6.2f} ms, p95 {v['p95_ms']:6.2f} ms (CPU median {v['cpu_median_ms']} ms, "
                     f"{v['runs']} runs)" + ("" if v["status"] == v["expected"] else f"; EXPECTED {v['expected']}"))
    if reg := result.get("registration"):
        lines.append(f"registration + signed 1-page upload, {reg['clients']} clients, {reg['rounds']} rounds:")
        for variant, v in reg["variants"].items():
            lines.append(f"  {variant:8} {row(v)}; server CPU {v['server_cpu_ms_per_document']} ms a document; "
                         f"by round {v['per_s_by_round']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    unwind_on_signals()
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    pg = Pg(args.pg_host, args.pg_port, args.pg_user)
    dbname = f"congvan_signatures_{stamp}"
    result = run_record("signatures", "bench/signatures.py", tag=args.tag, backend=args.backend,
                        packages=("fastapi", "pydantic", "sqlalchemy", "uvicorn", "httpx", "pyhanko",
                                  "pyhanko-certvalidator", "cryptography", "fpdf2"))
    authority = Authority("Root CA thử nghiệm (benchmark)")
    with tempfile.TemporaryDirectory(prefix="congvan-signatures-") as tmp:
        if args.skip != "verification":
            result["machine_busy_before_verification_pct"] = wait_for_quiet(args.quiet_below, args.quiet_wait)[-1]
            result["verification"] = verification(authority, Path(tmp), args.runs)
        if args.skip != "registration":
            url = pg.sqlalchemy_url(dbname) if args.backend == "postgresql" else None
            if url:
                pg.create_database(dbname)
            try:
                data_dir = Path(tmp) / "data"
                os.environ["CONGVAN_TRUST_DIR"] = str(data_dir / "trust")
                settings = Settings(data_dir=data_dir, database_url=url, trust_dir=data_dir / "trust")
                if url:
                    result["machine"].update(postgresql_facts(pg.conninfo(dbname), PG_SETTINGS, with_units=True))
                result["registration"] = registration(settings, authority, Path(tmp), args)
            finally:
                if url:
                    pg.drop_database(dbname)
    out = ROOT / "bench" / "results" / f"signatures-{args.backend}-{stamp}{'-' + args.tag if args.tag else ''}.json"
    write_json(out, result)
    for line in summary(result):
        print(line)
    print(f"written: {shown(out)}")
    wrong = [v for v in result.get("verification", []) if v["status"] != v["expected"]]
    errors = sum(v["errors"] for v in (result.get("registration") or {}).get("variants", {}).values())
    return 1 if wrong or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
