"""The query-plan analysis end to end on the real sandbox: a design's schema filled with synthetic
rows at its volumes (scaled under a cap), its named queries and the queries its generated
endpoints imply planned with EXPLAIN ANALYZE, the plan rules' hits on their nodes, index advice
proven by the plan (cost and time before and after, the trail of every candidate), budgets at
volume, refused queries never run, progress per step, a stop that leaves nothing behind."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from apps.analysis.engine.pipeline import AnalysisStopped
from apps.sandbox import engine as sandbox
from tests.conftest import ROOT
from tests.queryplans.conftest import analyse as _analyse

LIBRARY = (ROOT / "tests" / "fixtures" / "queryplans-library.md").read_text(encoding="utf-8")
CAP = 50_000  # loans, the largest table (10M declared), holds 50,000 rows: a factor of 1/200


@pytest.fixture(scope="module")
def library(config: sandbox.SandboxConfig) -> dict[str, Any]:
    messages: list[str] = []

    def progress(stage: str, state: str, percent: int, message: str = "") -> None:
        if stage == "queryplans" and message:
            messages.append(message)

    outcome = _analyse(config, LIBRARY, cap=CAP, progress=progress)
    result = next(r for r in outcome.results if r.name == "queryplans")
    assert result.status == "succeeded", result.reason
    return {"section": result.section, "findings": result.findings, "messages": messages}


def _query(library: dict[str, Any], name: str) -> dict[str, Any]:
    return next(q for q in library["section"]["queries"] if q["name"] == name)


def test_the_tables_are_scaled_by_one_factor_under_the_cap(library) -> None:
    section = library["section"]
    scale = {row["table"]: row for row in section["scale"]}
    assert scale["loans"]["rows"] == CAP
    assert section["factor"] == pytest.approx(CAP / 10_000_000)
    # Fan-outs keep their ratio: 10M loans over 200k members is 50 each, at any scale.
    assert scale["loans"]["rows"] / scale["members"]["rows"] == pytest.approx(50, rel=0.01)
    assert scale["books"]["rows"] == 5_000
    assert scale["loans"]["ratio"] == 200 and "times 0.005" in section["scaling"]


def test_progress_names_each_step(library) -> None:
    messages = library["messages"]
    assert any(m.startswith("creating the schema: 3 tables") for m in messages)
    assert any(m.startswith("synthetic rows: loans (50,000)") for m in messages)
    # The referenced tables are filled before the table that references them.
    order = [m.split()[2] for m in messages if m.startswith("synthetic rows:")]
    assert order.index("members") < order.index("loans") and order.index("books") < order.index("loans")
    assert any(m.startswith("VACUUM ANALYZE") for m in messages)
    assert any(m.startswith("query 1 of ") for m in messages)
    # Each query's candidates: those HypoPG tries, each one built on the rows.
    assert any(m.startswith("loans_of_member: ") and m.endswith("hypothetical index(es) with HypoPG") for m in messages)
    assert "member_by_email: building members (lower(email)) on the rows" in messages


def test_the_named_query_gets_an_index_proven_by_its_plan(library) -> None:
    query = _query(library, "loans_of_member")
    assert query["status"] == "measured" and query["source"] == "named"
    assert query["plan"]["Plan"]["Node Type"] == "Limit"
    assert query["parameters"][0]["name"] == "member_id" and query["parameters"][0]["sample"] == "frequent"
    [advice] = query["advice"]
    assert advice["sql"] == "CREATE INDEX CONCURRENTLY ON loans (member_id, due_at DESC);"
    assert advice["cost_after"] < advice["cost_before"] / 2
    assert advice["ms_after"] < advice["ms_before"]
    assert advice["size_bytes"] > 0 and advice["method"] == "hypothetical"
    assert "workbench_trial_index" in str(advice["plan_after"])
    # The rare value's run is kept beside the frequent one.
    [rare] = [v for v in query["variants"] if v["label"] == "rare values"]
    assert rare["parameters"][0]["value"] != query["parameters"][0]["value"]


def test_an_expression_index_is_built_to_be_judged(library) -> None:
    query = _query(library, "member_by_email")
    [advice] = query["advice"]
    assert advice["sql"] == "CREATE INDEX CONCURRENTLY ON members (lower(email));"
    assert advice["method"] == "built"  # HypoPG has no statistics for an expression
    assert advice["ms_after"] < advice["ms_before"]


def test_a_query_served_by_its_key_gets_no_advice(library) -> None:
    query = _query(library, "book_by_id")
    assert query["status"] == "measured"
    assert query["advice"] == [] and query["hits"] == []


def test_the_endpoints_queries_are_planned_with_their_story_budget(library) -> None:
    listing = _query(library, "listMemberLoans")
    assert listing["source"] == "endpoint" and listing["endpoint"] == "GET /v1/members/{memberId}/loans"
    # The generated view pages by cursor on the key, newest first (the table has no created_at).
    assert listing["sql"] == "SELECT t.* FROM loans AS t WHERE t.member_id = $1 ORDER BY t.id DESC LIMIT 51"
    assert listing["budget_ms"] == 50 and listing["story"] == "LIB-1"
    assert listing["over_budget"] == (listing["scaled_ms"] > 50)
    assert [a["sql"] for a in listing["advice"]] == ["CREATE INDEX CONCURRENTLY ON loans (member_id, id DESC);"]


def test_a_delete_times_its_foreign_key_checks_and_the_index_they_need_is_advised(library) -> None:
    withdraw = _query(library, "withdrawBook")
    assert withdraw["kind"] == "write" and withdraw["status"] == "measured"
    assert withdraw["plan"]["Triggers"], "the foreign key's check ran inside EXPLAIN ANALYZE"
    assert withdraw["sql"] == "DELETE FROM books AS t WHERE t.id = $1"
    [advice] = withdraw["advice"]
    assert advice["sql"] == "CREATE INDEX CONCURRENTLY ON loans (book_id);"
    assert advice["method"] == "built" and advice["ms_after"] < advice["ms_before"]
    # Judged by the checks' own time (triggers are outside the plan's costs).
    assert advice["checks_ms_after"] < advice["checks_ms_before"] / 2


def test_every_candidate_tried_is_in_the_trail_with_why(library) -> None:
    for query in library["section"]["queries"]:
        for item in query["trail"]:
            assert item["sql"].startswith("CREATE INDEX CONCURRENTLY ON ")
            assert item["why"]
            assert item["advised"] == any(a["sql"] == item["sql"] for a in query["advice"])


def test_pasted_sql_outside_the_allow_list_is_refused_and_never_run(library) -> None:
    refused = {q["name"]: q for q in library["section"]["queries"] if q["status"] == "refused"}
    assert {"sleepy", "catalog_probe"} <= set(refused)
    for query in refused.values():
        assert query["plan"] is None and query["ms"] is None and query["error"]
    assert "pg_sleep" in refused["sleepy"]["error"]
    assert "pg_roles" in refused["catalog_probe"]["error"]
    flagged = {f.title.split()[1] for f in library["findings"] if f.rule_id == "queryplans.refused"}
    assert {"sleepy", "catalog_probe"} <= flagged


def test_one_finding_per_advised_index_with_its_statement_as_the_fix(library) -> None:
    advised = [f for f in library["findings"] if f.rule_id == "queryplans.index-advised"]
    fixes = sorted(f.fix for f in advised)
    assert fixes == sorted(
        {
            "CREATE INDEX CONCURRENTLY ON loans (member_id, due_at DESC);",
            "CREATE INDEX CONCURRENTLY ON loans (member_id, id DESC);",
            "CREATE INDEX CONCURRENTLY ON members (lower(email));",
            "CREATE INDEX CONCURRENTLY ON loans (book_id);",
        }
    )
    member_loans = next(f for f in advised if "due_at" in f.fix)
    assert "loans_of_member" in member_loans.title
    assert all(f.analyzer == "queryplans" for f in library["findings"])


def test_a_stop_from_the_progress_callback_ends_the_analysis_and_drops_its_database(config) -> None:
    def progress(stage: str, state: str, percent: int, message: str = "") -> None:
        if message.startswith("synthetic rows: loans"):
            raise AnalysisStopped

    opened: list[str] = []
    with pytest.raises(AnalysisStopped):
        _analyse(config, LIBRARY, cap=CAP, progress=progress, opened=opened)
    assert len(opened) == 1, "the analysis opened one sandbox session"
    with psycopg.connect(config.url(database="postgres"), autocommit=True) as admin:
        left = admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (opened,)).fetchall()
        roles = admin.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (opened,)).fetchall()
    assert left == [] and roles == []


def test_a_design_without_tables_is_skipped_without_a_sandbox(config) -> None:
    outcome = _analyse(
        config,
        "# Only stories\n\n## Stories\n\n### A-1: Something\nAs a user, I want x, so that y.\n",
        cap=CAP,
    )
    result = next(r for r in outcome.results if r.name == "queryplans")
    assert result.status == "skipped" and "no data model" in result.reason


def test_an_allowed_query_that_reads_too_much_is_cut_off_and_reported(config) -> None:
    slow = LIBRARY.replace(
        "-- name: book_by_id",
        "-- name: cross_product\nSELECT count(*) FROM loans a, loans b WHERE a.due_at < b.due_at;\n\n-- name: book_by_id",
    )
    outcome = _analyse(config, slow, cap=CAP, plans_query_timeout_ms=300)
    result = next(r for r in outcome.results if r.name == "queryplans")
    query = next(q for q in result.section["queries"] if q["name"] == "cross_product")
    assert query["status"] == "failed" and "statement timeout" in query["error"]
    assert query["plan"] is None
    [finding] = [f for f in result.findings if f.rule_id == "queryplans.failed"]
    assert "cross_product" in finding.title and "statement timeout" in finding.message


HOSTILE_KEYS = """# Foreign keys whose column names are SQL

