"""Private PostgreSQL and Redis servers for ./scripts/start, when none answers on this machine.

    local_services.py up     check the configured servers; start private ones where needed
    local_services.py down   stop the servers `up` started

`up` keeps a configured server that answers. When one does not answer and its URL names this
machine (127.0.0.1, localhost or ::1), it installs the Debian package if missing (postgresql-15,
redis-server) and starts a private server with its data, log and pid file under
$WORKBENCH_VAR_DIR (var/ by default): PostgreSQL in var/postgres (initdb with trust
authentication, listening on 127.0.0.1 only), Redis in var/redis. Each listens on the URL's port,
or on the next free one when something else holds that port. A URL naming another machine is
never replaced: `up` says that nothing answers there and fails. WORKBENCH_LOCAL_SERVICES=0 turns
the private servers off altogether.

`up` prints NAME=VALUE lines (DATABASE_URL, SANDBOX_DATABASE_URL, REDIS_URL and, when set, the
CELERY_* URLs, pointed at the servers in use) for the calling script to export; messages go to
stderr. What it started is written to var/local-services.json, which `down` reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/workbench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SANDBOX_DATABASE = "workbench_sandbox"
MIN_POSTGRES = 15
PORT_SEARCH = 100  # how far past a taken port to look for a free one


class ServiceError(Exception):
    pass


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", file=sys.stderr, flush=True)


def var_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_VAR_DIR") or ROOT / "var").resolve()


def state_file() -> Path:
    return var_dir() / "local-services.json"


# --- URLs and ports ---------------------------------------------------------------------------


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    host = parts.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port(wanted: int) -> int:
    for port in range(wanted, min(wanted + PORT_SEARCH, 65536)):
        if not port_taken(port):
            return port
    raise ServiceError(f"no free port between {wanted} and {wanted + PORT_SEARCH - 1} on 127.0.0.1")


# --- probes -----------------------------------------------------------------------------------


def postgres_answers(url: str) -> str | None:
    """None when PostgreSQL answers at `url` (as its user); otherwise why not."""
    try:
        with psycopg.connect(with_database(url, "postgres"), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def redis_answers(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    return None


def wait_until(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while (problem := check()) is not None:
        if time.monotonic() > deadline:
            raise ServiceError(f"{what} did not answer within {seconds:.0f} s: {problem}")
        time.sleep(0.2)


# --- packages and users -----------------------------------------------------------------------


def apt_install(*packages: str) -> None:
    if shutil.which("apt-get") is None:
        raise ServiceError(f"install {' or '.join(packages)} (no apt-get on this machine)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing Debian package {packages[0]}")
    subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=False)  # noqa: S603 - fixed command
    for package in packages:  # the first that the archive has
        result = subprocess.run(  # noqa: S603 - fixed command
            [*sudo, "apt-get", "install", "-y", "-qq", package], env=env, stdout=subprocess.DEVNULL, check=False
        )
        if result.returncode == 0:
            return
    raise ServiceError(f"apt-get could not install {' or '.join(packages)}")


def postgres_bin() -> Path | None:
    found = []
    for initdb in Path("/usr/lib/postgresql").glob("*/bin/initdb"):
        with contextlib.suppress(ValueError):
            found.append((int(initdb.parent.parent.name), initdb.parent))
    found = [(version, path) for version, path in found if version >= MIN_POSTGRES]
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")  # other distributions put it on PATH
    return Path(initdb).parent if initdb else None


def as_postgres(argv: list[str]) -> list[str]:
    """Run as the postgres OS user when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *argv]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]


def postgres_can_use(directory: Path) -> bool:
    if os.geteuid() != 0:
        return True
    result = subprocess.run(  # noqa: S603 - fixed command
        as_postgres(["test", "-w", str(directory)]), capture_output=True, check=False
    )
    return result.returncode == 0


# --- PostgreSQL -------------------------------------------------------------------------------


