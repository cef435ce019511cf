from collections.abc import Callable
from contextlib import AbstractContextManager

from django.conf import settings

from apps.sandbox import engine as sandbox
from apps.sandbox.engine import SandboxConfig, SandboxSession


def sandbox_config() -> SandboxConfig:
    return SandboxConfig(
        admin_url=settings.SANDBOX_DATABASE_URL,
        statement_timeout_ms=settings.SANDBOX_STATEMENT_TIMEOUT_MS,
        lock_timeout_ms=settings.SANDBOX_LOCK_TIMEOUT_MS,
        work_mem=settings.SANDBOX_WORK_MEM,
        temp_file_limit=settings.SANDBOX_TEMP_FILE_LIMIT,
        connection_limit=settings.SANDBOX_ROLE_CONNECTION_LIMIT,
        session_max_seconds=settings.SANDBOX_SESSION_MAX_SECONDS,
        orphan_after_seconds=settings.SANDBOX_ORPHAN_AFTER_SECONDS,
    )


def sandbox_factory() -> Callable[[], AbstractContextManager[SandboxSession]]:
    """What the analysis pipeline is given to open sandbox sessions."""
    config = sandbox_config()
    return lambda: sandbox.session(config)
