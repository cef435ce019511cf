"""The query plans' proven indexes offered as a migration: Django's RunSQL with CREATE INDEX
CONCURRENTLY under stable names, not atomic, and rolled back by DROP INDEX CONCURRENTLY; it runs
forward and back in the sandbox, hostile names included."""

from typing import Any

from apps.migrations_preview.engine.advised import advised_indexes_migration, index_name
from apps.sandbox import engine as sandbox

ADVICE = [
    {
        "sql": "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC);",
        "table": "orders",
        "columns": ["customer_id", "created_at DESC"],
        "where": "",
    },
    {
        "sql": "CREATE INDEX CONCURRENTLY ON customers (lower(email));",
        "table": "customers",
        "columns": ["lower(email)"],
        "where": "",
    },
    {
        "sql": "CREATE INDEX CONCURRENTLY ON orders (customer_id, created_at DESC);",
        "table": "orders",
        "columns": ["customer_id", "created_at DESC"],
        "where": "",
    },
    {
        "sql": 'CREATE INDEX CONCURRENTLY ON "we""ird; DROP TABLE orders" ("a b");',
        "table": 'we"ird; DROP TABLE orders',
        "columns": ['"a b"'],
        "where": "",
    },
]


def test_each_advised_index_once_in_a_non_atomic_migration() -> None:
    offered = advised_indexes_migration(ADVICE)
    assert offered is not None and offered["indexes"] == 3
    compile(offered["source"], "advised_indexes.py", "exec")
    assert "atomic = False" in offered["source"] and offered["source"].count("migrations.RunSQL(") == 3
    forward = offered["forward_sql"].splitlines()
    assert forward[0].startswith('CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders_customer_id_created_at_D_')
    assert all(line.startswith("CREATE INDEX CONCURRENTLY IF NOT EXISTS ") for line in forward)
    assert offered["rollback_sql"].splitlines()[-1].startswith('DROP INDEX CONCURRENTLY IF EXISTS "orders_')
    assert index_name("orders", ["customer_id"]) == index_name("orders", ["customer_id"])
    assert len(index_name("t" * 60, ["c" * 60]).encode()) <= 63


def test_nothing_advised_offers_nothing() -> None:
    assert advised_indexes_migration([]) is None


def test_it_runs_forward_and_back_in_the_sandbox(config: Any) -> None:
    offered = advised_indexes_migration(ADVICE)
    assert offered is not None
    with sandbox.session(config) as box:
        box.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, created_at timestamptz)")
        box.execute("CREATE TABLE customers (id bigint PRIMARY KEY, email text)")
        box.execute('CREATE TABLE "we""ird; DROP TABLE orders" ("a b" int)')
        for statement in offered["forward_sql"].splitlines():
            box.execute(statement)
        indexes = {r[0] for r in box.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_idx'")}
        assert len(indexes) == 3
        for statement in offered["rollback_sql"].splitlines():
            box.execute(statement)
        assert not box.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_idx'")
        assert box.execute("SELECT count(*) FROM orders") == [(0,)]
