"""The ``congvan`` command as an operator and a newcomer use it."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port

CONGVAN = [sys.executable, "-m", "app.cli"]


def run(args, env, check=True):
    result = subprocess.run(CONGVAN + args, env=env, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def fresh_env(tmp_path):
    """A brand-new SQLite data directory, as on a newcomer's machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGVAN_")}
    env["CONGVAN_DATA_DIR"] = str(tmp_path / "var")
    return env


def test_create_user_then_log_in(settings, staff):
    env = {**os.environ, "CONGVAN_DATA_DIR": str(settings.data_dir),
           "CONGVAN_DATABASE_URL": settings.resolved_database_url}
    out = run(["create-user", "--username", "cli_admin", "--password", "a long password", "--role", "admin",
               "--role", "auditor", "--unit", "VP", "--full-name", "Quản trị"], env)
    assert "cli_admin" in out.stdout
    again = run(["create-user", "--username", "cli_admin", "--password", "another long one", "--role", "admin",
                 "--full-name", "Quản trị"], env, check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad_role = run(["create-user", "--username", "cli_x", "--password", "a long password", "--role", "pope",
                    "--full-name", "Giáo hoàng"], env, check=False)
    assert bad_role.returncode == 1 and "pope" in bad_role.stderr


def test_create_user_applies_the_api_rules_for_passwords_and_full_names(settings, staff):
    """The password rule is the API's own (app.security.password_problem), and a full name is required:
    missing, empty or blank is refused with a message and a non-zero exit, and nobody is created."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.security import password_problem
    from tests.conftest import login

    env = {**os.environ, "CONGVAN_DATA_DIR": str(settings.data_dir),
           "CONGVAN_DATABASE_URL": settings.resolved_database_url}
    base = ["create-user", "--username", "cli_new", "--role", "clerk"]
    for password in ["short", "x" * 10, "cli_new", "p" * 257]:
        refused = run(base + ["--password", password, "--full-name", "Lê Văn Mới"], env, check=False)
        rule = password_problem(password, "cli_new")
        assert rule is not None and refused.returncode == 1
        assert str(rule) in refused.stderr, refused.stderr
    missing = run(base + ["--password", "a long password"], env, check=False)
    assert missing.returncode != 0 and "--full-name" in missing.stderr and "required" in missing.stderr
    for blank in ["", "   ", "\t"]:
        refused = run(base + ["--password", "a long password", "--full-name", blank], env, check=False)
        assert refused.returncode != 0 and "--full-name: must not be empty" in refused.stderr, refused.stderr
    with TestClient(create_app(settings)) as client:
        users = client.get("/api/v1/users", headers=login(client, "admin")).json()
        assert "cli_new" not in {u["username"] for u in users}
        run(base + ["--password", "a long password", "--full-name", "  Lê Văn Mới "], env)
        users = client.get("/api/v1/users", headers=login(client, "admin")).json()
        assert {u["username"]: u["full_name"] for u in users}["cli_new"] == "Lê Văn Mới"


def test_help_is_plain_text_and_lists_every_command(fresh_env):
    """``congvan --help`` and each command's help read as plain sentences: no RST markup."""
    top = run(["--help"], fresh_env).stdout
    commands = ["serve", "worker", "trust", "migrate", "create-user", "user", "export-openapi", "messages",
                "generate", "workflow-diagram", "demo"]
    listed = [line.split()[0] for line in top.splitlines() if line.startswith("    ") and line.split()]
    assert set(commands) <= set(listed), top
    assert "``" not in top and "congvan COMMAND --help" in top
    for command in commands + ["user set", "trust add"]:
        text = run(command.split() + ["--help"], fresh_env).stdout
        assert text.startswith(f"usage: congvan {command}") and "``" not in text, text
    assert "Create a user" in run(["create-user", "--help"], fresh_env).stdout
    assert "--full-name FULL_NAME" in run(["create-user", "--help"], fresh_env).stdout


def test_the_user_commands_follow_the_api_rules_and_end_tokens(settings, staff, engine):
    """``congvan user``: the API's password rule, and a change that holds from the next request."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    env = {**os.environ, "CONGVAN_DATA_DIR": str(settings.data_dir),
           "CONGVAN_DATABASE_URL": settings.resolved_database_url}
    short = run(["create-user", "--username", "cli_short", "--password", "short", "--role", "clerk",
                 "--full-name", "Lê Văn Ngắn"], env, check=False)
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    run(["create-user", "--username", "cli_clerk", "--password", "a long password", "--role", "clerk",
         "--unit", "VP", "--full-name", "Lê Văn Thư"], env)
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/v1/auth/token", data={"username": "cli_clerk", "password": "a long password"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
        weak = run(["user", "password", "--username", "cli_clerk", "--password", "cli_clerk"], env, check=False)
        assert weak.returncode == 1 and "too easy" in weak.stderr
        out = run(["user", "set", "--username", "cli_clerk", "--role", "specialist", "--active", "no"], env)
        assert "specialist" in out.stdout and "inactive" in out.stdout
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
        run(["user", "set", "--username", "cli_clerk", "--active", "yes"], env)
        run(["user", "password", "--username", "cli_clerk", "--password", "another long one"], env)
        again = client.post("/api/v1/auth/token", data={"username": "cli_clerk", "password": "another long one"})
        headers = {"Authorization": f"Bearer {again.json()['access_token']}"}
        assert client.get("/api/v1/auth/me", headers=headers).json()["roles"] == ["specialist"]
        run(["user", "revoke-tokens", "--username", "cli_clerk"], env)
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
        log = client.get("/api/v1/audit/security-events", params={"username": "cli_clerk", "limit": 50},
                         headers=login_admin(client))
        assert {e["actor"] for e in log.json()["items"] if e["kind"] != "login_succeeded"} >= {"(cli)"}
    missing = run(["user", "revoke-tokens", "--username", "nobody-at-all"], env, check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def login_admin(client) -> dict[str, str]:
    from tests.conftest import login

    return login(client, "admin")


def test_export_openapi_check_detects_drift(tmp_path, fresh_env):
    target = tmp_path / "spec.json"
    run(["export-openapi", "--output", str(target)], fresh_env)
    assert run(["export-openapi", "--check", "--output", str(target)], fresh_env).returncode == 0
    target.write_text(target.read_text().replace("documents-register", "renamed"))
    assert run(["export-openapi", "--check", "--output", str(target)], fresh_env, check=False).returncode == 1


def _read_lines(stream, into: list[str]) -> threading.Thread:
    """Collect a process's output lines on a thread, so that reading never blocks the test."""
    thread = threading.Thread(target=lambda: into.extend(iter(stream.readline, "")), daemon=True)
    thread.start()
    return thread


def _printed_guide(output: list[str]) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str | None]]]:
    """What ``serve --demo`` printed: username → (password, role), and each URL with the user to open it as."""
    users = {m[1]: (m[2], m[3]) for line in output if (m := re.match(r"^  (\w+)\s+(demo-\S+)\s+(\w+)\s", line))}
    urls, as_user = [], None
    for line in output:
        if line.startswith("  ") and not line.startswith("   "):
            as_user = m[1] if (m := re.search(r", as (\w+):$", line.rstrip())) else None
        elif line.startswith("    http"):
            urls.append((line.strip(), as_user))
    return users, urls


