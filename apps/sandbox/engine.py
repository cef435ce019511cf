"""The sandbox PostgreSQL: the one narrow way analyzers run SQL from a pasted design.

Each session gets its own login role, database and schema, made by the admin connection for it
and dropped when it ends, whatever happened:
- the role is `NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`, has a random password and a small
  connection limit, and carries statement_timeout, lock_timeout, work_mem, temp_file_limit (which
  only a superuser may change) and its search_path as role settings;
- the database is a copy of the sandbox template database (`sandbox_setup` prepares it: no
  privilege for PUBLIC on the database or its public schema, no procedural or SQL language, so
  no CREATE FUNCTION and no DO, no pg_sleep, large-object or query-to-XML functions), where only
  this role may connect; so one session can neither read another's tables nor even list them,
  and pg_stat_activity shows it other sessions' queries as `<insufficient privilege>`;
- whatever the role does to itself (`ALTER ROLE CURRENT_USER SET …`) dies with it;
- a watchdog ends the role's connections once the session outlives `session_max_seconds`, for
  a query that lifted its own statement_timeout.
A periodic task drops what killed processes left behind (the names carry their creation time).
No Django here: settings come in as a SandboxConfig.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

logger = logging.getLogger(__name__)

PREFIX = "wb_"
_NAME = re.compile(rf"^{PREFIX}(\d+)_[0-9a-f]+$")
_CREATE_ATTEMPTS = 5
LEGACY_ROLE = "workbench_sandbox"  # the one role every session shared before sessions had their own

# Functions PUBLIC may not execute in the sandbox: sleeping, server-side large objects (they
# outlive a schema), and the functions that run a query given as text.
_REVOKED_FUNCTIONS = """
SELECT p.oid::regprocedure::text FROM pg_proc p
 WHERE p.pronamespace = 'pg_catalog'::regnamespace
   AND (p.proname IN ('pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'query_to_xml', 'query_to_xmlschema',
                      'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema', 'table_to_xml',
                      'table_to_xmlschema', 'table_to_xml_and_xmlschema', 'schema_to_xml', 'schema_to_xmlschema',
                      'schema_to_xml_and_xmlschema', 'database_to_xml', 'database_to_xmlschema',
                      'database_to_xml_and_xmlschema', 'pg_notify', 'pg_current_logfile')
        OR p.proname LIKE 'lo\\_%' OR p.proname IN ('loread', 'lowrite'))
"""


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    admin_url: str  # a superuser (or a role that may create databases and roles) on the template database
    statement_timeout_ms: int = 5_000
    lock_timeout_ms: int = 1_000
    work_mem: str = "16MB"
    temp_file_limit: str = "256MB"
    connection_limit: int = 3
    session_max_seconds: int = 600
    orphan_after_seconds: int = 3_600

    @property
    def database(self) -> str:
        """The template database each session's database is copied from."""
        return urlsplit(self.admin_url).path.lstrip("/")

    def url(self, *, database: str, user: str | None = None, password: str | None = None) -> str:
        """The admin URL, on another database and, when given, as another role."""
        parts = urlsplit(self.admin_url)._replace(path="/" + database)
        if user is not None:
            host = parts.hostname or ""
            netloc = quote(user, safe="") + (":" + quote(password, safe="") if password else "") + "@" + host
            if parts.port:
                netloc += f":{parts.port}"
            parts = parts._replace(netloc=netloc)
        return urlunsplit(parts)


