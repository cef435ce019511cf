"""Running a generated Django project to prove it: in a child process that cannot harm the workbench.

The project is copied into a fresh temporary directory (removed afterwards, whatever happened)
and each step runs as its own child process of our .venv's interpreter (or ruff):

- `manage.py check`, `manage.py makemigrations --check --dry-run`, `manage.py migrate`,
  `ruff check .` and drf-spectacular's `manage.py spectacular --file schema.json`;
- with an environment holding only what the project needs: its settings module, a random
  SECRET_KEY, and DATABASE_URL/PGHOST/PGPORT naming its own sandbox database (issue 5's per-run
  role and database, from apps.sandbox); none of the workbench's variables;
- in new user, mount, network and PID namespaces: no network at all (not even loopback); the
  whole file system read-only, without devices or set-uid programs, except the project's
  directory; the directories in ENDPOINTS_PROOF_HIDDEN_PATHS (service sockets, the workbench's
  var/ with its secret key) covered by an empty read-only tmpfs; root only in its own user
  namespace and without capabilities, so the workbench's processes can be neither signalled,
  traced nor read (/proc shows the namespace's own); behind an init (proof_runner/init.py) whose
  end kills whatever the step left running, a daemon in its own session included;
- under CPU, address-space, file-size and open-file limits (setrlimit), a limit on processes
  (a pids cgroup of its own, ENDPOINTS_PROOF_PIDS_CGROUP) and a wall-clock limit after which
  its whole process group is killed.

The sandbox database is reached through a gate: a Unix socket in the temporary directory
whose other end is the sandbox PostgreSQL, letting through only a startup message for this
run's role and database (so `psql -U root` through it is refused, even on a server that
trusts local connections). The generated code is never imported here.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from django.conf import settings

from apps.endpoints.engine.drift import DriftLimits, find_drift
from apps.endpoints.engine.generate import GeneratedFile
from apps.sandbox.engine import SandboxSession
from apps.sandbox.services import sandbox_factory

Status = Literal["passed", "failed"]
STEPS = ("check", "makemigrations", "migrate", "ruff", "schema", "contract_tests", "queries")
_DJANGO_STEPS = ("makemigrations", "migrate", "schema", "contract_tests", "queries")  # need `check` passed
_DATABASE_STEPS = ("contract_tests", "queries")  # need `migrate` passed: they call the operations
SCHEMA_FILE = "schema.json"
CALLS_PLUGIN = Path(__file__).resolve().parent / "proof_runner" / "proof_calls.py"
_CALLS_FILES = {"contract_tests": ".proof-calls-one.json", "queries": ".proof-calls-many.json"}
_CALLS_RUN = {"contract_tests": "one", "queries": "many"}
_MAX_FIGURE = 10**6  # counts read back from the calls file beyond this are not believed

# PostgreSQL wire protocol: the codes a client's first message may carry.
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102
_MAX_STARTUP_BYTES = 10_000
_GATE_STARTUP_SECONDS = 5.0

# mount(2) and mount_setattr(2) (linux/mount.h; the system call's number is x86_64's and arm64's).
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
_SYS_MOUNT_SETATTR = 442
_AT_FDCWD, _AT_RECURSIVE = -100, 0x8000
_MOUNT_ATTR_RDONLY, _MOUNT_ATTR_NOSUID, _MOUNT_ATTR_NODEV = 0x1, 0x2, 0x4
INIT = Path(__file__).resolve().parent / "proof_runner" / "init.py"


class StepResult(TypedDict):
    status: Status
    reason: str  # empty when passed; otherwise why, in one line ("time limit: ...", "exit code 1")
    exit_code: int | None  # None when killed by a signal or not run
    seconds: float
    output: str  # stdout and stderr together, trimmed to ENDPOINTS_PROOF_OUTPUT_CHARS


@dataclass(frozen=True, slots=True)
class ProofLimits:
    step_seconds: int
    cpu_seconds: int
    memory_bytes: int
    file_size_bytes: int
    open_files: int
    processes: int
    pids_cgroup: str  # a pids cgroup directory where each step gets a group of its own; "" for none
    output_chars: int
    schema_bytes: int
    gate_connections: int
    hidden_paths: tuple[str, ...]
    list_items: int = 5
    max_queries: int = 50
    max_sql_chars: int = 2000
    calls_bytes: int = 8 * 1024 * 1024
    max_tests: int = 5000


@dataclass(frozen=True, slots=True)
class ProofRun:
    steps: dict[str, StepResult]  # keyed by STEPS, in that order
    schema: dict[str, Any] | None  # what drf-spectacular produced, when it did
    # The contract tests' calls, as proof_runner/proof_calls.py wrote them: "one" with one row for a
    # list to show, "many" with ProofLimits.list_items; each {"items": n, "tests": {test name:
    # {"outcome", "calls": [{"method", "path", "status", "count", "listed", "queries"}]}}}: only each
    # test's last call, read back as untrusted (_read_calls); None when not run.
    calls: dict[str, dict[str, Any] | None]
    sandbox: str  # the name of the role and database the run had (dropped by now)


class ProofUnavailable(Exception):
    """The child cannot be isolated on this machine (no user namespaces); nothing was run."""


def proof_limits() -> ProofLimits:
    return ProofLimits(
        step_seconds=settings.ENDPOINTS_PROOF_STEP_SECONDS,
        cpu_seconds=settings.ENDPOINTS_PROOF_CPU_SECONDS,
        memory_bytes=settings.ENDPOINTS_PROOF_MEMORY_MB * 1024 * 1024,
        file_size_bytes=settings.ENDPOINTS_PROOF_FILE_SIZE_MB * 1024 * 1024,
        open_files=settings.ENDPOINTS_PROOF_OPEN_FILES,
        processes=settings.ENDPOINTS_PROOF_PROCESSES,
        pids_cgroup=settings.ENDPOINTS_PROOF_PIDS_CGROUP,
        output_chars=settings.ENDPOINTS_PROOF_OUTPUT_CHARS,
        schema_bytes=settings.ENDPOINTS_PROOF_SCHEMA_MB * 1024 * 1024,
        gate_connections=settings.ENDPOINTS_PROOF_DB_CONNECTIONS,
        hidden_paths=tuple(settings.ENDPOINTS_PROOF_HIDDEN_PATHS),
        list_items=settings.ENDPOINTS_PROOF_LIST_ITEMS,
        max_queries=settings.ENDPOINTS_PROOF_MAX_QUERIES,
        max_sql_chars=settings.ENDPOINTS_PROOF_MAX_SQL_CHARS,
        calls_bytes=settings.ENDPOINTS_PROOF_CALLS_MB * 1024 * 1024,
        max_tests=settings.ENDPOINTS_PROOF_MAX_TESTS,
    )


def proof_bound_seconds(limits: ProofLimits | None = None) -> int:
    """The longest the proof's steps may take in all: each step's wall-clock limit
    (ENDPOINTS_PROOF_STEP_SECONDS), once per step; making and dropping the sandbox database and
    comparing the schemas come on top (seconds)."""
    return len(STEPS) * (limits or proof_limits()).step_seconds


def proof_run(
    *,
    project: Path,
    settings_module: str = "project.settings",
    limits: ProofLimits | None = None,
    sandbox: Callable[[], AbstractContextManager[SandboxSession]] | None = None,
    temp_root: Path | None = None,
) -> ProofRun:
    """Copy the project directory (manage.py at its top) into a temporary directory and prove it there."""
    files = ((path.relative_to(project).as_posix(), path.read_bytes()) for path in _walk(project))
    return proof_run_files(
        files=files, settings_module=settings_module, limits=limits, sandbox=sandbox, temp_root=temp_root
    )


def proof_run_files(
    *,
    files: Iterable[tuple[str, str | bytes]],
    settings_module: str = "project.settings",
    limits: ProofLimits | None = None,
    sandbox: Callable[[], AbstractContextManager[SandboxSession]] | None = None,
    temp_root: Path | None = None,
) -> ProofRun:
    """Write (relative path, content) pairs into a temporary directory and prove the project
    they make. The directory, and the sandbox role and database, are gone when this returns."""
    limits = limits or proof_limits()
    open_sandbox = sandbox or sandbox_factory()
    outer = Path(tempfile.mkdtemp(prefix="wb-proof-", dir=temp_root))
    try:
        work = outer / "project"
        for relative, content in files:
            target = _inside(work, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        (outer / "db").mkdir(mode=0o700)
        (outer / "log").mkdir(mode=0o700)
        (outer / "plugin").mkdir(mode=0o700)
        shutil.copyfile(CALLS_PLUGIN, outer / "plugin" / CALLS_PLUGIN.name)
        (work / ".tmp").mkdir(parents=True, exist_ok=True)
        with open_sandbox() as box:
            params = box.connection_parameters()
            with _Gate(socket_dir=outer / "db", params=params, max_connections=limits.gate_connections) as gate:
                env = _child_env(work=work, settings_module=settings_module, params=params, gate=gate)
                calls: dict[str, dict[str, Any] | None] = {"one": None, "many": None}
                steps = _run_steps(
                    work=work,
                    logs=outer / "log",
                    env=env,
                    limits=limits,
                    password=params["PASSWORD"],
                    plugin=outer / "plugin",
                    calls=calls,
                )
                schema = _read_schema(work / SCHEMA_FILE, limits) if steps["schema"]["status"] == "passed" else None
            return ProofRun(steps=steps, schema=schema, sandbox=box.schema, calls=calls)
    finally:
        shutil.rmtree(outer, ignore_errors=True)


def drift_limits() -> DriftLimits:
    return DriftLimits(
        max_depth=settings.ENDPOINTS_DRIFT_MAX_DEPTH,
        max_comparisons=settings.ENDPOINTS_DRIFT_MAX_COMPARISONS,
        max_items=settings.ENDPOINTS_DRIFT_MAX_ITEMS,
    )


def endpoints_prove(
    *,
    files: Iterable[GeneratedFile],
    openapi: Any,
    limits: ProofLimits | None = None,
    sandbox: Callable[[], AbstractContextManager[SandboxSession]] | None = None,
) -> dict[str, Any]:
    """Prove a generated project (the generator's files: the app and the project around it) and
    diff the OpenAPI it produces against the pasted one (`openapi`, the parsed document, or None).

    Returns the proof's dict: `check`, `makemigrations`, `migrate`, `ruff`, `schema`, `contract_tests`
    and `queries` (each a StepResult), `calls` (ProofRun.calls: each operation's captured SQL) and
    `drift` (`status`, `reason`, `items`: each drift item as a dict). Runs child processes for up
    to seven times ENDPOINTS_PROOF_STEP_SECONDS: call it from a Celery task, never
    from a web request. A machine that cannot confine the child gives every step failed with that
    reason; sandbox database errors propagate (the task's retries handle a database that is down)."""
    try:
        run = proof_run_files(files=((f.path, f.content) for f in files), limits=limits, sandbox=sandbox)
    except ProofUnavailable as exc:
        failed = StepResult(status="failed", reason=f"not run: {exc}", exit_code=None, seconds=0.0, output="")
        return {**{name: dict(failed) for name in STEPS}, "drift": _drift_not_run(f"not run: {exc}")}
    proof: dict[str, Any] = dict(run.steps)
    proof["calls"] = run.calls
    if run.schema is None:
        proof["drift"] = _drift_not_run("not run: drf-spectacular produced no schema")
    elif not isinstance(openapi, dict):
        proof["drift"] = _drift_not_run("not run: the design has no OpenAPI document")
    else:
        items = [item.as_dict() for item in find_drift(openapi, run.schema, limits=drift_limits())]
        proof["drift"] = {
            "status": "failed" if items else "passed",
            "reason": f"{len(items)} differences" if items else "",
            "items": items,
        }
    return proof


def _drift_not_run(reason: str) -> dict[str, Any]:
    return {"status": "failed", "reason": reason, "items": []}


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and not {"__pycache__", ".ruff_cache"} & set(path.relative_to(root).parts):
            yield path


def _inside(root: Path, relative: str) -> Path:
    """The file's place under root; a path leaving it (absolute, `..`) is refused."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()) or target == root.resolve():
        raise ValueError(f"file path outside the project: {relative!r}")
    return target


def _child_env(*, work: Path, settings_module: str, params: dict[str, Any], gate: _Gate) -> dict[str, str]:
    """Only what the project needs; nothing inherited from the workbench's environment."""
    bin_dir = str(Path(_python()).parent)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(work),
        "TMPDIR": str(work / ".tmp"),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "DJANGO_SETTINGS_MODULE": settings_module,
        "SECRET_KEY": secrets.token_urlsafe(40),
        # The host part is empty: libpq takes PGHOST, the gate's socket directory.
        "DATABASE_URL": f"postgres://{params['USER']}:{params['PASSWORD']}@/{params['NAME']}",
        "PGHOST": str(gate.socket_dir),
        "PGPORT": str(gate.port),
        "PGCONNECT_TIMEOUT": "5",
        "RAYON_NUM_THREADS": "2",
    }


def _python() -> str:
    return settings.ENDPOINTS_PROOF_PYTHON or sys.executable


def _ruff() -> str:
    return settings.ENDPOINTS_PROOF_RUFF or str(Path(sys.executable).parent / "ruff")


def _commands() -> dict[str, list[str]]:
    """Each step's command, behind the namespace's init (proof_runner/init.py)."""
    init = [_python(), "-I", "-S", str(INIT)]
    manage = [*init, _python(), "-s", "-B", "manage.py"]
    # The generated project's contract tests, with the plugin capturing each call's SQL.
    tests = [
        *init,
        _python(),
        "-s",
        "-B",
        "-m",
        "pytest",
        "-p",
        "proof_calls",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:logging",
        "--capture=sys",
        # Python's own tracebacks: pytest's re-read the whole test module for each failure (an
        # expected one included), a fifth of a second each on a large API's module.
        "--tb=native",
        "-q",
        "-rA",
    ]
    return {
        "check": [*manage, "check"],
        "makemigrations": [*manage, "makemigrations", "--check", "--dry-run", "--no-input"],
        "migrate": [*manage, "migrate", "--no-input"],
        "ruff": [*init, _ruff(), "check", ".", "--no-cache", "--output-format", "concise"],
        "schema": [*manage, "spectacular", "--file", SCHEMA_FILE, "--format", "openapi-json"],
        "contract_tests": tests,
        "queries": tests,
    }


def _run_steps(
    *,
    work: Path,
    logs: Path,
    env: dict[str, str],
    limits: ProofLimits,
    password: str,
    plugin: Path,
    calls: dict[str, dict[str, Any] | None],
) -> dict[str, StepResult]:
    """Run the steps in order; each contract-test run's calls are read into `calls` as soon as it
    ends (its file removed before it starts and after it is read: a run reports only itself)."""
    commands = _commands()
    steps: dict[str, StepResult] = {}
    for name in STEPS:
        blocker = ""
        if name in _DJANGO_STEPS and steps["check"]["status"] == "failed":
            blocker = "manage.py check"
        elif name in _DATABASE_STEPS and steps["migrate"]["status"] == "failed":
            blocker = "manage.py migrate"
        if blocker:
            steps[name] = StepResult(
                status="failed",
                reason=f"not run: {blocker} failed",
                exit_code=None,
                seconds=0.0,
                output="",
            )
            continue
        step_env = env
        if name in _DATABASE_STEPS:
            _write_conftest(work)
            step_env = {
                **env,
                "PYTHONPATH": str(plugin),
                "PROOF_CALLS_FILE": str(work / _CALLS_FILES[name]),
                "PROOF_ITEMS": str(limits.list_items if name == "queries" else 1),
                "PROOF_MAX_QUERIES": str(limits.max_queries),
                "PROOF_MAX_SQL_CHARS": str(limits.max_sql_chars),
            }
        if name in _DATABASE_STEPS:
            (work / _CALLS_FILES[name]).unlink(missing_ok=True)
        steps[name] = _run_step(commands[name], work=work, log=logs / f"{name}.log", env=step_env, limits=limits)
        if name in _DATABASE_STEPS:
            calls[_CALLS_RUN[name]] = _read_calls(work / _CALLS_FILES[name], limits)
            (work / _CALLS_FILES[name]).unlink(missing_ok=True)
        steps[name]["output"] = steps[name]["output"].replace(password, "********")
    return steps


@contextlib.contextmanager
def _pids_group(limits: ProofLimits) -> Iterator[Path | None]:
    """A pids cgroup of its own for one step, at most `limits.processes` tasks (RLIMIT_NPROC cannot
    do it: the kernel exempts uid 0, which the child is). None when no cgroup directory is set."""
    if not limits.pids_cgroup:
        yield None
        return
    group = Path(limits.pids_cgroup) / f"wb-proof-{secrets.token_hex(6)}"
    try:
        group.mkdir()
    except OSError as exc:
        raise ProofUnavailable(
            f"the child could not be isolated: no pids cgroup under {limits.pids_cgroup} ({exc.strerror});"
            " set ENDPOINTS_PROOF_PIDS_CGROUP"
        ) from exc
    try:
        (group / "pids.max").write_text(str(limits.processes))
        yield group
    finally:
        for _ in range(50):  # the namespace's processes are being killed; the group empties
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)


def _run_step(command: list[str], *, work: Path, log: Path, env: dict[str, str], limits: ProofLimits) -> StepResult:
    with _pids_group(limits) as group:
        return _run_step_in(command, work=work, log=log, env=env, limits=limits, group=group)


def _run_step_in(
    command: list[str], *, work: Path, log: Path, env: dict[str, str], limits: ProofLimits, group: Path | None
) -> StepResult:
    started = time.monotonic()
    # Output goes to a file, bounded by the child's own file-size limit, not into our memory.
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(  # noqa: S603 - our interpreter or ruff, arguments ours
                command,
                cwd=work,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
                preexec_fn=_confine(limits, work, group),  # makes system calls only (see _confine)
                close_fds=True,
            )
        except subprocess.SubprocessError as exc:
            # preexec_fn failed: the namespaces or the limits could not be set up.
            raise ProofUnavailable(f"the child could not be isolated: {exc}") from exc
        timed_out = False
        try:
            process.wait(timeout=limits.step_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # also whatever it left running
            process.wait()
    output = _trim(log, limits.output_chars)
    code = process.returncode
    seconds = round(time.monotonic() - started, 3)
    reason = _reason(code=code, timed_out=timed_out, output=output, limits=limits)
    return StepResult(
        status="passed" if not reason else "failed",
        reason=reason,
        exit_code=code if code is not None and code >= 0 else None,
        seconds=seconds,
        output=output,
    )


def _reason(*, code: int | None, timed_out: bool, output: str, limits: ProofLimits) -> str:
    if timed_out:
        return f"time limit: still running after {limits.step_seconds} s (ENDPOINTS_PROOF_STEP_SECONDS)"
    if code == -signal.SIGXCPU:
        return f"CPU limit: more than {limits.cpu_seconds} s of CPU (ENDPOINTS_PROOF_CPU_SECONDS)"
    if code == -signal.SIGKILL:
        # The hard CPU limit (a second after the soft one, for a child that ignored SIGXCPU) or the
        # machine's out-of-memory killer.
        return f"killed: the CPU limit ({limits.cpu_seconds} s) or the machine's memory ran out"
    if code == -signal.SIGXFSZ or "File too large" in output:
        return f"file-size limit: a file grew beyond {limits.file_size_bytes // (1024 * 1024)} MiB (ENDPOINTS_PROOF_FILE_SIZE_MB)"
    if "BlockingIOError: [Errno 11] Resource temporarily unavailable" in output:
        return f"process limit: more than {limits.processes} processes and threads (ENDPOINTS_PROOF_PROCESSES)"
    if "MemoryError" in output or "memory allocation of" in output or "Cannot allocate memory" in output:
        return f"memory limit: more than {limits.memory_bytes // (1024 * 1024)} MiB (ENDPOINTS_PROOF_MEMORY_MB)"
    if code is None or code < 0:
        return f"killed by signal {-(code or 0)}"
    if code != 0:
        return f"exit code {code}"
    return ""


def _trim(log: Path, limit: int) -> str:
    """The start and the end of the output (the end says why it failed), at most `limit` characters."""
    size = log.stat().st_size
    with log.open("rb") as source:
        if size <= limit:
            return source.read().decode("utf-8", "replace")
        head = source.read(limit // 4).decode("utf-8", "replace")
        source.seek(size - (limit - limit // 4))
        tail = source.read().decode("utf-8", "replace")
    return f"{head}\n... {size - limit} bytes left out ...\n{tail}"


# pytest-django's own fixture would create a test database (the sandbox role may not): a
# conftest's fixture wins over a plugin's, so the project's top gets one naming the plugin's.
_CONFTEST = "from proof_calls import django_db_setup  # noqa: F401 - the migrated database, as it is\n"


def _write_conftest(work: Path) -> None:
    conftest = work / "conftest.py"
    if conftest.exists() and conftest.read_text(encoding="utf-8", errors="replace") != _CONFTEST:
        raise ProofUnavailable("the generated project has a conftest.py of its own at its top")
    conftest.write_text(_CONFTEST, encoding="utf-8")


def _read_calls(path: Path, limits: ProofLimits) -> dict[str, Any] | None:
    """What the contract tests' plugin wrote, checked for its shape: anything else is None (the
    file is the generated project's to write, so it is read as untrusted)."""
    loaded = _read_json_object(path, limits.calls_bytes)
    if loaded is None or not isinstance(loaded.get("tests"), dict):
        return None
    tests: dict[str, Any] = {}
    for name, entry in loaded["tests"].items():
        if len(tests) >= limits.max_tests:
            break
        if not isinstance(entry, dict) or not isinstance(entry.get("calls"), list):
            continue
        # A contract test makes its operation's call last: only that one is kept.
        last = next((c for c in reversed(entry["calls"]) if isinstance(c, dict)), None)
        calls = []
        if last is not None:
            queries = last.get("queries") if isinstance(last.get("queries"), list) else []
            calls.append(
                {
                    "method": str(last.get("method", ""))[:16],
                    "path": str(last.get("path", ""))[:2000],
                    "status": _figure(last.get("status")),
                    "count": _figure(last.get("count")) or 0,
                    "listed": _figure(last.get("listed")),
                    "queries": [str(q)[: limits.max_sql_chars] for q in queries[: limits.max_queries]],
                }
            )
        tests[str(name)[:200]] = {"outcome": str(entry.get("outcome", ""))[:16], "calls": calls}
    return {"items": _figure(loaded.get("items")) or 0, "tests": tests}


def _figure(value: Any) -> int | None:
    """A count or a status as the calls file gives it: a whole number from 0 to a million, else None."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_FIGURE:
        return value
    return None


def _read_schema(path: Path, limits: ProofLimits) -> dict[str, Any] | None:
    return _read_json_object(path, limits.schema_bytes)


def _read_json_object(path: Path, max_bytes: int) -> dict[str, Any] | None:
    """A JSON object the child wrote, or None: no such file, larger than `max_bytes`, not JSON,
    nested past the parser's depth, or not an object."""
    if not path.is_file() or path.stat().st_size > max_bytes:
        return None
    try:
        loaded = json.loads(path.read_bytes())
    except (ValueError, RecursionError):
        return None
    return loaded if isinstance(loaded, dict) else None


# --- The child's confinement ----------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def _confine(limits: ProofLimits, work: Path, group: Path | None) -> Callable[[], None]:
    """What runs in the child between fork and exec. Everything it needs is computed here, before
    the fork; the function itself only makes system calls.

    New user, mount, network and PID namespaces (the child is root in its own user namespace only,
    and its first child is init of its own PID namespace: proof_runner/init.py); the whole file
    system read-only, without devices or set-uid programs, except the project's directory; the
    hidden paths covered by an empty read-only tmpfs; then the resource limits."""
    uid, gid = os.geteuid(), os.getegid()
    maps = (
        ("/proc/self/setgroups", b"deny"),
        ("/proc/self/uid_map", f"0 {uid} 1".encode()),
        ("/proc/self/gid_map", f"0 {gid} 1".encode()),
    )
    # /var/run is often a link to /run: one mount each.
    hidden = sorted({os.path.realpath(path).encode() for path in limits.hidden_paths if os.path.isdir(path)})
    project = str(work).encode()
    procs = str(group / "cgroup.procs") if group is not None else None
    locked = _MountAttr(_MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID | _MOUNT_ATTR_NODEV, 0, 0, 0)
    writable = _MountAttr(0, _MOUNT_ATTR_RDONLY, 0, 0)
    rlimits = (
        (resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1)),
        (resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes)),
        (resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes)),
        (resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files)),
        (resource.RLIMIT_CORE, (0, 0)),
    )

    def mount(source: bytes | None, target: bytes, kind: bytes | None, flags: int, data: bytes | None) -> None:
        if _libc.mount(source, target, kind, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target.decode()}")

    def set_attributes(target: bytes, flags: int, attr: _MountAttr) -> None:
        if _libc.syscall(_SYS_MOUNT_SETATTR, _AT_FDCWD, target, flags, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:
            raise OSError(ctypes.get_errno(), f"mount_setattr {target.decode()}")

    def confine() -> None:
        if procs is not None:  # first: the file system is read-only once confined
            fd = os.open(procs, os.O_WRONLY)
            try:
                os.write(fd, b"0")  # "0": the writing process itself
            finally:
                os.close(fd)
        os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNS | os.CLONE_NEWNET | os.CLONE_NEWPID)
        for path, text in maps:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)
        mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None)  # what follows stays in the child
        mount(project, project, None, _MS_BIND | _MS_REC, None)
        for path in hidden:
            mount(b"tmpfs", path, b"tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, b"size=4k,mode=0555")
        set_attributes(b"/", _AT_RECURSIVE, locked)
        set_attributes(project, _AT_RECURSIVE, writable)
        os.chdir(project)  # the working directory was entered before the bind mount covered it
        for kind, pair in rlimits:
            resource.setrlimit(kind, pair)

    return confine


# --- The gate to the sandbox database -------------------------------------------------------------


class _Gate:
    """A Unix socket whose other end is the sandbox PostgreSQL, for one role and one database.

    Each client's first message is read here: SSL and GSS encryption requests are declined (so
    the startup message arrives in clear), a cancel request is dropped, and a startup message
    naming another user or database (or asking for replication) is answered with an error and
    the connection closed. What follows is relayed as bytes."""

    port = 5432  # only names the socket file: .s.PGSQL.5432

    def __init__(self, *, socket_dir: Path, params: dict[str, Any], max_connections: int) -> None:
        self.socket_dir = socket_dir
        self._user = str(params["USER"])
        self._database = str(params["NAME"])
        host = str(params.get("HOST") or "")
        port = int(params.get("PORT") or 5432)
        # libpq's rules: a host starting with "/" is a socket directory; none means the default one.
        self._upstream: tuple[int, Any]
        if host.startswith("/") or not host:
            self._upstream = (socket.AF_UNIX, f"{host or '/var/run/postgresql'}/.s.PGSQL.{port}")
        else:
            self._upstream = (socket.AF_INET, (host, port))
        self._slots = threading.BoundedSemaphore(max_connections)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> _Gate:
        path = self.socket_dir / f".s.PGSQL.{self.port}"
        self._listener.bind(str(path))
        self._listener.listen(16)
        accept = threading.Thread(target=self._accept, name="proof-gate", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                client.close()
                continue
            thread = threading.Thread(target=self._serve, args=(client,), name="proof-gate-conn", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            if self._closed:
                sock.close()
                raise OSError("gate closed")
            self._open.add(sock)

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            self._track(client)
            client.settimeout(_GATE_STARTUP_SECONDS)
            startup = self._startup(client)
            if startup is None:
                return
            family, address = self._upstream
            if family == socket.AF_UNIX:
                upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                upstream.settimeout(_GATE_STARTUP_SECONDS)
                upstream.connect(address)
            else:
                upstream = socket.create_connection(address, timeout=_GATE_STARTUP_SECONDS)
            self._track(upstream)
            upstream.sendall(startup)
            client.settimeout(None)
            upstream.settimeout(None)
            _relay(client, upstream)
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(client)
                if upstream is not None:
                    self._open.discard(upstream)
            client.close()
            if upstream is not None:
                upstream.close()
            self._slots.release()

    def _startup(self, client: socket.socket) -> bytes | None:
        """The client's startup message when it is for our role and database, else None."""
        while True:
            header = _read_exactly(client, 8)
            length, code = struct.unpack("!ii", header)
            if length < 8 or length > _MAX_STARTUP_BYTES:
                return None
            body = _read_exactly(client, length - 8)
            if code in (_SSL_REQUEST, _GSSENC_REQUEST) and length == 8:
                client.sendall(b"N")
                continue
            if code == _CANCEL_REQUEST or code >> 16 != 3:
                return None
            parts = body.split(b"\0")
            values = dict(zip(parts[0::2], parts[1::2], strict=False))
            user = values.get(b"user", b"").decode("utf-8", "replace")
            database = values.get(b"database", values.get(b"user", b"")).decode("utf-8", "replace")
            if user != self._user or database != self._database or b"replication" in values:
                client.sendall(_error(f"this sandbox admits only role {self._user} to database {self._database}"))
                return None
            return header + body


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise OSError("closed during startup")
        chunks.extend(chunk)
    return bytes(chunks)


def _error(message: str) -> bytes:
    fields = b"SFATAL\0VFATAL\0C28000\0M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    back = threading.Thread(target=pump, args=(b, a), name="proof-gate-relay", daemon=True)
    back.start()
    pump(a, b)
    back.join()
