"""Hostile names and expressions through the whole migration preview, in the real sandbox.

Every generated script is parsed with pglast: it must hold exactly the statements that the same
design with ordinary names gives, each name exactly as the design wrote it.
"""

import ast as python_ast
import re
from typing import Any

import pglast
import pytest
from pglast import ast

from apps.designs.engine.identifiers import quote_identifier as q
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model, preview

HOSTILE = {
    "T1": 'or"ders;DROP TABLE x--',
    "T2": "cust%s'omers",
    "C1": "c\"int);SELECT 'injected'--",
    "C2": '"quoted"',
    "C3": "pct%s",
    "C4": "100%",
    "C5": "x'y",
    "C6": "$$d$$",
    "C7": "ünï名前",
    "C8": "select",
    "C9": "*/ DROP TABLE y; /*",
    "C10": "a%%b",
    "FK": 'cust"_id',
    "IX": 'ix"1',
    "CK": "ck%s;--",
}
ORDINARY = {key: f"n_{key.lower()}" for key in HOSTILE}

BASE = """
CREATE TABLE {T2} (id bigint PRIMARY KEY, {C1} text UNIQUE);
CREATE TABLE {T1} (
  id bigint PRIMARY KEY,
  {FK} bigint REFERENCES {T2}(id),
  {C1} int, {C2} int NOT NULL DEFAULT 0, {C3} int, {C4} int NOT NULL DEFAULT 0, {C5} int,
  {C6} int NOT NULL DEFAULT 0, {C7} int, {C8} int NOT NULL DEFAULT 0,
  CONSTRAINT {CK} CHECK ({C3} > 0 AND {C4} < 1000)
);
CREATE INDEX {IX} ON {T1} ({C2}, {C4});
COMMENT ON TABLE {T1} IS 'rows: 2M';
"""
# The change: a column added with a default and NOT NULL, one made NOT NULL, one dropped, an index.
CHANGE = """
CREATE TABLE {T2} (id bigint PRIMARY KEY, {C1} text UNIQUE, {C9} varchar(20) NOT NULL DEFAULT 'x%');
CREATE TABLE {T1} (
  id bigint PRIMARY KEY,
  {FK} bigint REFERENCES {T2}(id),
  {C1} int, {C2} int NOT NULL DEFAULT 0, {C3} int NOT NULL, {C4} int NOT NULL DEFAULT 0,
  {C6} int NOT NULL DEFAULT 0, {C7} int, {C8} int NOT NULL DEFAULT 0, {C10} int,
  CONSTRAINT {CK} CHECK ({C3} > 0 AND {C4} < 1000)
);
CREATE INDEX {IX} ON {T1} ({C2}, {C4});
CREATE INDEX ix_2 ON {T1} ({C7});
COMMENT ON TABLE {T1} IS 'rows: 2M';
"""


def _design(template: str, names: dict[str, str]) -> Any:
    return design_model(data_model=template.format(**{k: q(v) for k, v in names.items()}))


def _statements(script: str) -> list[Any]:
    return [raw.stmt for raw in pglast.parse_sql(script)] if script.strip() else []


def _shape(statement: Any) -> tuple[Any, ...]:
    """What a statement does, without the names it does it to."""
    if isinstance(statement, ast.AlterTableStmt):
        return ("AlterTable", tuple(c.subtype for c in statement.cmds))
    if isinstance(statement, ast.CreateStmt):
        return ("CreateTable", len(statement.tableElts))
    if isinstance(statement, ast.IndexStmt):
        return ("Index", bool(statement.unique), bool(statement.concurrent), len(statement.indexParams))
    return (type(statement).__name__,)


