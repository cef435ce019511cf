import pytest

from apps.designs.engine.queries import normalize_parameters, parse_queries


@pytest.mark.parametrize(
    ("sql", "normalized", "names"),
    [
        (
            "SELECT * FROM t WHERE a = :a AND b = :b AND c = :a",
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $1",
            ("a", "b"),
        ),
        ("SELECT * FROM t WHERE a = %(a)s", "SELECT * FROM t WHERE a = $1", ("a",)),
        (
            "SELECT * FROM t WHERE a = ? AND b = ?",
            "SELECT * FROM t WHERE a = $1 AND b = $2",
            ("p1", "p2"),
        ),
        (
            "SELECT * FROM t WHERE a = $1 AND b = $2",
            "SELECT * FROM t WHERE a = $1 AND b = $2",
            ("$1", "$2"),
        ),
        (
            "SELECT x::text, ':not' FROM t WHERE a = :a -- :nor\n",
            "SELECT x::text, ':not' FROM t WHERE a = $1 -- :nor\n",
            ("a",),
        ),
    ],
)
def test_parameters_are_normalised_for_postgres(sql: str, normalized: str, names: tuple[str, ...]) -> None:
    assert normalize_parameters(sql) == (normalized, names)


def test_named_queries_carry_tables_and_lines() -> None:
    block = "-- name: first\nWITH recent AS (SELECT * FROM orders) SELECT * FROM recent JOIN customers c ON true;\n\n-- name: second\nSELECT 1 FROM products WHERE id = ?;\n"
    queries, problems = parse_queries(block, document="q.sql", line_offset=20)
    assert problems == []
    assert [(q.name, set(q.tables), q.source.line) for q in queries] == [
        ("first", {"orders", "customers"}, 22),
        ("second", {"products"}, 25),
    ]


def test_a_query_that_does_not_parse_is_a_problem_on_its_line() -> None:
    queries, problems = parse_queries(
        "-- name: ok\nSELECT 1;\n-- name: broken\nSELECT FROM WHERE;\n",
        document="q.sql",
    )
    assert [q.name for q in queries] == ["ok"]
    assert [(p.code, p.source.line) for p in problems] == [("query.syntax-error", 4)]


def test_a_parameter_number_past_postgresqls_limit_is_a_syntax_problem_not_a_count_to_it() -> None:
    # Counting the names up to $99999999999 would take the parse forever.
    assert normalize_parameters("SELECT $99999999999") == ("SELECT $99999999999", ())
    queries, problems = parse_queries("-- name: huge\nSELECT $99999999999 FROM orders;\n", document="q.sql")
    assert queries == () or not queries
    assert [p.code for p in problems] == ["query.syntax-error"]
    assert "parameter number too large" in problems[0].message