```sql
CREATE TABLE p (id bigint PRIMARY KEY);
CREATE TABLE c (
  id bigint PRIMARY KEY,
  "x);SELECT string_agg(datname,'')::int FROM pg_database;SELECT(1" bigint REFERENCES p (id),
  "order" bigint NOT NULL REFERENCES p (id),
  "OwnerId" bigint REFERENCES p (id)
);
```

```sql
-- name: drop_parent
DELETE FROM p WHERE id = :id;
```
"""


def test_a_foreign_key_column_named_as_sql_stays_a_name(config) -> None:
    outcome = _analyse(config, HOSTILE_KEYS, cap=CAP)
    result = next(r for r in outcome.results if r.name == "queryplans")
    assert result.status == "succeeded", result.reason
    [query] = result.section["queries"]
    assert query["status"] == "measured"
    tried = {item["sql"] for item in query["trail"]}
    assert tried == {
        "CREATE INDEX CONCURRENTLY ON c (\"x);SELECT string_agg(datname,'')::int FROM pg_database;SELECT(1\");",
        'CREATE INDEX CONCURRENTLY ON c ("order");',
        'CREATE INDEX CONCURRENTLY ON c ("OwnerId");',
    }
    # Each was built and measured as one index (nothing read the catalog, nothing failed).
    assert all("could not be tried" not in item["why"] and "not tried" not in item["why"] for item in query["trail"])
    assert "template1" not in str(result.section)  # the server's database names were read nowhere


def test_a_statement_that_is_not_one_index_is_never_run_nor_advised() -> None:
    from apps.migrations_preview.engine.advised import advised_indexes_migration
    from apps.queryplans.engine.candidates import Candidate, NotAnIndexError

    sneaky = Candidate("c", ("x);COMMIT;GRANT ALL ON c TO PUBLIC;SELECT(1",))
    with pytest.raises(NotAnIndexError, match="not one CREATE INDEX"):
        _ = sneaky.sql
    offered = advised_indexes_migration(
        [{"sql": "CREATE INDEX CONCURRENTLY ON c (x);COMMIT;GRANT ALL ON c TO PUBLIC;SELECT(1);", "table": "c"}]
    )
    assert offered is None


HARD_DATA = """# Rows that are hard to make, an insert, too many parameters