def _names(statement: Any) -> set[str]:
    """The table and column names a statement writes or refers to."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, ast.RangeVar):
            found.add(node.relname)
        elif isinstance(node, ast.ColumnDef):
            found.add(node.colname)
        elif isinstance(node, ast.ColumnRef):
            found.update(f.sval for f in node.fields if isinstance(f, ast.String))
        elif isinstance(node, ast.IndexElem) and node.name:
            found.add(node.name)
        if isinstance(node, ast.Node):
            for attribute in node:
                visit(getattr(node, attribute))
        elif isinstance(node, tuple):
            for item in node:
                visit(item)

    visit(statement)
    return found


def _scripts(section: dict[str, Any]) -> dict[str, str]:
    scripts = {"forward": section["forward_sql"], "rollback": section["rollback_sql"]}
    statements = [r["sql"] for r in section["statements"]]
    scripts["reviewed"] = "\n".join(statements)
    return scripts


@pytest.fixture(scope="module")
def previews(django_db_blocker: Any) -> dict[str, dict[str, Any]]:
    from apps.sandbox.services import sandbox_config

    config = sandbox_config()
    sandbox.setup(config)
    results = {}
    with django_db_blocker.unblock():
        for label, names in (("hostile", HOSTILE), ("ordinary", ORDINARY)):
            base, new = _design(BASE, names), _design(CHANGE, names)
            results[f"{label}-initial"] = preview(base, None, config)[1]
            results[f"{label}-change"] = preview(new, base, config)[1]
    return results


@pytest.mark.parametrize("case", ["initial", "change"])
def test_every_script_holds_exactly_the_statements_the_design_implies(previews: dict[str, Any], case: str) -> None:
    hostile, ordinary = previews[f"hostile-{case}"], previews[f"ordinary-{case}"]
    for script in ("forward", "rollback", "reviewed"):
        mine = _statements(_scripts(hostile)[script])
        expected = _statements(_scripts(ordinary)[script])
        assert [_shape(s) for s in mine] == [_shape(s) for s in expected], script
        assert mine, script
        allowed = set(HOSTILE.values()) | {"id", "ix_2"}
        for statement in mine:
            assert _names(statement) <= allowed, (script, _names(statement) - allowed)


def test_the_hostile_migration_is_proven_in_the_sandbox_like_the_ordinary_one(previews: dict[str, Any]) -> None:
    assert (
        previews["hostile-change"]["rollback_proven"]["proven"]
        == previews["ordinary-change"]["rollback_proven"]["proven"]
    )
    assert previews["hostile-initial"]["rollback_proven"]["proven"] is True
    estimates = [s["estimate_basis"] for s in previews["hostile-change"]["statements"]]
    assert not any("fails in the sandbox" in e and "syntax" in e for e in estimates)


@pytest.mark.parametrize("case", ["initial", "change"])
def test_the_migration_file_runs_the_proven_sql_for_names_django_cannot_quote(
    previews: dict[str, Any], case: str
) -> None:
    section = previews[f"hostile-{case}"]
    source = section["source"]
    tree = python_ast.parse(source)  # the file is Python, whatever the names hold
    assert {type(node).__name__ for node in tree.body[:-1]} <= {"Import", "ImportFrom"}
    assert type(tree.body[-1]).__name__ == "ClassDef"
    head = source.split("\nfrom ", 1)[0].split("\nimport ", 1)[0]
    assert all(line.startswith("#") for line in head.splitlines() if line)
    assert "migrations.RunSQL(" in source and "SeparateDatabaseAndState" in source
    assert any("cannot write" in note for note in section["notes"])
    assert section["safe_migration"] is None
    # The SQL inside the file is the previewed SQL: every statement parses to the same shapes.
    run_sql = [
        node for node in python_ast.walk(tree) if isinstance(node, python_ast.Call) and _called(node) == "RunSQL"
    ]
    forward = python_ast.literal_eval(next(k.value for k in run_sql[0].keywords if k.arg == "sql"))
    assert [_shape(s) for s in _statements("\n".join(forward))] == [
        _shape(s) for s in _statements(section["forward_sql"])
    ]


def _called(node: python_ast.Call) -> str:
    return node.func.attr if isinstance(node.func, python_ast.Attribute) else getattr(node.func, "id", "")


def test_ordinary_names_keep_django_operations_and_the_safe_variant(previews: dict[str, Any]) -> None:
    section = previews["ordinary-change"]
    assert "RunSQL(" not in section["source"]
    assert section["safe_migration"] is not None
    safe = section["safe_migration"]["source"]
    statements = re.findall(r"'((?:ALTER|CREATE) [^']*)'", safe)
    assert statements
    for statement in statements:
        assert len(pglast.parse_sql(statement)) == 1


def test_odd_names_django_can_quote_get_a_safe_variant_whose_sql_parses(config: sandbox.SandboxConfig) -> None:
    names = {**ORDINARY, "T1": "sélect order", "C3": "x'y", "C7": "$$d$$", "IX": "名前"}
    base, new = _design(BASE, names), _design(CHANGE, names)
    _, section = preview(new, base, config)
    safe = section["safe_migration"]["source"]
    tree = python_ast.parse(safe)
    sql_strings = [
        node.value
        for node in python_ast.walk(tree)
        if isinstance(node, python_ast.Constant) and isinstance(node.value, str) and node.value.startswith("ALTER")
    ]
    assert sql_strings
    for statement in sql_strings:
        [parsed] = pglast.parse_sql(statement)
        assert _names(parsed.stmt) <= set(names.values()) | {"id", "ix_2"}


def test_an_expression_that_reads_the_server_is_left_out_and_never_reaches_sql(config: sandbox.SandboxConfig) -> None:
    model = design_model(
        data_model="CREATE TABLE t (id bigint PRIMARY KEY,"
        " a int DEFAULT CAST(current_user||' @ '||version() AS int),"
        " b int CHECK (b > (SELECT count(*) FROM pg_class)),"
        " c text CHECK (query_to_xml('select 1', true, true, '') IS NOT NULL));"
    )
    _, section = preview(model, None, config)
    everything = section["forward_sql"] + section["rollback_sql"] + section["source"]
    for word in ("current_user", "version", "pg_class", "query_to_xml", "@"):
        assert word not in everything
    notes = " ".join(section["notes"])
    assert "DEFAULT of a left out" in notes and "CHECK constraint" in notes
    assert section["rollback_proven"]["proven"]


def test_the_written_file_applies_with_stock_django_and_builds_the_previewed_schema(
    previews: dict[str, Any], config: sandbox.SandboxConfig
) -> None:
    """What the team will run: the file, through Django's own PostgreSQL backend (not ours)."""
    from django.db import connections
    from django.db.utils import ConnectionHandler

    from apps.migrations_preview.engine.sql import catalog
    from apps.migrations_preview.engine.states import PreviewState

    namespace: dict[str, Any] = {}
    exec(compile(previews["hostile-initial"]["source"], "0001_design.py", "exec"), namespace)  # noqa: S102 - our own file
    migration = namespace["Migration"]("0001_design", "design")
    with sandbox.session(config) as box:
        alias = f"stock_{box.schema}"
        wanted = {"ENGINE": "django.db.backends.postgresql", **box.connection_parameters()}
        connections.settings[alias] = ConnectionHandler({"default": {}, alias: wanted}).settings[alias]
        try:
            with connections[alias].schema_editor(atomic=True) as editor:
                migration.apply(PreviewState(), editor)
            tables = {name for kind, name in catalog(box) if kind == "column"}
        finally:
            connections[alias].close()
            del connections[alias]
            connections.settings.pop(alias, None)
    assert f"{HOSTILE['T1']}.{HOSTILE['C1']}" in tables
    assert f"{HOSTILE['T2']}.{HOSTILE['C1']}" in tables


