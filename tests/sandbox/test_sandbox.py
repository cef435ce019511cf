"""The sandbox: a role and a database per session, and nothing outside them (tried, not assumed)."""

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest
from psycopg import errors, sql

from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config

# Counts forever, one row at a time: runs until stopped and never spills to disk.
# (a set-returning function in the select list streams its rows; in FROM it would store them).
ENDLESS = "count(g) FROM (SELECT generate_series(1, 1000000000000) AS g) s"


@pytest.fixture(scope="module")
def config() -> sandbox.SandboxConfig:
    base = sandbox_config()
    sandbox.setup(base)
    return dataclasses.replace(base, statement_timeout_ms=500, temp_file_limit="8MB")


def _admin(config: sandbox.SandboxConfig) -> psycopg.Connection:
    return psycopg.connect(config.url(database="postgres"), autocommit=True)


def _exists(config: sandbox.SandboxConfig, name: str) -> tuple[bool, bool]:
    with _admin(config) as admin:
        database = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        role = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    return database is not None, role is not None


@pytest.fixture
def two(config: sandbox.SandboxConfig) -> Iterator[tuple[sandbox.SandboxSession, sandbox.SandboxSession]]:
    """Two sessions at once, as two workspaces' jobs would have them."""
    with ExitStack() as stack:
        yield stack.enter_context(sandbox.session(config)), stack.enter_context(sandbox.session(config))


def test_a_session_has_its_own_role_database_and_schema_all_dropped_afterwards(config: sandbox.SandboxConfig) -> None:
    with sandbox.session(config) as box:
        box.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL)")
        box.execute("INSERT INTO orders VALUES (1, 10), (2, 20)")
        assert box.execute("SELECT sum(total) FROM orders") == [(30,)]
        user, schema, database = box.execute("SELECT current_user, current_schema(), current_database()")[0]
        assert user == schema == database == box.schema
        flags = box.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolconnlimit FROM pg_roles WHERE rolname = current_user"
        )
        assert flags == [(False, False, False, False, config.connection_limit)]
        assert _exists(config, box.schema) == (True, True)
        name = box.schema
    assert _exists(config, name) == (False, False)


def _run(config: sandbox.SandboxConfig, *statements: str, seen: list[str] | None = None) -> None:
    """Run statements in a fresh session; whatever they raise leaves the session."""
    with sandbox.session(config) as box:
        if seen is not None:
            seen.append(box.schema)
        for statement in statements:
            box.execute(statement)


def test_everything_is_dropped_when_the_job_fails(config: sandbox.SandboxConfig) -> None:
    seen: list[str] = []
    with pytest.raises(errors.UndefinedTable):
        _run(config, "SELECT * FROM missing_table", seen=seen)
    assert _exists(config, seen[0]) == (False, False)


def test_one_session_cannot_read_or_even_list_another_sessions_tables(two) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = two
    theirs.execute("CREATE TABLE secrets (id int, design text)")
    theirs.execute("INSERT INTO secrets VALUES (1, 'another workspace')")
    assert mine.execute("SELECT count(*) FROM pg_class WHERE relname = 'secrets'") == [(0,)]
    with pytest.raises(errors.UndefinedTable):
        mine.execute(sql.SQL("SELECT * FROM {}.secrets").format(sql.Identifier(theirs.schema)))
    params = dict(theirs.connection_parameters())
    with pytest.raises(psycopg.OperationalError, match=r"permission denied|not permitted"):
        psycopg.connect(
            host=params["HOST"], port=params["PORT"] or 5432, dbname=params["NAME"], user=mine.schema, connect_timeout=3
        )


def test_another_sessions_query_text_shows_as_insufficient_privilege(two) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = two

    def their_query() -> None:
        with pytest.raises(errors.QueryCanceled):
            theirs.execute(f"SELECT 'their design', {ENDLESS}")

    worker = threading.Thread(target=their_query)
    worker.start()
    try:
        for _ in range(50):
            rows = mine.execute("SELECT query FROM pg_stat_activity WHERE usename = %s", (theirs.schema,))
            if rows:
                break
            time.sleep(0.02)
        assert rows, "the other session's backend is listed"
        assert {row[0] for row in rows} == {"<insufficient privilege>"}
    finally:
        worker.join()


def test_a_role_that_changes_its_own_settings_harms_only_itself(config: sandbox.SandboxConfig) -> None:
    # Once, every session shared one role: this made every later analysis of every tenant fail.
    with sandbox.session(config) as box:
        box.execute("ALTER ROLE CURRENT_USER SET default_transaction_read_only = on")
    with sandbox.session(config) as box:
        box.execute("CREATE TABLE after_the_attack (id int)")
        assert box.execute("SHOW default_transaction_read_only") == [("off",)]


