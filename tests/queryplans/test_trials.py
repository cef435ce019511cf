"""Candidates tried as HypoPG's hypothetical indexes on the real server: the one that serves the
query is advised with its costs, one the planner ignores or that gains little is not, a longer
composite covering a shorter one wins, and nothing hypothetical is left behind."""

import pytest
from django.db import connection

from apps.queryplans.engine.allowlist import check_query
from apps.queryplans.engine.candidates import Candidate, index_candidates
from apps.queryplans.trials import hypopg_schema, try_candidates
from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config

COLUMNS = {"trial_orders": frozenset({"id", "status", "customer_id", "created_at"})}


@pytest.fixture
def orders(db):
    """A 200,000-row table and HypoPG, made inside the test's transaction (rolled back after it)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        cursor.execute(
            "CREATE TABLE trial_orders AS SELECT g AS id, CASE WHEN g % 500 = 0 THEN 'rare' ELSE 'common' END AS status, "
            "g % 20000 AS customer_id, now() - g * interval '1 minute' AS created_at FROM generate_series(1, 200000) g"
        )
        cursor.execute("ANALYZE trial_orders")
    return connection.connection


def test_the_index_that_serves_the_query_is_advised_and_the_others_say_why_not(orders) -> None:
    assert hypopg_schema(orders) == "public"
    verdict = check_query(
        "SELECT id FROM trial_orders WHERE customer_id = :c ORDER BY created_at DESC LIMIT 20", tables=COLUMNS
    )
    candidates = [c for c in index_candidates(verdict.sql, columns=COLUMNS) if not c.include]
    assert [c.columns for c in candidates] == [("customer_id",), ("customer_id", "created_at DESC")]
    ignored = Candidate("trial_orders", ("status",), why="a column the query does not filter on")
    trials = try_candidates(orders, verdict.sql, [*candidates, ignored], parameters=(42,))
    by_columns = {t.candidate.columns: t for t in trials}
    best = by_columns[("customer_id", "created_at DESC")]
    assert best.advised and best.used and best.cost_after < best.cost_before * 0.1 and best.size_bytes > 0
    shorter = by_columns[("customer_id",)]
    assert shorter.used and not shorter.advised and "a better composite covers it" in shorter.why
    assert not by_columns[("status",)].advised and by_columns[("status",)].why == "the planner does not read through it"
    with orders.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM public.hypopg_list_indexes")
        assert cursor.fetchone()[0] == 0


def test_a_sandbox_session_tries_candidates_as_its_own_role() -> None:
    config = sandbox_config()
    sandbox.setup(config)
    with sandbox.session(config) as box:
        box.execute(
            "CREATE TABLE trial_orders AS SELECT g AS id, g % 20000 AS customer_id, "
            "now() - g * interval '1 minute' AS created_at, 'x'::text AS status FROM generate_series(1, 100000) g"
        )
        box.execute("ANALYZE trial_orders")
        assert hypopg_schema(box.connection) == "hypopg"
        verdict = check_query("SELECT id FROM trial_orders WHERE customer_id = $1", tables=COLUMNS)
        plain = [c for c in index_candidates(verdict.sql, columns=COLUMNS) if not c.include]
        [trial] = try_candidates(box.connection, verdict.sql, plain, parameters=(7,))
        assert trial.advised and trial.candidate.columns == ("customer_id",), trial.why