```sql
CREATE TABLE settings (
  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  is_default boolean NOT NULL UNIQUE,
  name text
);
CREATE TABLE notes (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body text NOT NULL);
```

```sql
-- name: add_note
INSERT INTO notes (body) VALUES ('hello');

-- name: sparse
SELECT id FROM notes WHERE id = $150;

-- name: settings_by_name
SELECT id FROM settings WHERE name = :name;
```
"""


def test_a_table_whose_rows_cannot_be_made_is_a_note_and_the_rest_is_planned(config) -> None:
    outcome = _analyse(config, HARD_DATA, cap=CAP)
    result = next(r for r in outcome.results if r.name == "queryplans")
    assert result.status == "succeeded", result.reason
    section = result.section
    [note] = [n for n in section["notes"] if n.startswith("settings:")]
    assert "synthetic rows could not be made" in note and "planned over the" in note
    queries = {q["name"]: q for q in section["queries"]}
    # The fill numbered the keys itself; the identity goes on from there, so an insert succeeds.
    assert queries["add_note"]["status"] == "measured", queries["add_note"]["error"]
    assert queries["settings_by_name"]["status"] == "measured"
    # $150 alone: 150 parameters, over QUERYPLANS_MAX_PARAMETERS (100); refused, never run.
    assert queries["sparse"]["status"] == "refused" and "QUERYPLANS_MAX_PARAMETERS" in queries["sparse"]["error"]
    assert len(queries["sparse"]["parameters"]) == 0
