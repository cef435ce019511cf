"""Candidate indexes read from a query's parse tree: equality first, then the range or the order;
join keys; a partial index for a literal value; an expression index for a function of a column;
none an existing index already leads with."""

from apps.queryplans.engine.allowlist import check_query
from apps.queryplans.engine.candidates import index_candidates
from apps.queryplans.engine.schema import index_keys
from tests.endpoints.helpers import SHOP, design_file

MODEL = design_file(SHOP)
COLUMNS = {e.name: frozenset(c.name for c in e.columns) for e in MODEL.entities}
EXISTING = {e.name: index_keys(e) for e in MODEL.entities}


def _candidates(sql):
    verdict = check_query(sql, tables=COLUMNS)
    assert verdict.allowed, verdict.reason
    return [c.sql for c in index_candidates(verdict.sql, columns=COLUMNS, existing=EXISTING)]


def test_the_shop_designs_queries() -> None:
    by_name = {q.name: _candidates(q.sql) for q in MODEL.queries}
    # (customer_id, idempotency_key) is unique already: customer_id alone is served.
    # The key, and the key covering the other columns the query names (not where it reads `*`).
    assert by_name["customer_orders_page"] == [
        "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC);",
        "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC) INCLUDE (id, status, total_amount);",
    ]
    assert by_name["support_search"] == [
        "CREATE INDEX CONCURRENTLY ON customers (lower(email));",
        "CREATE INDEX CONCURRENTLY ON customers (lower(email)) INCLUDE (email, id);",
        "CREATE INDEX CONCURRENTLY ON orders (status);",
        "CREATE INDEX CONCURRENTLY ON orders (status, created_at DESC);",
    ]
    assert by_name["browse_category"] == [
        "CREATE INDEX CONCURRENTLY ON products (category_id, active, price_amount);",
        "CREATE INDEX CONCURRENTLY ON products (category_id, active, price_amount) INCLUDE (id, name);",
    ]
    assert by_name["order_lines_with_products"] == [
        "CREATE INDEX CONCURRENTLY ON order_lines (order_id);",
        "CREATE INDEX CONCURRENTLY ON order_lines (order_id) INCLUDE (product_id, quantity, unit_price_amount);",
        "CREATE INDEX CONCURRENTLY ON order_lines (product_id);",
    ]


def test_a_literal_value_gives_a_partial_index_and_the_range_follows_the_equalities() -> None:
    assert _candidates(
        "SELECT id FROM orders WHERE status = 'pending' AND created_at > now() ORDER BY created_at LIMIT 10"
    ) == [
        "CREATE INDEX CONCURRENTLY ON orders (status, created_at);",
        "CREATE INDEX CONCURRENTLY ON orders (status, created_at) INCLUDE (id);",
        "CREATE INDEX CONCURRENTLY ON orders (created_at) WHERE status = 'pending';",
    ]


def test_a_key_an_index_already_serves_gets_no_covering_copy() -> None:
    # orders' primary key serves the lookup: no (id) INCLUDE (status) is offered.
    assert _candidates("SELECT status FROM orders WHERE id = $1") == []


def test_a_quote_in_a_literal_stays_a_literal() -> None:
    [partial] = [
        c for c in _candidates("SELECT id FROM orders WHERE status = 'x''); DROP TABLE orders; --'") if "WHERE" in c
    ]
    assert partial == "CREATE INDEX CONCURRENTLY ON orders (id) WHERE status = 'x''); DROP TABLE orders; --';"


def test_what_compares_no_column_of_the_design_gives_nothing() -> None:
    assert _candidates("SELECT 1 FROM orders WHERE $1 = $2") == []


def test_a_keyword_column_is_quoted_a_backslash_literal_is_an_escape_string_and_no_aggregate_is_indexed() -> None:
    columns = {"events": frozenset({"id", "order", "kind", "email"})}

    def made(sql):
        verdict = check_query(sql, tables=columns)
        assert verdict.allowed, verdict.reason
        return [c.sql for c in index_candidates(verdict.sql, columns=columns)]

    assert made('SELECT id FROM events WHERE "order" = $1') == [
        'CREATE INDEX CONCURRENTLY ON events ("order");',
        'CREATE INDEX CONCURRENTLY ON events ("order") INCLUDE (id);',
    ]
    partial = [c for c in made("SELECT id FROM events WHERE kind = E'a\\\\'' ; DROP TABLE t; --'") if "WHERE" in c]
    assert partial == ["CREATE INDEX CONCURRENTLY ON events (id) WHERE kind = E'a\\\\'' ; DROP TABLE t; --';"]
    assert made("SELECT id FROM events WHERE md5(email) = $1") == []