def test_a_name_carrying_alter_role_runs_nothing_and_the_next_analysis_succeeds(config: sandbox.SandboxConfig) -> None:
    # Chained through two names, as it once was: each within PostgreSQL's 63 bytes.
    first, second = 'x" int); ALTER ROLE CURRENT_USER SET /*', "*/ default_transaction_read_only = on; --"
    model = design_model(data_model=f"CREATE TABLE t (id bigint PRIMARY KEY, {q(first)} int, {q(second)} int);")
    _, section = preview(model, None, config)
    [statement] = _statements(section["forward_sql"])
    assert isinstance(statement, ast.CreateStmt)
    assert [c.colname for c in statement.tableElts] == ["id", first, second]
    _, after = preview(design_model(data_model="CREATE TABLE u (id bigint PRIMARY KEY);"), None, config)
    assert after["rollback_proven"]["proven"]


def test_a_design_without_tables_opens_no_sandbox() -> None:
    from apps.migrations_preview.engine.analyzer import analyze_migrations

    def no_sandbox() -> Any:
        raise AssertionError("a design without tables needs no sandbox")

    model = design_model("### ORD-1: Orders\nAs a customer, I want orders, so that I can buy.\n")
    findings, section = analyze_migrations(model, None, no_sandbox, lock_timeout_ms=1000, statement_timeout_ms=1000)
    assert findings == []
    assert section["rollback_proven"] == {"proven": True, "reason": "nothing changes"}