def _console_get(base: str, url: str, username: str, password: str) -> httpx.Response:
    """``url`` as a browser gets it after logging in to the console (its form, its CSRF field)."""
    with httpx.Client(base_url=base, follow_redirects=True) as browser:
        form = browser.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        signed = browser.post("/console/login", data={"username": username, "password": password, "csrf_token": csrf})
        assert signed.status_code == 200 and signed.url.path == "/console/", signed.text[:300]
        return browser.get(url)


def test_quickstart_serve_demo_on_a_fresh_data_dir(fresh_env):
    """`congvan serve --demo`: migrates, loads the demo, answers /health, /docs, and logs the clerk in;
    every URL of the guide it prints answers 200 to the user it names, with the password it prints,
    and the audit URLs' period holds the demo's documents (the default period, this year, does not)."""
    port = _free_port()
    process = subprocess.Popen(
        CONGVAN + ["serve", "--demo", "--port", str(port), "--log-level", "warning"],
        env=fresh_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    output: list[str] = []
    _read_lines(process.stdout, output)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "".join(output)
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        while not any(line.startswith("congvan on http://") for line in output):
            assert time.monotonic() < deadline, "".join(output)
            time.sleep(0.1)
        assert "swagger-ui" in httpx.get(f"{base}/docs").text
        credentials = Path(fresh_env["CONGVAN_DATA_DIR"], "demo-credentials.txt")
        assert oct(credentials.stat().st_mode & 0o777) == "0o600"
        saved = dict(line.split(": ", 1) for line in credentials.read_text().splitlines())
        password = saved["vanthu"]
        token = httpx.post(f"{base}/api/v1/auth/token", data={"username": "vanthu", "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        found = httpx.get(f"{base}/api/v1/incoming-documents", params={"q": "bao cao so ket"}, headers=headers)
        assert [d["symbol"] for d in found.json()["items"]] == ["08/BC-BCĐ"]
        seed_id = found.json()["items"][0]["id"]
        slip = httpx.get(f"{base}/api/v1/incoming-documents/{seed_id}/slip", headers=headers).json()
        assert [e["text"] for e in slip["office_opinions"]] == ["B/có: A. Hồng - Thủ trưởng"]
        direction = slip["leadership_directions"][0]
        assert direction["author"] == "Nguyễn Văn Hồng" and direction["at"].startswith("2013-08-16")
        assert [(a["unit_code"], a["role"]) for a in direction["assignments"]] == [
            ("VP", "lead"), ("VPB", "cooperate"), ("TTĐ", "inform")]
        assert slip["unit_directions"][0]["at"].startswith("2013-08-23")

        # The printed guide: users as the demo made them, and URLs that answer.
        users, urls = _printed_guide(output)
        assert {u: pw for u, (pw, _) in users.items()} == saved
        assert (users["vanthu"][1], users["kiemtoan"][1], users["anhhong"][1]) == ("clerk", "auditor", "leader")
        tokens = {}
        for username, (printed_password, _) in users.items():
            answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": printed_password})
            assert answer.status_code == 200, (username, answer.text)
            tokens[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        answers = {}
        for url, username in urls:
            assert url.startswith(base), url
            if "/console/" in url:  # a browser's session: the login form with the printed password
                answer = _console_get(base, url, username, users[username][0])
                assert answer.status_code == 200, (url, username, answer.text[:300])
                answers[url.removeprefix(base).split("?")[0]] = answer
                continue
            answer = httpx.get(url, headers=tokens[username] if username else {})
            assert answer.status_code == 200, (url, username, answer.text[:300])
            answers[url.removeprefix(base).split("?")[0]] = answer
        assert set(answers) == {
            "/console/", f"/console/documents/{seed_id}", "/docs", f"/api/v1/incoming-documents/{seed_id}/slip.html", "/api/v1/exchange/inbox",
            "/api/v1/audit/processing-times", "/api/v1/audit/compliance", "/api/v1/audit/register-book.csv"}
        assert "swagger-ui" in answers["/docs"].text
        assert "Công việc của tôi" in answers["/console/"].text
        assert "08/BC-BCĐ" in answers[f"/console/documents/{seed_id}"].text
        assert "PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN" in answers[f"/api/v1/incoming-documents/{seed_id}/slip.html"].text
        assert answers["/api/v1/exchange/inbox"].json()["total"] == 2
        figures = answers["/api/v1/audit/processing-times"].json()
        assert figures["period"]["from"] == "2013-01-01" and figures["period"]["to"] == "2013-12-31"
        assert sum(row["documents"] for row in figures["rows"]) == 1
        assert "08/BC-BCĐ" in answers["/api/v1/audit/register-book.csv"].content.decode("utf-8-sig")
        this_year = httpx.get(f"{base}/api/v1/audit/processing-times", headers=tokens["kiemtoan"]).json()
        assert sum(row["documents"] for row in this_year["rows"]) == 0  # why the guide gives the period
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_demo_twice_changes_nothing(fresh_env):
    first = run(["demo"], fresh_env)
    second = run(["demo"], fresh_env)
    assert "Demo data ready." in first.stdout and "already present" in second.stdout


def test_secret_key_is_generated_once_and_private(tmp_path):
    from app.config import Settings

    settings = Settings(data_dir=tmp_path)
    key = settings.signing_key()
    assert len(key) >= 40 and Settings(data_dir=tmp_path).signing_key() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
