"""The congvan command: serve, worker, migrate, users, the demo, the contract and the catalog.

Every command reads the same CONGVAN_* settings as the server. What ``congvan --help`` prints is
DESCRIPTION and each command's help below, plain sentences (no markup).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.services.demo import DemoResult

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"

DESCRIPTION = ("congvan: the incoming official documents (công văn đến) of an agency, registered, routed on "
               "their processing slip and audited. Every command reads the same CONGVAN_* environment "
               "variables as the server (README.md, Configuration).")
EPILOG = "Run 'congvan COMMAND --help' for the options of a command."


def render_openapi(settings: Settings) -> str:
    from app.main import create_app

    return json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from app.migrate import upgrade_to_head

    upgrade_to_head(settings)
    print(f"database at head: {_redacted(settings.resolved_database_url)}")
    return 0


def _in_a_session(settings: Settings, work: Callable[[Session], str]) -> int:
    """Run ``work`` in one committed session on the configured database and print what it says;
    a refusal (the services' errors, a bad role) is printed on stderr with exit status 1."""
    from app.db import make_engine, make_sessionmaker
    from app.errors import AppError

    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            said = work(session)
            session.commit()
            print(said)
    except (AppError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from app.services import accounts
    from app.services import organisation as org

    def create(session: Session) -> str:
        user = org.create_user(session=session, username=args.username, password=args.password, roles=args.role,
                               full_name=args.full_name, unit_code=args.unit, created_by=accounts.CONSOLE.username,
                               email=args.email)
        return f"created user {user.username} with roles {', '.join(sorted(user.roles))}"

    return _in_a_session(settings, create)


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    """``congvan user set|password|revoke-tokens``: the API's user changes, for an operator at the
    console (the first admin, a locked-out admin). Recorded in the security log as ``(cli)``."""
    from app.services import accounts

    operator = accounts.CONSOLE

    def change(session: Session) -> str:
        if args.user_command == "set":
            changes = accounts.UserChanges(
                full_name=args.full_name, unit_code=args.unit or None, clear_unit=args.unit == "",
                roles=args.role, active=None if args.active is None else args.active == "yes")
            user = accounts.update_user(session=session, admin=operator, username=args.username, changes=changes,
                                        client="cli")
            return (f"{user.username}: roles {', '.join(sorted(user.roles))}; unit {user.unit_code or '-'}; "
                    f"{'active' if user.is_active else 'inactive'}")
        if args.user_command == "password":
            accounts.set_password(session=session, actor=operator, username=args.username,
                                  new_password=args.password, current_password=None, client="cli")
            return f"{args.username}: password set; every token they held is refused"
        accounts.revoke_tokens(session=session, admin=operator, username=args.username, client="cli")
        return f"{args.username}: every token they held is refused"

    return _in_a_session(settings, change)


def cmd_export_openapi(settings: Settings, args: argparse.Namespace) -> int:
    rendered = render_openapi(settings)
    target = Path(args.output)
    if args.check:
        current = target.read_text() if target.exists() else ""
        if current != rendered:
            print(f"{target} is out of date; run `congvan export-openapi`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rendered)
    print(f"wrote {target}")
    return 0


def cmd_messages(_settings: Settings, args: argparse.Namespace) -> int:
    """Bring the message catalog in step with the code (``--check``: fail if it is not)."""
    from app.i18n.catalog import build, write

    state = build()
    if args.check:
        problems = [f"{path} is out of date; run `congvan messages`" for path in state.stale()]
        problems += [f"{language}: {len(ids)} message(s) not translated, e.g. {ids[0]!r}"
                     for language, ids in state.untranslated.items() if ids]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in write(state):
        print(f"wrote {path}")
    for language, ids in state.untranslated.items():
        for message_id in ids:
            print(f"{language}: not translated: {message_id!r}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from app.db import make_engine, make_sessionmaker
    from app.migrate import upgrade_to_head
    from app.models.base import utcnow
    from app.services.demo import load_demo
    from app.services.exchange import Ours
    from app.services.signatures import verification_for

    upgrade_to_head(settings)
    engine = make_engine(settings)
    try:
        with make_sessionmaker(engine)() as session:
            result = load_demo(session=session, data_dir=settings.data_dir, tz=settings.tz, now=utcnow(),
                               ours=Ours(settings.organ_id, settings.organ_name or settings.agency_name),
                               verification=verification_for(settings))
            session.commit()
    finally:
        engine.dispose()
    print("Demo data ready." if result.created else "Demo data already present.")
    print(demo_guide(result, _base_url(args)), flush=True)
    return 0


def _base_url(args: argparse.Namespace) -> str:
    """Where ``serve`` listens (its defaults for ``congvan demo``), as a browser on this machine reaches it."""
    host = getattr(args, "host", "127.0.0.1")
    host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    return f"http://{host}:{getattr(args, 'port', 8000)}"


def demo_guide(result: DemoResult, base: str) -> str:
    """Where a newcomer looks first: the URLs (each with the demo user to log in as), the audit period
    that holds the demo's documents, and the demo users as the demo creates them."""
    from app.services.demo import SEED_DOCUMENT, USERS

    api = f"{base}/api/v1"
    lines = ["", f"Where to look (congvan on {base}):",
             "  The web console, in Vietnamese (log in with a user below; English at the top right), as vanthu:",
             f"    {base}/console/",
             f"    {base}/console/documents/{result.document_id}",
             "  API docs (press Authorize and log in as one of the users below):", f"    {base}/docs",
             f"  The processing slip of the seed document {SEED_DOCUMENT.symbol}, as vanthu:",
             f"    {api}/incoming-documents/{result.document_id}/slip.html",
             f"  The electronic inbox ({len(result.inbox_ids)} documents waiting), as vanthu:",
             f"    {api}/exchange/inbox?state=received"]
    if result.arrivals is not None:
        first, last = date(result.arrivals[0].year, 1, 1), date(result.arrivals[1].year, 12, 31)
        years = str(first.year) if first.year == last.year else f"{first.year}–{last.year}"
        period = f"from={first.isoformat()}&to={last.isoformat()}"
        lines += [f"  The audit of the demo's documents (they arrived in {years}; without from and to the audit "
                  "counts this year's arrivals only), as kiemtoan:",
                  f"    {api}/audit/processing-times?{period}",
                  f"    {api}/audit/compliance?{period}",
                  f"    {api}/audit/register-book.csv?{period}"]
    lines += ["  Every /api/v1 URL wants the user's token: open it from /docs after Authorize, or use curl:",
              f"    TOKEN=$(curl -s -d 'username=vanthu&password=<password>' {api}/auth/token | jq -r .access_token)",
              f"    curl -s -H \"Authorization: Bearer $TOKEN\" '{api}/exchange/inbox?state=received'",
              "", f"Demo users (passwords also in {result.credentials_file}):",
              f"  {'username':<12} {'password':<20} {'role':<14} name (unit)"]
    for username, full_name, unit, roles in USERS:
        password = result.credentials.get(username, "(not in the credentials file)")
        lines.append(f"  {username:<12} {password:<20} {', '.join(roles):<14} {full_name} ({unit})")
    return "\n".join(lines)


def cmd_trust(settings: Settings, args: argparse.Namespace) -> int:
    """``trust add FILE``: put the certificates of a PEM/DER file in the trust directory;
    ``trust list``: what is there (root or intermediate, subject, validity, SHA-256 fingerprint)."""
    from app.signatures.trust import InvalidCertificate, TrustStore

    store = TrustStore(settings.resolved_trust_dir)
    if args.trust_command == "add":
        try:
            added = store.add(Path(args.file).read_bytes())
        except (InvalidCertificate, OSError) as exc:
            print(f"error: {args.file}: {exc}", file=sys.stderr)
            return 1
        for certificate in added:
            print(f"added {'root' if certificate.is_root else 'intermediate'}: {certificate.subject}"
                  f"  ({certificate.fingerprint})")
        print("Re-verify stored files with POST .../attachments/{id}/verify to use it for them.")
        return 0
    trust = store.current()
    print(f"trust directory: {settings.resolved_trust_dir}  (set fingerprint {trust.fingerprint[:16]})")
    for certificate in trust.certificates:
        print(f"{'root        ' if certificate.is_root else 'intermediate'}  {certificate.subject}\n"
              f"              valid {certificate.not_before:%Y-%m-%d} → {certificate.not_after:%Y-%m-%d}"
              f"  sha256 {certificate.fingerprint}")
    for problem in trust.problems:
        print(f"unreadable    {problem}")
    if not trust.certificates:
        print("(empty: every signature is 'untrusted' until roots are added)")
    return 0


def cmd_workflow_diagram(_settings: Settings, _args: argparse.Namespace) -> int:
    from app.workflow.machine import ASSIGNMENT_MACHINE, mermaid

    print("```mermaid")
    print(mermaid(), end="")
    print("```\n\n```mermaid")
    print(mermaid(ASSIGNMENT_MACHINE, "Assignment of a unit"), end="")
    print("```")
    return 0


def cmd_generate(settings: Settings, args: argparse.Namespace) -> int:
    import time
    from datetime import date, timedelta

    from app.db import make_engine, make_sessionmaker
    from app.models.base import utcnow
    from app.services.generator import generate

    now = utcnow()
    end = date.fromisoformat(args.end) if args.end else now.astimezone(settings.tz).date()
    years = args.years or max(1, round(args.documents / 100_000))
    start = end - timedelta(days=round(365.25 * years) - 1)
    engine = make_engine(settings)
    started = time.perf_counter()

    def progress(done: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"  {done:>9,} documents  {done / elapsed:,.0f}/s", flush=True)

    try:
        with make_sessionmaker(engine)() as session:
            count = generate(session=session, count=args.documents, start=start, end=end, tz=settings.tz,
                             now=now, seed=args.seed, progress=progress)
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"generated {count:,} documents arriving {start} – {end} in {elapsed:.1f} s ({count / elapsed:,.0f}/s)")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if args.demo:
        cmd_demo(settings, args)
    elif settings.resolved_database_url.startswith("sqlite"):
        # Embedded default: bring the file to the current schema so `serve` just works.
        cmd_migrate(settings, args)
    print(f"congvan on http://{args.host}:{args.port}  (API docs: http://{args.host}:{args.port}/docs)", flush=True)
    worker = None
    if settings.run_worker:
        from app import worker as background

        worker = background.start_in_thread(settings)
    try:
        uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)
    finally:
        if worker is not None:
            worker[1].set()
            worker[0].join(timeout=15)
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    """Run the background worker in the foreground until interrupted (SIGINT/SIGTERM)."""
    import logging
    import signal
    import threading

    from app import worker as background

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"congvan worker on {_redacted(settings.resolved_database_url)}, delivering to "
          f"{settings.exchange_endpoint or '(no CONGVAN_EXCHANGE_ENDPOINT: nothing is sent)'}", flush=True)
    background.run(settings, stop)
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _full_name(value: str) -> str:
    """A full name as the API takes one (app.schemas.organisation.UserIn.full_name): NFC, trimmed,
    not empty, at most 255 characters."""
    from pydantic import TypeAdapter, ValidationError

    from app.schemas.organisation import Name

    try:
        return TypeAdapter(Name).validate_python(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="congvan", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    def command(name: str, help_text: str, **kwargs) -> argparse.ArgumentParser:
        """A subcommand whose own --help starts with the same sentence the command list shows."""
        return sub.add_parser(name, help=help_text, description=f"{help_text[0].upper()}{help_text[1:]}.", **kwargs)

    serve = command("serve", "run the API server (uvicorn); on SQLite it migrates the database first")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--demo", action="store_true",
                       help="load the demo data first and print where to look (logins, URLs)")
    serve.set_defaults(func=cmd_serve)

    worker = command("worker", "run the background worker in the foreground (deliveries, reminders, webhooks)")
    worker.set_defaults(func=cmd_worker)

    trust = command("trust", "the certificates PDF signatures are checked against: add, list")
    trust_sub = trust.add_subparsers(dest="trust_command", required=True, title="commands", metavar="COMMAND")
    trust_add = trust_sub.add_parser("add", help="add the root or intermediate certificates of a PEM or DER file")
    trust_add.add_argument("file")
    trust_sub.add_parser("list", help="list the trusted certificates")
    trust.set_defaults(func=cmd_trust)

    migrate = command("migrate", "upgrade the configured database to the latest schema")
    migrate.set_defaults(func=cmd_migrate)

    create_user = command("create-user", "create a user (the first admin, for instance) under the API's rules")
    create_user.add_argument("--username", required=True)
    create_user.add_argument("--password", required=True,
                             help="the API's password rule applies; a refusal says what is wrong")
    create_user.add_argument("--role", action="append", required=True, help="repeat for several roles")
    create_user.add_argument("--full-name", required=True, type=_full_name,
                             help="the name printed on slips and in the logs (not blank)")
    create_user.add_argument("--unit", default=None, help="unit code")
    create_user.add_argument("--email", default=None, help="where the daily digest goes")
    create_user.set_defaults(func=cmd_create_user)

    user = command("user", "change a user: set (roles, unit, full name, active), password, revoke-tokens")
    user_sub = user.add_subparsers(dest="user_command", required=True, title="commands", metavar="COMMAND")
    user_set = user_sub.add_parser("set", help="change roles, unit, full name or whether the user is active")
    user_set.add_argument("--username", required=True)
    user_set.add_argument("--role", action="append", default=None, help="the new roles; repeat for several")
    user_set.add_argument("--unit", default=None, help="unit code ('' clears it)")
    user_set.add_argument("--full-name", default=None, type=_full_name)
    user_set.add_argument("--active", choices=["yes", "no"], default=None)
    user_password = user_sub.add_parser("password", help="set a new password (the API's rules apply)")
    user_password.add_argument("--username", required=True)
    user_password.add_argument("--password", required=True)
    user_revoke = user_sub.add_parser("revoke-tokens", help="refuse every token the user holds now")
    user_revoke.add_argument("--username", required=True)
    user.set_defaults(func=cmd_user)

    export = command("export-openapi", "write openapi/openapi.json from the app")
    export.add_argument("--output", default=str(OPENAPI_PATH))
    export.add_argument("--check", action="store_true", help="fail if the file differs from the app")
    export.set_defaults(func=cmd_export_openapi)

    messages = command("messages", "update the message catalog (app/i18n) from the code")
    messages.add_argument("--check", action="store_true", help="fail if the catalog is out of date or incomplete")
    messages.set_defaults(func=cmd_messages)

    gen = command("generate", "fill the database with realistic synthetic documents (benchmarks)")
    gen.add_argument("--documents", type=int, required=True)
    gen.add_argument("--years", type=int, default=None, help="span of arrivals (default: 1 per 100 000 documents)")
    gen.add_argument("--end", default=None, help="last arrival date (default today)")
    gen.add_argument("--seed", type=int, default=30)
    gen.set_defaults(func=cmd_generate)

    diagram = command("workflow-diagram", "print the workflow state machines as mermaid diagrams")
    diagram.set_defaults(func=cmd_workflow_diagram)

    demo = command("demo", "migrate and load the demo units, users and documents, then print where to look")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(Settings(), args)


if __name__ == "__main__":
    raise SystemExit(main())