class SandboxSession(Protocol):
    """What analyzers get: SQL in their own database and schema, nothing else."""

    schema: str

    def execute(self, query: str | sql.Composable, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def connection_parameters(self) -> dict[str, Any]: ...


class _Session:
    def __init__(self, connection: psycopg.Connection[Any], name: str, password: str, config: SandboxConfig) -> None:
        self._connection = connection
        self.schema = name
        self.role = name
        self.database = name
        self._password = password
        self._config = config

    def connection_parameters(self) -> dict[str, Any]:
        """How another client (Django's schema editor) connects as this session's role, to its
        database and schema, under the same timeouts."""
        parts = urlsplit(self._config.admin_url)
        options = (
            f"-c search_path={self.schema} -c statement_timeout={self._config.statement_timeout_ms}"
            f" -c lock_timeout={self._config.lock_timeout_ms} -c work_mem={self._config.work_mem}"
        )
        return {
            "NAME": self.database,
            "USER": self.role,
            "PASSWORD": self._password,
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": {"options": options},
        }

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """The session's own connection (its role, its database), for what needs a cursor of its
        own kind (the query plans' `$n` parameters)."""
        return self._connection

    def execute(self, query: str | sql.Composable, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._connection.cursor() as cursor:
            cursor.execute(query, params)  # type: ignore[arg-type]  # analyzer SQL, parsed and allow-listed upstream
            return list(cursor.fetchall()) if cursor.description else []


def _admin(config: SandboxConfig, *, database: str = "postgres") -> psycopg.Connection[Any]:
    return psycopg.connect(config.url(database=database), autocommit=True, connect_timeout=5)


def setup(config: SandboxConfig) -> None:
    """Prepare the template database every session's database is copied from, and undo what a
    role may have done to itself. Idempotent: the README's run and test commands call it each time."""
    template = sql.Identifier(config.database)
    with _admin(config) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (config.database,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(template))
        admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false ALLOW_CONNECTIONS true").format(template))
        admin.execute(sql.SQL("ALTER DATABASE {} RESET ALL").format(template))
        # Settings any sandbox role gave itself (ALTER ROLE CURRENT_USER SET ...) go; the role every
        # session once shared may no longer log in.
        roles = [
            row[0]
            for row in admin.execute(
                "SELECT rolname FROM pg_roles WHERE NOT rolsuper AND (rolname = %s OR rolname LIKE %s)",
                (LEGACY_ROLE, PREFIX.replace("_", "\\_") + "%"),
            )
        ]
        for role in roles:
            admin.execute(sql.SQL("ALTER ROLE {} RESET ALL").format(sql.Identifier(role)))
            admin.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(sql.Identifier(role), template))
        if LEGACY_ROLE in roles:
            admin.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(LEGACY_ROLE)))
    with _admin(config, database=config.database) as admin:
        admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(template))
        admin.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for language in ("plpgsql", "sql"):
            if admin.execute("SELECT 1 FROM pg_language WHERE lanname = %s", (language,)).fetchone():
                admin.execute(sql.SQL("REVOKE USAGE ON LANGUAGE {} FROM PUBLIC").format(sql.Identifier(language)))
        for (function,) in admin.execute(_REVOKED_FUNCTIONS).fetchall():
            admin.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(sql.SQL(function)))
        # HypoPG's hypothetical indexes, for the query plans' index advice: created here by the
        # admin (the extension needs a superuser), in a schema of its own every session may use.
        if admin.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone():
            admin.execute("CREATE SCHEMA IF NOT EXISTS hypopg")
            admin.execute("CREATE EXTENSION IF NOT EXISTS hypopg SCHEMA hypopg")
            admin.execute("GRANT USAGE ON SCHEMA hypopg TO PUBLIC")
        # Schemas of the time when sessions shared this database.
        for (schema,) in admin.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (PREFIX.replace("_", "\\_") + "%",)
        ).fetchall():
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    with _admin(config) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(template))


def _create(admin: psycopg.Connection[Any], config: SandboxConfig, name: str, password: str) -> None:
    role = sql.Identifier(name)
    admin.execute(
        sql.SQL(
            "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION"
            " NOBYPASSRLS CONNECTION LIMIT {}"
        ).format(role, sql.Literal(password), sql.Literal(config.connection_limit))
    )
    for setting, value in (
        ("statement_timeout", config.statement_timeout_ms),
        ("lock_timeout", config.lock_timeout_ms),
        ("work_mem", config.work_mem),
        ("temp_file_limit", config.temp_file_limit),
        ("idle_in_transaction_session_timeout", 60_000),
        ("search_path", name),
    ):
        admin.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.SQL(setting), sql.Literal(value)))
    create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(config.database))
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            admin.execute(create)
            break
        except psycopg.errors.ObjectInUse:
            # `sandbox_setup` is connected to the template for a moment (a start while jobs run).
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
    admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), role))
    with _admin(config, database=name) as inside:
        inside.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(name), role))


def _drop(admin: psycopg.Connection[Any], name: str) -> None:
    """Drop a session's database and role; what fails is logged and left to drop_orphans."""
    try:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        logger.warning("sandbox %s not dropped yet: %s", name, exc)


@contextmanager
def session(config: SandboxConfig, *, clock: Any = time.time) -> Iterator[SandboxSession]:
    """A database and a role of its own, for one use; both dropped afterwards."""
    name = f"{PREFIX}{int(clock())}_{secrets.token_hex(6)}"
    password = secrets.token_urlsafe(24)
    with _admin(config) as admin:
        watchdog = threading.Timer(config.session_max_seconds, _end_connections, (config, name))
        watchdog.daemon = True
        try:
            _create(admin, config, name, password)
            url = config.url(database=name, user=name, password=password)
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
                # Also set here, in case the server ignores role settings at login (it does not).
                connection.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(name)))
                connection.execute(
                    sql.SQL("SET statement_timeout = {}").format(sql.Literal(config.statement_timeout_ms))
                )
                connection.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(config.lock_timeout_ms)))
                connection.execute(sql.SQL("SET work_mem = {}").format(sql.Literal(config.work_mem)))
                watchdog.start()
                yield _Session(connection, name, password, config)
        finally:
            watchdog.cancel()
            _drop(admin, name)


def _end_connections(config: SandboxConfig, name: str) -> None:
    logger.warning("sandbox session %s outlived %s s; its connections are ended", name, config.session_max_seconds)
    with _admin(config) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))


def drop_orphans(config: SandboxConfig, *, now: float | None = None) -> list[str]:
    """Drop the databases and roles of sessions older than orphan_after_seconds (their job died).
    Returns their names."""
    now = time.time() if now is None else now
    dropped = []
    pattern = PREFIX.replace("_", "\\_") + "%"
    with _admin(config) as admin:
        names = {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (pattern,))}
        names |= {row[0] for row in admin.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (pattern,))}
        for name in sorted(names):
            match = _NAME.match(name)
            if match and now - int(match.group(1)) > config.orphan_after_seconds:
                _drop(admin, name)
                dropped.append(name)
    return dropped
