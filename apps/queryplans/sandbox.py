"""The sandbox PostgreSQL: the one narrow way analyzers run SQL from a pasted design.

Each use gets a throw-away schema owned by a low-privilege login role that can do nothing
outside it (no superuser, no CREATE on the database or other schemas, no temporary tables, no
extensions, no server files or programs), with statement_timeout, lock_timeout and work_mem
set on its session. The schema is dropped when the use ends, whatever happened; a periodic
task drops orphans left by killed processes (the schema name carries its creation time).
No Django here: settings come in as a SandboxConfig.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

SCHEMA_PREFIX = "wb_"
_SCHEMA_NAME = re.compile(rf"^{SCHEMA_PREFIX}(\d+)_[0-9a-f]+$")


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    admin_url: str  # a role that may create the database, the sandbox role and schemas
    role: str = "workbench_sandbox"
    role_password: str = ""
    statement_timeout_ms: int = 5_000
    lock_timeout_ms: int = 1_000
    work_mem: str = "16MB"
    orphan_after_seconds: int = 3_600

    @property
    def database(self) -> str:
        return urlsplit(self.admin_url).path.lstrip("/")

    def role_url(self) -> str:
        """The admin URL with the sandbox role's credentials instead."""
        parts = urlsplit(self.admin_url)
        host = parts.hostname or ""
        netloc = f"{self.role}:{self.role_password}@{host}" if self.role_password else f"{self.role}@{host}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))


class SandboxSession(Protocol):
    """What analyzers get: SQL in their own schema, nothing else."""

    schema: str

    def execute(self, query: str | sql.Composable, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def connection_parameters(self) -> dict[str, Any]: ...


class _Session:
    def __init__(self, connection: psycopg.Connection[Any], schema: str, config: SandboxConfig) -> None:
        self._connection = connection
        self.schema = schema
        self._config = config

    def connection_parameters(self) -> dict[str, Any]:
        """How another client (Django's schema editor) connects as the sandbox role, confined to
        this schema and under the same timeouts."""
        parts = urlsplit(self._config.role_url())
        options = (
            f"-c search_path={self.schema} -c statement_timeout={self._config.statement_timeout_ms}"
            f" -c lock_timeout={self._config.lock_timeout_ms} -c work_mem={self._config.work_mem}"
        )
        return {
            "NAME": parts.path.lstrip("/"),
            "USER": parts.username or "",
            "PASSWORD": parts.password or "",
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": {"options": options},
        }

    def execute(self, query: str | sql.Composable, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._connection.cursor() as cursor:
            cursor.execute(query, params)  # type: ignore[arg-type]  # analyzer SQL, parsed and allow-listed upstream
            return list(cursor.fetchall()) if cursor.description else []


def _admin(config: SandboxConfig, *, database: str | None = None) -> psycopg.Connection[Any]:
    url = config.admin_url
    if database is not None:
        url = urlunsplit(urlsplit(url)._replace(path="/" + database))
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def setup(config: SandboxConfig) -> None:
    """Create the sandbox database and role, and take every privilege the role must not have.

    Idempotent: the README's run and test commands call it each time.
    """
    with _admin(config, database="postgres") as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.database,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config.database)))
        role = sql.Identifier(config.role)
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (config.role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        password = (
            sql.SQL(" PASSWORD {}").format(sql.Literal(config.role_password)) if config.role_password else sql.SQL("")
        )
        admin.execute(
            sql.SQL(
                verb
                + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 20{}"
            ).format(role, password)
        )
    with _admin(config) as admin:
        database = sql.Identifier(config.database)
        role = sql.Identifier(config.role)
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, role))
        admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        admin.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET statement_timeout = {}").format(
                role, database, sql.Literal(config.statement_timeout_ms)
            )
        )


@contextmanager
def session(config: SandboxConfig, *, clock: Any = time.time) -> Iterator[SandboxSession]:
    """A throw-away schema and a connection as the sandbox role confined to it."""
    schema = f"{SCHEMA_PREFIX}{int(clock())}_{secrets.token_hex(6)}"
    with _admin(config) as admin:
        admin.execute(
            sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(schema), sql.Identifier(config.role))
        )
        try:
            with psycopg.connect(config.role_url(), autocommit=True, connect_timeout=5) as connection:
                connection.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
                connection.execute(
                    sql.SQL("SET statement_timeout = {}").format(sql.Literal(config.statement_timeout_ms))
                )
                connection.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(config.lock_timeout_ms)))
                connection.execute(sql.SQL("SET work_mem = {}").format(sql.Literal(config.work_mem)))
                connection.execute("SET idle_in_transaction_session_timeout = 60000")
                yield _Session(connection, schema, config)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def drop_orphans(config: SandboxConfig, *, now: float | None = None) -> list[str]:
    """Drop sandbox schemas older than orphan_after_seconds (their job died). Returns their names."""
    now = time.time() if now is None else now
    dropped = []
    with _admin(config) as admin:
        names = [
            row[0]
            for row in admin.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX + "%",))
        ]
        for name in names:
            match = _SCHEMA_NAME.match(name)
            if match and now - int(match.group(1)) > config.orphan_after_seconds:
                admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
                dropped.append(name)
    return dropped
