"""The sandbox refuses everything outside its throw-away schema (tried, not assumed)."""

import dataclasses
import time

import psycopg
import pytest
from psycopg import errors

from apps.queryplans import sandbox
from apps.queryplans.services import sandbox_config


@pytest.fixture(scope="module")
def config() -> sandbox.SandboxConfig:
    base = sandbox_config()
    sandbox.setup(base)
    return dataclasses.replace(base, statement_timeout_ms=500)


def _schemas(config: sandbox.SandboxConfig) -> set[str]:
    with psycopg.connect(config.admin_url) as admin:
        return {row[0] for row in admin.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'wb\\_%'")}


def test_a_session_works_in_its_own_schema_which_is_dropped_afterwards(config: sandbox.SandboxConfig) -> None:
    with sandbox.session(config) as box:
        box.execute("CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL)")
        box.execute("INSERT INTO orders VALUES (1, 10), (2, 20)")
        assert box.execute("SELECT sum(total) FROM orders") == [(30,)]
        assert box.execute("SELECT current_user, current_schema()") == [(config.role, box.schema)]
        schema = box.schema
        assert schema in _schemas(config)
    assert schema not in _schemas(config)


def test_the_schema_is_dropped_when_the_job_fails(config: sandbox.SandboxConfig) -> None:
    seen: list[str] = []

    def job() -> None:
        with sandbox.session(config) as box:
            seen.append(box.schema)
            box.execute("SELECT * FROM missing_table")

    with pytest.raises(errors.UndefinedTable):
        job()
    assert seen
    assert seen[0] not in _schemas(config)


@pytest.mark.parametrize(
    ("statement", "error"),
    [
        ("CREATE ROLE intruder LOGIN SUPERUSER", errors.InsufficientPrivilege),
        ("SELECT rolpassword FROM pg_authid", errors.InsufficientPrivilege),
        ("COPY (SELECT 1) TO PROGRAM 'id'", errors.InsufficientPrivilege),
        ("SELECT pg_read_file('/etc/passwd')", errors.InsufficientPrivilege),
        ("CREATE TABLE public.escaped (id int)", errors.InsufficientPrivilege),
        ("CREATE TEMP TABLE scratch (id int)", errors.InsufficientPrivilege),
        ("CREATE EXTENSION IF NOT EXISTS pgcrypto", errors.InsufficientPrivilege),
        ("CREATE SCHEMA elsewhere", errors.InsufficientPrivilege),
        ("SET ROLE root", errors.InsufficientPrivilege),
        ("SELECT * FROM accounts_workspace", errors.UndefinedTable),  # the app's tables are not reachable
    ],
)
def test_the_sandbox_refuses_what_is_outside_its_schema(
    config: sandbox.SandboxConfig, statement: str, error: type[Exception]
) -> None:
    with pytest.raises(error), sandbox.session(config) as box:
        box.execute(statement)


def test_an_endless_query_is_cut_off_by_the_statement_timeout(config: sandbox.SandboxConfig) -> None:
    started = time.monotonic()
    with pytest.raises(errors.QueryCanceled), sandbox.session(config) as box:
        box.execute("SELECT count(*) FROM generate_series(1, 1000000000000)")
    assert time.monotonic() - started < 5


def test_orphan_schemas_older_than_the_limit_are_dropped(config: sandbox.SandboxConfig) -> None:
    with psycopg.connect(config.admin_url, autocommit=True) as admin:
        old = f"wb_{int(time.time()) - 7200}_dead00"
        fresh = f"wb_{int(time.time())}_live00"
        for name in (old, fresh):
            admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        dropped = sandbox.drop_orphans(config)
        assert old in dropped
        assert fresh not in dropped
        assert old not in _schemas(config)
    finally:
        with psycopg.connect(config.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{fresh}"')
