"""Synthetic rows in a real sandbox session: counts, keys, skew, labels, NULLs, times, text, hostile
names, determinism; and the one scale factor for declared volumes."""

from collections.abc import Iterator
from statistics import median

import pytest
from psycopg import sql

from apps.sandbox import engine as sandbox
from apps.sandbox.services import sandbox_config
from apps.sandbox.synthetic import Shape, fill_table, scaled_rows

CUSTOMERS, ORDERS = 500, 5_000
STATUSES = ("placed", "paid", "shipped", "cancelled")
SHOP = """
CREATE TYPE channel AS ENUM ('web', 'app', 'phone');
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  email varchar(120) NOT NULL UNIQUE,
  name varchar(40) NOT NULL,
  phone varchar(20),
  created_at timestamptz NOT NULL
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status text NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'cancelled')),
  channel channel NOT NULL,
  total numeric(10, 2) NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  note text,
  placed_at timestamptz NOT NULL,
  shipped_at timestamptz,
  CHECK (shipped_at > placed_at)
);
"""


@pytest.fixture(scope="module")
def config() -> sandbox.SandboxConfig:
    base = sandbox_config()
    sandbox.setup(base)
    return base


@pytest.fixture(scope="module")
def shop(config: sandbox.SandboxConfig) -> Iterator[sandbox.SandboxSession]:
    """A session holding the shop's tables, filled once (customers first: the orders' foreign key
    is checked as each row goes in)."""
    with sandbox.session(config) as box:
        box.execute(SHOP)
        fill_table(box, "customers", CUSTOMERS)
        fill_table(box, "orders", ORDERS)
        yield box


def one(box: sandbox.SandboxSession, query: str) -> object:
    return box.execute(query)[0][0]


def test_it_makes_the_rows_asked_for(shop: sandbox.SandboxSession) -> None:
    assert one(shop, "SELECT count(*) FROM customers") == CUSTOMERS
    assert one(shop, "SELECT count(*) FROM orders") == ORDERS


def test_every_foreign_key_value_is_a_key_of_the_referenced_table(shop: sandbox.SandboxSession) -> None:
    missing = "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = o.customer_id)"
    assert one(shop, missing) == 0


def test_a_few_parents_have_many_children_and_most_a_few(shop: sandbox.SandboxSession) -> None:
    counts = [
        n
        for (n,) in shop.execute(
            "SELECT count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id"
        )
    ]
    assert max(counts) >= 10 * median(counts), (max(counts), median(counts))


def test_unique_and_key_columns_hold_distinct_values(shop: sandbox.SandboxSession) -> None:
    assert one(shop, "SELECT count(DISTINCT email) FROM customers") == CUSTOMERS
    assert one(shop, "SELECT count(DISTINCT id) FROM orders") == ORDERS


def test_labels_come_from_the_check_one_frequent_and_one_rare(shop: sandbox.SandboxSession) -> None:
    shares = dict(shop.execute("SELECT status, count(*) FROM orders GROUP BY status"))
    assert set(shares) == set(STATUSES)
    assert max(shares.values()) >= 10 * min(shares.values()), shares
    assert max(shares, key=shares.__getitem__) == "placed"  # the first is the most frequent


def test_an_enum_types_labels_are_drawn_the_first_most_often(shop: sandbox.SandboxSession) -> None:
    shares = dict(shop.execute("SELECT channel::text, count(*) FROM orders GROUP BY channel"))
    assert set(shares) == {"web", "app", "phone"}
    assert max(shares, key=shares.__getitem__) == "web"


def test_nullable_columns_hold_some_nulls_and_not_null_ones_none(shop: sandbox.SandboxSession) -> None:
    phones = one(shop, "SELECT count(*) FILTER (WHERE phone IS NULL)::float / count(*) FROM customers")
    assert 0.03 < phones < 0.2  # type: ignore[operator]
    assert one(shop, "SELECT count(*) FROM orders WHERE note IS NULL") > 0  # type: ignore[operator]
    assert one(shop, "SELECT count(*) FROM customers WHERE email IS NULL OR name IS NULL") == 0


