import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.conftest import ROOT
from workbench.secret_key import load_or_create


def test_the_start_script_says_which_service_is_missing_and_how_to_point_elsewhere() -> None:
    env = {**os.environ, "DATABASE_URL": "postgres://root@127.0.0.1:1/workbench", "REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run(
        [sys.executable, "scripts/check_services.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no PostgreSQL answers at 127.0.0.1:1" in result.stderr
    assert "DATABASE_URL=postgres://" in result.stderr
    assert "no Redis answers at redis://127.0.0.1:1/0" in result.stderr
    assert "REDIS_URL=redis://" in result.stderr
    assert "Traceback" not in result.stderr


# --- the generated secret key ---------------------------------------------------------------------


def test_the_secret_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    key = load_or_create(path)
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_a_secret_key_file_with_loose_permissions_is_tightened_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("k" * 60 + "\n")
    path.chmod(0o644)
    assert load_or_create(path) == "k" * 60
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unusable_secret_key_file_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("short\n")
    with pytest.raises(ImproperlyConfigured, match="delete it"):
        load_or_create(path)
    assert path.read_text() == "short\n"


def _settings_in_a_fresh_process(tmp_path: Path, **env: str) -> dict[str, object]:
    names = ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "HTTPS")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'key': s.SECRET_KEY, 'redirect': s.SECURE_SSL_REDIRECT, 'cookie_secure': s.SESSION_COOKIE_SECURE,"
        "'csrf_secure': s.CSRF_COOKIE_SECURE, 'hsts': s.SECURE_HSTS_SECONDS,"
        "'storage': s.STORAGES['staticfiles']['BACKEND']}))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "workbench.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_read_the_key_file_and_https_follows_debug_unless_set(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    production = _settings_in_a_fresh_process(tmp_path, DEBUG="false", SECRET_KEY_FILE=str(key_file))
    assert production["key"] == key_file.read_text().strip()
    assert production["redirect"] is True and production["cookie_secure"] is True and production["hsts"]
    assert production["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    local = _settings_in_a_fresh_process(tmp_path, DEBUG="false", SECRET_KEY_FILE=str(key_file), HTTPS="false")
    assert local["key"] == production["key"]
    assert local["redirect"] is False and local["cookie_secure"] is False and local["csrf_secure"] is False
    assert not local["hsts"]
    explicit = _settings_in_a_fresh_process(
        tmp_path, DEBUG="false", SECRET_KEY="e" * 60, SECRET_KEY_FILE="/nonexistent/x"
    )
    assert explicit["key"] == "e" * 60


def test_local_servers_are_never_started_for_a_url_on_another_machine(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "WORKBENCH_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://root@db.invalid:5432/workbench",
        "REDIS_URL": "redis://cache.invalid:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "scripts/local_services.py", "up"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no PostgreSQL answers at db.invalid:5432" in result.stderr
    assert "no Redis answers at redis://cache.invalid:6379/0" in result.stderr
    assert "only for a URL on this machine" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "local-services.json").exists()
    assert not (tmp_path / "postgres").exists()


# --- ./scripts/start from cold: private servers, gunicorn, Celery, and a clean stop ----------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _processes() -> Iterator[tuple[int, int, str, str, bytes]]:
    """(pid, ppid, state, command line, environment) of every live process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if fields[0] != "Z":
            yield int(entry.name), int(fields[1]), fields[0], cmdline, environ


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]) != "Z"
    except OSError:
        return False


def _belonging_to(var: Path, script_pid: int) -> dict[int, str]:
    """Every process of one start: the script's descendants, whatever runs with its var dir, and
    the private PostgreSQL (its postmaster and backends) and Redis recorded under it."""
    processes = list(_processes())
    children: dict[int, list[int]] = {}
    for pid, ppid, *_ in processes:
        children.setdefault(ppid, []).append(pid)
    roots = {script_pid}
    marker = f"WORKBENCH_VAR_DIR={var}\0".encode()
    roots |= {pid for pid, _, _, cmdline, environ in processes if marker in environ or str(var) in cmdline}
    state_path = var / "local-services.json"
    if state_path.exists():
        state = json.loads(state_path.read_text())
        if "redis" in state:
            roots.add(int(state["redis"]["pid"]))
        if "postgres" in state:
            postmaster = Path(state["postgres"]["data"]) / "postmaster.pid"
            if postmaster.exists():
                roots.add(int(postmaster.read_text().split()[0]))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    commands = {pid: cmdline for pid, _, _, cmdline, _ in processes}
    return {pid: commands.get(pid, "") for pid in found if _alive(pid)}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _get(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None) -> tuple[int, dict, str]:
    try:
        with opener.open(url, data=data, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode(errors="replace")


def _wait_until_serving(process: subprocess.Popen, base: str, log: Path, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if process.poll() is not None:
            pytest.fail(f"./scripts/start ended with {process.returncode}:\n{log.read_text()[-6000:]}")
        try:
            with urllib.request.urlopen(base + "healthz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"nothing answered at {base}healthz within {seconds} s:\n{log.read_text()[-6000:]}")


def _stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"./scripts/start did not stop within 120 s of SIGTERM:\n{log.read_text()[-4000:]}")
    assert process.returncode == 143, log.read_text()[-4000:]


def _assert_all_gone(processes: dict[int, str], var: Path, ports: list[int]) -> None:
    deadline = time.monotonic() + 10  # a reparented process may still be on its way out
    while (left := {pid: cmd for pid, cmd in processes.items() if _alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running after the start script stopped: {left}"
    strays = _belonging_to(var, -1)
    assert not strays, f"processes of this start still running: {strays}"
    assert not [port for port in ports if _answers(port)]


@pytest.mark.slow
def test_the_start_script_serves_like_production_from_cold_and_stops_everything(request: pytest.FixtureRequest) -> None:
    var = Path(tempfile.mkdtemp(prefix="wb-start-"))
    var.chmod(0o755)  # the postgres OS user keeps the private cluster in it
    pg_port, redis_port, web_port = _free_port(), _free_port(), _free_port()
    assert not _answers(pg_port) and not _answers(redis_port)
    removed = {
        "DATABASE_URL", "SANDBOX_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND",
        "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "HTTPS", "ALLOWED_HOSTS", "HOST", "WEB_CONCURRENCY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }  # fmt: skip
    env = {
        **{k: v for k, v in os.environ.items() if k not in removed},
        "WORKBENCH_VAR_DIR": str(var),
        "DATABASE_URL": f"postgres://root@127.0.0.1:{pg_port}/workbench",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "PORT": str(web_port),
        "MIGRATION_CALIBRATION_SMALL_ROWS": "2000",
        "MIGRATION_CALIBRATION_LARGE_ROWS": "8000",
    }
    base = f"http://127.0.0.1:{web_port}/"
    log = var / "start.log"
    process: subprocess.Popen | None = None

    def launch() -> subprocess.Popen:
        with log.open("a") as out:
            return subprocess.Popen(
                ["./scripts/start"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    try:
        # First start: nothing answers at either URL, so private servers are made under var/.
        process = launch()
        cold = _wait_until_serving(process, base, log, 600)
        request.node.user_properties.append(("cold_start_seconds", round(cold, 1)))
        print(f"cold start until /healthz answered: {cold:.1f} s")
        running = _belonging_to(var, process.pid)
        commands = list(running.values())
        assert sum("gunicorn" in c for c in commands) >= 3, commands  # the master and several workers
        assert any("celery" in c and "worker" in c and "--beat" in c for c in commands), commands
        assert any(f"-p {pg_port}" in c and "postgres" in c for c in commands), commands
        assert any(f"redis-server 127.0.0.1:{redis_port}" in c for c in commands), commands

        key_file = var / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text()
        assert len(key.strip()) >= 50

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        status, _, page = _get(browser, base + "login/")
        assert status == 200
        assert "djdt" not in page and "DEBUG" not in page
        css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        assert css, "the stylesheet is linked under its hashed name"
        status, headers, _ = _get(browser, base.rstrip("/") + css.group(1))
        assert status == 200 and headers["Content-Type"].startswith("text/css")
        assert "immutable" in headers.get("Cache-Control", "") or "max-age=315360000" in headers.get(
            "Cache-Control", ""
        )
        status, _, missing = _get(browser, base + "no-such-page/")
        assert status == 404 and "DEBUG = True" not in missing and "URLconf" not in missing

        # Logging in works over plain HTTP on the loopback address (no redirect to HTTPS, no
        # secure-only cookies) with the demo login seeded by the script.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token.group(1), "username": "demo", "password": "demo-workbench", "next": "/"}
        ).encode()
        status, headers, _ = _get(browser, base + "login/", data=form)
        assert status == 302 and headers["Location"] == "/", (status, headers)
        # Pages logged in, and every static file they name, render from the manifest.
        for path in ("", "api/docs/"):
            status, _, body = _get(browser, base + path)
            assert status == 200, (path, body[:2000])
            for asset in set(re.findall(r'(?:href|src)="(/static/[^"]+)"', body)):
                assert _get(browser, base.rstrip("/") + asset)[0] == 200, asset
        assert {c.name for c in jar} >= {"sessionid", "csrftoken"} and not any(c.secure for c in jar)
        session = next(c.value for c in jar if c.name == "sessionid")

        # The Celery worker answers /readyz's ping.
        deadline = time.monotonic() + 60
        while (ready := _get(browser, base + "readyz"))[0] != 200 and time.monotonic() < deadline:
            time.sleep(1)
        assert ready[0] == 200, ready[2]

        _stop(process, log)
        _assert_all_gone(running, var, [pg_port, redis_port, web_port])
        assert not (var / "local-services.json").exists()

        # Second start: the same key, so the session from the first run is still signed right.
        process = launch()
        warm = _wait_until_serving(process, base, log, 300)
        request.node.user_properties.append(("warm_start_seconds", round(warm, 1)))
        print(f"warm start until /healthz answered: {warm:.1f} s")
        running = _belonging_to(var, process.pid)
        assert key_file.read_text() == key and stat.S_IMODE(key_file.stat().st_mode) == 0o600
        again = urllib.request.build_opener(_NoRedirect())
        again.addheaders = [("Cookie", f"sessionid={session}")]
        status, _, page = _get(again, base)
        assert status == 200, f"the first run's session no longer works ({status})"
        _stop(process, log)
        _assert_all_gone(running, var, [pg_port, redis_port, web_port])
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        subprocess.run(
            [sys.executable, "scripts/local_services.py", "down"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        for pid in _belonging_to(var, -1):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(var, ignore_errors=True)
