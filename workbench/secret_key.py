"""A SECRET_KEY generated once and kept in a file readable by its owner only.

`./scripts/start` points SECRET_KEY_FILE at var/secret_key, so that a local production-like run
needs no configuration and keeps its sessions and signed links valid across restarts. Several
processes (web workers, the Celery worker) may read it at once; the first one creates it.
"""

import contextlib
import os
import secrets
import stat
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

MODE = 0o600
MIN_LENGTH = 50  # what `check --deploy` asks for


def load_or_create(path: Path) -> str:
    """Return the key stored at `path`, creating the file (mode 0600) with a new key if absent."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, MODE)  # a copy restored with looser permissions is tightened, not refused
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(
            f"{path} holds no usable SECRET_KEY (fewer than {MIN_LENGTH} characters); delete it to have a new one made"
        )
    return key


def _create(path: Path) -> None:
    # Written in full to a private temporary file, then linked into place: a concurrent reader
    # sees either no file or the whole key, and of two concurrent creators the first one wins.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(64) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs is kept
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