def test_numbers_spread_and_keep_their_checks(shop: sandbox.SandboxSession) -> None:
    low, high, distinct = shop.execute("SELECT min(total), max(total), count(DISTINCT total) FROM orders")[0]
    assert high > 10 * low
    assert distinct > ORDERS / 10
    assert one(shop, "SELECT min(quantity) FROM orders") > 0  # type: ignore[operator]


def test_timestamps_span_years_and_a_later_column_is_later(shop: sandbox.SandboxSession) -> None:
    years = one(shop, "SELECT extract(epoch FROM max(placed_at) - min(placed_at)) / 86400 / 365 FROM orders")
    assert float(years) >= 3  # type: ignore[arg-type]
    assert one(shop, "SELECT count(*) FROM orders WHERE shipped_at <= placed_at") == 0
    assert one(shop, "SELECT count(shipped_at) FROM orders") > ORDERS / 2  # type: ignore[operator]


def test_text_lengths_vary_within_the_columns_limit(shop: sandbox.SandboxSession) -> None:
    shortest, longest, lengths = shop.execute(
        "SELECT min(length(name)), max(length(name)), count(DISTINCT length(name)) FROM customers"
    )[0]
    assert longest <= 40
    assert lengths >= 10
    assert shortest < longest / 2
    assert one(shop, "SELECT max(length(phone)) FROM customers") <= 20  # type: ignore[operator]


def test_shape_references_point_at_existing_rows_without_a_constraint(shop: sandbox.SandboxSession) -> None:
    shop.execute("CREATE TABLE reviews (id bigint PRIMARY KEY, order_id bigint NOT NULL, kind text NOT NULL)")
    fill_table(
        shop,
        "reviews",
        3_000,
        Shape(references={"order_id": ("orders", ORDERS)}, labels={"kind": ("praise", "complaint", "question")}),
    )
    missing = "SELECT count(*) FROM reviews r WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = r.order_id)"
    assert one(shop, missing) == 0
    assert one(shop, "SELECT count(*) FROM reviews GROUP BY order_id ORDER BY 1 DESC LIMIT 1") >= 10  # type: ignore[operator]
    shares = dict(shop.execute("SELECT kind, count(*) FROM reviews GROUP BY kind"))
    assert set(shares) == {"praise", "complaint", "question"}
    assert max(shares, key=shares.__getitem__) == "praise"


def test_shape_keys_and_checks_are_kept_like_the_catalogs(shop: sandbox.SandboxSession) -> None:
    shop.execute("CREATE TABLE coupons (id bigint PRIMARY KEY, code varchar(24) NOT NULL, percent integer NOT NULL)")
    fill_table(shop, "coupons", 2_000, Shape(checks=("percent BETWEEN 5 AND 50",), keys=frozenset({"code"})))
    assert one(shop, "SELECT count(DISTINCT code) FROM coupons") == 2_000
    assert shop.execute("SELECT min(percent) >= 5 AND max(percent) <= 50 FROM coupons") == [(True,)]


def test_a_parent_drawn_through_checks_still_holds_every_key_its_children_draw(
    shop: sandbox.SandboxSession,
) -> None:
    # Half the candidates fail a check, a tenth the added NOT NULL: the keys are numbered after
    # them, 1 to N without a gap (the check on the key itself is tried on the numbered rows).
    shop.execute(
        "CREATE TABLE carts (id bigint PRIMARY KEY CHECK (id > 0), size integer NOT NULL CHECK (size % 2 = 0), note text)"
    )
    shop.execute("CREATE TABLE cart_items (id bigint PRIMARY KEY, cart_id bigint NOT NULL REFERENCES carts (id))")
    fill_table(shop, "carts", 1_000, Shape(checks=("note IS NOT NULL",)))
    fill_table(shop, "cart_items", 4_000)
    assert shop.execute("SELECT min(id), max(id), count(*) FROM carts") == [(1, 1_000, 1_000)]
    missing = "SELECT count(*) FROM cart_items i WHERE NOT EXISTS (SELECT 1 FROM carts c WHERE c.id = i.cart_id)"
    assert one(shop, missing) == 0