def test_setup_resets_settings_a_sandbox_role_gave_itself(config: sandbox.SandboxConfig) -> None:
    with _admin(config) as admin:
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (sandbox.LEGACY_ROLE,)).fetchone():
            admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(sandbox.LEGACY_ROLE)))
        admin.execute(
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(sandbox.LEGACY_ROLE))
        )
    sandbox.setup(config)
    with _admin(config) as admin:
        left = admin.execute(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s",
            (sandbox.LEGACY_ROLE,),
        ).fetchall()
        can_login = admin.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (sandbox.LEGACY_ROLE,)
        ).fetchone()
    assert left == []
    assert can_login == (False,)


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("CREATE ROLE intruder LOGIN SUPERUSER", errors.InsufficientPrivilege),
        ("SELECT rolpassword FROM pg_authid", errors.InsufficientPrivilege),
        ("COPY (SELECT 1) TO PROGRAM 'id'", errors.InsufficientPrivilege),
        ("COPY secrets FROM PROGRAM 'id'", (errors.InsufficientPrivilege, errors.UndefinedTable)),
        ("SELECT pg_read_file('/etc/passwd')", errors.InsufficientPrivilege),
        ("SELECT lo_import('/etc/passwd')", errors.InsufficientPrivilege),
        ("SELECT lo_from_bytea(0, 'x')", errors.InsufficientPrivilege),
        ("SELECT query_to_xml('select 1', true, true, '')", errors.InsufficientPrivilege),
        ("SELECT pg_sleep(30)", errors.InsufficientPrivilege),
        ("SELECT dblink_connect('host=127.0.0.1')", errors.UndefinedFunction),
        ("CREATE EXTENSION dblink", errors.InsufficientPrivilege),
        ("CREATE TABLE public.escaped (id int)", errors.InsufficientPrivilege),
        ("CREATE TEMP TABLE scratch (id int)", errors.InsufficientPrivilege),
        ("CREATE EXTENSION IF NOT EXISTS pgcrypto", errors.InsufficientPrivilege),
        ("CREATE SCHEMA elsewhere", errors.InsufficientPrivilege),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", errors.InsufficientPrivilege),
        ("CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'", errors.InsufficientPrivilege),
        ("DO 'BEGIN PERFORM 1; END'", errors.InsufficientPrivilege),
        ("SET ROLE root", errors.InsufficientPrivilege),
        ("SET SESSION AUTHORIZATION root", errors.InsufficientPrivilege),
        ("ALTER SYSTEM SET work_mem = '1GB'", errors.InsufficientPrivilege),
        ("SET temp_file_limit = -1", errors.InsufficientPrivilege),
        ("ALTER ROLE CURRENT_USER SUPERUSER", errors.InsufficientPrivilege),
        ("ALTER DATABASE postgres SET work_mem = '1GB'", errors.InsufficientPrivilege),
        ("SELECT * FROM accounts_workspace", errors.UndefinedTable),  # the app's tables are not reachable
    ],
)
def test_the_sandbox_refuses_what_is_outside_its_database(
    config: sandbox.SandboxConfig, statement: str, error: type[Exception]
) -> None:
    with pytest.raises(error), sandbox.session(config) as box:
        box.execute(statement)


def test_an_endless_query_is_cut_off_by_the_statement_timeout(config: sandbox.SandboxConfig) -> None:
    started = time.monotonic()
    with pytest.raises(errors.QueryCanceled), sandbox.session(config) as box:
        box.execute(f"SELECT {ENDLESS}")
    assert time.monotonic() - started < 5


def test_a_query_that_lifts_its_own_timeout_is_ended_by_the_watchdog(config: sandbox.SandboxConfig) -> None:
    started = time.monotonic()
    with pytest.raises(psycopg.OperationalError):
        _run(dataclasses.replace(config, session_max_seconds=2), "SET statement_timeout = 0", f"SELECT {ENDLESS}")
    assert time.monotonic() - started < 10


def test_large_temporary_files_are_refused(config: sandbox.SandboxConfig) -> None:
    with pytest.raises(errors.ConfigurationLimitExceeded):
        _run(
            config,
            "SET statement_timeout = 20000",
            "SET work_mem = '64kB'",
            "SELECT count(*) FROM (SELECT g, md5(g::text) FROM generate_series(1, 2000000) g ORDER BY 2) s",
        )


def test_after_every_attack_the_next_session_works(config: sandbox.SandboxConfig) -> None:
    with sandbox.session(config) as box:
        box.execute("CREATE TABLE fine (id int)")
        assert box.execute("SELECT count(*) FROM fine") == [(0,)]


def test_orphans_older_than_the_limit_are_dropped(config: sandbox.SandboxConfig) -> None:
    old = f"wb_{int(time.time()) - 7200}_dead00"
    fresh = f"wb_{int(time.time())}_live00"
    with _admin(config) as admin:
        for name in (old, fresh):
            admin.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        dropped = sandbox.drop_orphans(config)
        assert old in dropped
        assert fresh not in dropped
        assert _exists(config, old) == (False, False)
        assert _exists(config, fresh) == (True, True)
    finally:
        with _admin(config) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(fresh)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(fresh)))
