"""The zero-downtime review of each statement, on hand-written SQL and on the shop v1 -> v2 preview."""

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.migrations_preview.engine.review import TableFacts, review_sql, table_facts

BIG = {
    "orders": TableFacts(
        rows=40_000_000,
        columns={"note": "varchar(20)", "qty": "integer", "status": "varchar(16)"},
        not_null_checks=frozenset({"status"}),
    )
}


@pytest.mark.parametrize(
    ("sql", "lock", "blocks", "rewrites", "scans", "risk"),
    [
        (
            'ALTER TABLE "orders" ADD COLUMN "channel" varchar(16) NULL;',
            "ACCESS EXCLUSIVE",
            "reads",
            False,
            False,
            "low",
        ),
        (
            "ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false NOT NULL;",
            "ACCESS EXCLUSIVE",
            "reads",
            False,
            False,
            "low",
        ),
        (
            "ALTER TABLE orders ADD COLUMN channel varchar(16) NOT NULL;",
            "ACCESS EXCLUSIVE",
            "reads",
            False,
            False,
            "high",
        ),
        ("ALTER TABLE orders ADD COLUMN n bigserial;", "ACCESS EXCLUSIVE", "reads", True, True, "high"),
        ("ALTER TABLE orders ALTER COLUMN note TYPE varchar(50);", "ACCESS EXCLUSIVE", "reads", False, False, "low"),
        ("ALTER TABLE orders ALTER COLUMN note TYPE text;", "ACCESS EXCLUSIVE", "reads", False, False, "low"),
        (
            'ALTER TABLE "orders" ALTER COLUMN "qty" TYPE bigint USING "qty"::bigint;',
            "ACCESS EXCLUSIVE",
            "reads",
            True,
            True,
            "high",
        ),
        ("ALTER TABLE orders ALTER COLUMN qty SET NOT NULL;", "ACCESS EXCLUSIVE", "reads", False, True, "high"),
        ("ALTER TABLE orders ALTER COLUMN status SET NOT NULL;", "ACCESS EXCLUSIVE", "reads", False, False, "low"),
        ("CREATE INDEX i ON orders (qty);", "SHARE", "writes", False, True, "high"),
        ("CREATE INDEX CONCURRENTLY i ON orders (qty);", "SHARE UPDATE EXCLUSIVE", "none", False, True, "low"),
        (
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES t (id);",
            "SHARE ROW EXCLUSIVE",
            "writes",
            False,
            True,
            "high",
        ),
        (
            "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES t (id) NOT VALID;",
            "SHARE ROW EXCLUSIVE",
            "writes",
            False,
            False,
            "low",
        ),
        ("ALTER TABLE orders VALIDATE CONSTRAINT fk;", "SHARE UPDATE EXCLUSIVE", "none", False, True, "low"),
        ("ALTER TABLE orders ADD CONSTRAINT u UNIQUE (note);", "ACCESS EXCLUSIVE", "reads", False, True, "high"),
        ("ALTER TABLE orders ADD CONSTRAINT u UNIQUE USING INDEX i;", "ACCESS EXCLUSIVE", "reads", False, False, "low"),
        ("UPDATE orders SET status = 'x';", "ROW EXCLUSIVE", "none", False, True, "high"),
    ],
)
def test_each_statement_gets_its_lock_and_cost(
    sql: str, lock: str, blocks: str, rewrites: bool, scans: bool, risk: str
) -> None:
    (review,) = review_sql([sql], tables=BIG)
    assert (review.lock_level, review.blocks, review.rewrites_table, review.scans_table, review.risk) == (
        lock,
        blocks,
        rewrites,
        scans,
        risk,
    )
    assert review.rows == 40_000_000
    if risk == "high":
        assert review.safe_alternative