def postgres_home() -> Path:
    """var/postgres; or, when the postgres OS user cannot reach var/ (a checkout under /root), a
    folder of its own named after var/."""
    home = var_dir() / "postgres"
    home.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        if not postgres_can_use(home):
            digest = hashlib.sha256(str(var_dir()).encode()).hexdigest()[:12]
            home = Path("/var/lib/postgresql") / f"workbench-{digest}"
            home.mkdir(parents=True, exist_ok=True)
            shutil.chown(home, "postgres", "postgres")
            say(f"the postgres user cannot reach {var_dir()}; the local PostgreSQL keeps its data in {home}")
    return home


def pg_ctl(bindir: Path, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed command
        as_postgres([str(bindir / "pg_ctl"), "-D", str(data), *args]),
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,  # the server must not get the Ctrl-C meant for the script
    )


def start_postgres(url: str) -> dict[str, object]:
    bindir = postgres_bin()
    if bindir is None:
        apt_install("postgresql-15", "postgresql")
        bindir = postgres_bin()
        if bindir is None:
            raise ServiceError(f"no PostgreSQL {MIN_POSTGRES} or newer found after installing it")
    home = postgres_home()
    data = home / "data"
    log = home / "server.log"
    if not (data / "PG_VERSION").exists():
        say(f"creating a local PostgreSQL cluster in {data}")
        result = subprocess.run(  # noqa: S603 - fixed command
            as_postgres(
                [
                    *(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                    *("-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"),
                ]
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
    if pg_ctl(bindir, data, "status").returncode == 0:  # left running by a run that was killed
        pg_ctl(bindir, data, "-m", "fast", "-w", "stop")
    _, wanted = host_port(url, 5432)
    port = free_port(wanted)
    if port != wanted:
        say(f"port {wanted} is taken by a server that does not let us in; the local PostgreSQL uses {port}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
    result = pg_ctl(bindir, data, "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    if result.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        raise ServiceError("the local PostgreSQL did not start: " + "\n  ".join([result.stderr.strip(), *tail]))
    state = {"bindir": str(bindir), "data": str(data), "port": port, "log": str(log)}
    _save_state("postgres", state)
    user = urlsplit(url).username or "postgres"
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {} SUPERUSER LOGIN").format(sql.Identifier(user)))
    say(f"local PostgreSQL running on 127.0.0.1:{port} (data and log in {home})")
    return state


def stop_postgres(state: dict[str, object]) -> None:
    result = pg_ctl(Path(str(state["bindir"])), Path(str(state["data"])), "-m", "fast", "-w", "-t", "60", "stop")
    if result.returncode == 0:
        say("stopped the local PostgreSQL")


# --- Redis ------------------------------------------------------------------------------------


def _redis_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"redis-server" in command else None


def _terminate(pid: int, seconds: float = 15) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        if "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text(errors="replace"):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, FileNotFoundError):
        os.kill(pid, signal.SIGKILL)


def start_redis(url: str) -> dict[str, object]:
    server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if server is None:
        apt_install("redis-server")
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
    home = var_dir() / "redis"
    home.mkdir(parents=True, exist_ok=True)
    pidfile = home / "redis.pid"
    if (stale := _redis_pid(pidfile)) is not None:  # left running by a run that was killed
        _terminate(stale)
    _, wanted = host_port(url, 6379)
    port = free_port(wanted)
    if port != wanted:
        say(f"port {wanted} is taken by a server that does not answer as Redis; the local Redis uses {port}")
    result = subprocess.run(  # noqa: S603 - fixed command
        [
            *(server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(port)),
            *("--dir", str(home), "--logfile", str(home / "redis.log"), "--pidfile", str(pidfile)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ServiceError(f"the local Redis did not start: {result.stderr.strip() or result.stdout.strip()}")
    local_url = with_port(url, port)
    wait_until(lambda: redis_answers(local_url), 20, "the local Redis")
    wait_until(lambda: None if _redis_pid(pidfile) else "no pid file yet", 10, "the local Redis's pid file")
    state = {"pidfile": str(pidfile), "pid": _redis_pid(pidfile), "port": port}
    _save_state("redis", state)
    say(f"local Redis running on 127.0.0.1:{port} (data and log in {home})")
    return state


def stop_redis(state: dict[str, object]) -> None:
    pid = _redis_pid(Path(str(state["pidfile"])))
    if pid is not None and pid == state.get("pid"):
        _terminate(pid)
        say("stopped the local Redis")


# --- state ------------------------------------------------------------------------------------


def _load_state() -> dict[str, dict[str, object]]:
    try:
        return json.loads(state_file().read_text())
    except (OSError, ValueError):
        return {}


def _save_state(name: str, entry: dict[str, object]) -> None:
    state = _load_state()
    state[name] = entry
    state_file().parent.mkdir(parents=True, exist_ok=True)
    state_file().write_text(json.dumps(state, indent=2) + "\n")


def down() -> int:
    state = _load_state()
    if "redis" in state:
        stop_redis(state["redis"])
    if "postgres" in state:
        stop_postgres(state["postgres"])
    state_file().unlink(missing_ok=True)
    return 0


# --- up ---------------------------------------------------------------------------------------


def up() -> int:
    allowed = os.environ.get("WORKBENCH_LOCAL_SERVICES", "auto").strip().lower() not in {"0", "no", "false", "off"}
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    sandbox_url = os.environ.get("SANDBOX_DATABASE_URL") or with_database(database_url, SANDBOX_DATABASE)
    exports = {"DATABASE_URL": database_url, "SANDBOX_DATABASE_URL": sandbox_url, "REDIS_URL": redis_url}
    failed = False

    if _load_state():  # a run that was killed left its servers behind
        say("stopping the local servers a previous run left behind")
        down()

    problem = postgres_answers(database_url)
    host, port = host_port(database_url, 5432)
    if problem is not None:
        if allowed and host in LOOPBACK:
            say(f"no PostgreSQL answers at {host}:{port}; starting a local one")
            local_port = int(str(start_postgres(database_url)["port"]))
            exports["DATABASE_URL"] = with_port(database_url, local_port)
            if host_port(sandbox_url, 5432) == (host, port):
                exports["SANDBOX_DATABASE_URL"] = with_port(sandbox_url, local_port)
        else:
            failed = True
            print(
                f"error: no PostgreSQL answers at {host}:{port} ({problem}).\n"
                + (
                    "  A local one is started only for a URL on this machine (127.0.0.1, localhost, ::1).\n"
                    if allowed
                    else "  WORKBENCH_LOCAL_SERVICES=0: no local one is started.\n"
                )
                + "  Start yours, or point the workbench at one: DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/workbench",
                file=sys.stderr,
            )

    problem = redis_answers(redis_url)
    host, _ = host_port(redis_url, 6379)
    if problem is not None:
        if allowed and host in LOOPBACK:
            say(f"no Redis answers at {redis_url}; starting a local one")
            local_port = int(str(start_redis(redis_url)["port"]))
            exports["REDIS_URL"] = with_port(redis_url, local_port)
            for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
                value = os.environ.get(name)
                if value and host_port(value, 6379) == host_port(redis_url, 6379):
                    exports[name] = with_port(value, local_port)
        else:
            failed = True
            print(
                f"error: no Redis answers at {redis_url} ({problem}).\n"
                + (
                    "  A local one is started only for a URL on this machine (127.0.0.1, localhost, ::1).\n"
                    if allowed
                    else "  WORKBENCH_LOCAL_SERVICES=0: no local one is started.\n"
                )
                + "  Start yours, or point the workbench at one: REDIS_URL=redis://HOST:6379/0",
                file=sys.stderr,
            )

    for name, value in exports.items():
        print(f"{name}={value}")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["up"]:
        try:
            return up()
        except ServiceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if argv[1:] == ["down"]:
        return down()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