def test_rows_that_cannot_satisfy_the_checks_are_refused_saying_why(shop: sandbox.SandboxSession) -> None:
    shop.execute("CREATE TABLE refunds (id bigint PRIMARY KEY, amount integer NOT NULL CHECK (amount < 0))")
    with pytest.raises(ValueError, match=r"of 100 synthetic rows for refunds satisfy its CHECK constraints"):
        fill_table(shop, "refunds", 100)


@pytest.mark.parametrize("check", ["true; DROP TABLE orders", "1) OR (1", "x FROM orders", "1 UNION SELECT 2"])
def test_a_shape_check_that_is_not_one_expression_is_refused(shop: sandbox.SandboxSession, check: str) -> None:
    with pytest.raises(ValueError, match="not a CHECK expression"):
        fill_table(shop, "customers", 1, Shape(checks=(check,)))
    assert one(shop, "SELECT count(*) FROM orders") == ORDERS


def test_the_same_call_gives_the_same_rows(config: sandbox.SandboxConfig) -> None:
    digest = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {} AS t"
    with sandbox.session(config) as box:
        box.execute(SHOP)
        seen = []
        for _ in range(2):
            box.execute("TRUNCATE customers, orders")
            fill_table(box, "customers", CUSTOMERS)
            fill_table(box, "orders", 1_000)
            seen.append([one(box, digest.format(table)) for table in ("customers", "orders")])
        assert seen[0] == seen[1]


def test_hostile_table_and_column_names_are_only_identifiers(config: sandbox.SandboxConfig) -> None:
    parent, child = 'par"ent; DROP TABLE x; --', "chi'ld tab;le"
    status, owner = 'sta"tus; --', "own er'; SELECT 1"
    with sandbox.session(config) as box:
        box.execute(
            # Columns called n and g, the names the generator's own subqueries use.
            sql.SQL(
                "CREATE TABLE {} (id bigint PRIMARY KEY, {} varchar(30) NOT NULL UNIQUE, n integer CHECK (n > 0), g text)"
            ).format(sql.Identifier(parent), sql.Identifier("na;me"))
        )
        box.execute(
            sql.SQL(
                "CREATE TABLE {} (id bigint PRIMARY KEY, {} bigint NOT NULL REFERENCES {} (id),"
                " {} text NOT NULL CHECK ({} IN ('o''pen', 'clo;sed', '\"x\"')), {} text)"
            ).format(
                sql.Identifier(child),
                sql.Identifier(owner),
                sql.Identifier(parent),
                sql.Identifier(status),
                sql.Identifier(status),
                sql.Identifier("no te"),
            )
        )
        fill_table(box, parent, 200)
        assert box.execute(sql.SQL("SELECT min(id), max(id) FROM {}").format(sql.Identifier(parent))) == [(1, 200)]
        fill_table(box, child, 1_000, Shape(labels={status: ("o'pen", "clo;sed", '"x"')}))
        assert box.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(child))) == [(1_000,)]
        labels = {
            label
            for (label,) in box.execute(
                sql.SQL("SELECT DISTINCT {} FROM {}").format(sql.Identifier(status), sql.Identifier(child))
            )
        }
        assert labels == {"o'pen", "clo;sed", '"x"'}
        tables = {
            name for (name,) in box.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        }
        assert tables == {parent, child}


def test_scaled_rows_keep_the_ratios_under_the_cap() -> None:
    factor, rows = scaled_rows(
        {"customers": 1_000_000, "orders": 20_000_000, "notes": None}, cap=100_000, default=5_000
    )
    assert factor == 100_000 / 20_000_000
    assert rows == {"customers": 5_000, "orders": 100_000, "notes": 25}
    assert rows["orders"] / rows["customers"] == 20


def test_scaled_rows_leave_small_volumes_alone_and_give_each_table_a_row() -> None:
    assert scaled_rows({"a": 300, "b": None}, cap=10_000, default=50) == (1.0, {"a": 300, "b": 50})
    factor, rows = scaled_rows({"big": 10_000_000, "tiny": 10, "empty": 0}, cap=1_000, default=10)
    assert factor == 1_000 / 10_000_000
    assert rows == {"big": 1_000, "tiny": 1, "empty": 1}
    assert scaled_rows({}, cap=1_000, default=10) == (1.0, {})