def test_the_shop_v1_to_v2_statements(shop_v1: str) -> None:
    v1 = parse_design(DesignInput(document=shop_v1), limits=ParseLimits()).model
    statements = [
        'ALTER TABLE "orders" RENAME COLUMN "shipping_address" TO "delivery_address";',
        'ALTER TABLE "payments" DROP COLUMN "card_number";',
        'ALTER TABLE "orders" ADD COLUMN "channel" varchar(16) NOT NULL;',
        'ALTER TABLE "products" ADD COLUMN "slug" varchar(200) NOT NULL UNIQUE;',
        'ALTER TABLE "customers" ALTER COLUMN "phone" SET NOT NULL;',
        'ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE bigint USING "quantity"::bigint;',
        'CREATE INDEX "order_lines_order_idx" ON "order_lines" ("order_id");',
        'ALTER TABLE "payments" ADD COLUMN "refund_of" bigint NULL CONSTRAINT "payments_refund_of_fk" REFERENCES "payments"("id") DEFERRABLE INITIALLY DEFERRED;',
    ]
    reviews = {r.sql.split('"')[1] + ":" + r.sql.split()[3]: r for r in review_sql(statements, tables=table_facts(v1))}
    rename = reviews["orders:RENAME"]
    assert rename.breaking and "Expand/contract" in rename.safe_alternative
    drop = reviews["payments:DROP"]
    assert "cannot be restored" in drop.breaking
    assert (rename.lock_level, drop.lock_level) == ("ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE")
    assert (rename.risk, drop.risk) == ("low", "low")  # metadata only; the danger is to running code
    foreign_key = next(r for r in reviews.values() if "REFERENCES" in r.sql)
    assert (foreign_key.lock_level, foreign_key.blocks, foreign_key.scans_table, foreign_key.rows) == (
        "ACCESS EXCLUSIVE",
        "reads",
        True,
        45_000_000,
    )
    assert "FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT" in foreign_key.safe_alternative
    channel = reviews["orders:ADD"]
    assert (channel.risk, channel.rows, channel.lock_level) == ("high", 40_000_000, "ACCESS EXCLUSIVE")
    assert "nullable, backfill" in channel.safe_alternative
    slug = reviews["products:ADD"]
    assert (slug.risk, slug.rows) == ("high", 800_000)  # NOT NULL without default fails on a table with rows
    assert "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX" in slug.safe_alternative
    phone = reviews["customers:ALTER"]
    assert (phone.scans_table, phone.rows, phone.lock_level, phone.blocks) == (
        True,
        3_000_000,
        "ACCESS EXCLUSIVE",
        "reads",
    )
    assert "CHECK (phone IS NOT NULL) NOT VALID" in phone.safe_alternative
    quantity = reviews["order_lines:ALTER"]
    assert (quantity.rewrites_table, quantity.rows, quantity.risk) == (True, 120_000_000, "high")
    assert "integer to bigint rewrites" in quantity.reason
    index = (
        reviews["order_lines_order_idx:INDEX"]
        if "order_lines_order_idx:INDEX" in reviews
        else next(r for r in reviews.values() if r.sql.startswith("CREATE INDEX"))
    )
    assert (index.lock_level, index.blocks) == ("SHARE", "writes")
    assert "CONCURRENTLY" in index.safe_alternative


def test_statements_on_a_table_created_in_the_same_migration_are_harmless() -> None:
    reviews = review_sql(
        ['CREATE TABLE "shipments" ("id" bigint NOT NULL PRIMARY KEY);', 'CREATE INDEX "s_idx" ON "shipments" ("id");'],
        tables={},
    )
    assert [(r.rows, r.risk, r.safe_alternative) for r in reviews] == [(0, "none", ""), (0, "none", "")]
    assert reviews[1].reason.endswith("the table is created by this migration, so nobody waits")


def test_set_not_null_after_a_validated_not_null_check_in_the_same_migration_does_not_scan() -> None:
    reviews = review_sql(
        [
            'ALTER TABLE "customers" ADD CONSTRAINT "phone_nn" CHECK ("phone" IS NOT NULL) NOT VALID;',
            'ALTER TABLE "customers" VALIDATE CONSTRAINT "phone_nn";',
            'ALTER TABLE "customers" ALTER COLUMN "phone" SET NOT NULL;',
            'ALTER TABLE "customers" ALTER COLUMN "email" SET NOT NULL;',
        ],
        tables={"customers": TableFacts(rows=3_000_000)},
    )
    assert [r.risk for r in reviews] == ["low", "low", "low", "high"]
    assert reviews[2].scans_table is False
