"""Foreign keys no index serves on the referencing side, read from the data model alone."""

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.queryplans.engine.schema import leading_columns, unindexed_foreign_keys
from tests.endpoints.helpers import SHOP, design_file

DDL = """```sql
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  coupon_id bigint REFERENCES customers (id)
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_coupon_partial ON orders (coupon_id) WHERE coupon_id IS NOT NULL;
CREATE TABLE "Lines" (
  order_id bigint NOT NULL REFERENCES orders (id),
  n int NOT NULL,
  PRIMARY KEY (order_id, n)
);
```
"""


def _entities(text):
    parsed = parse_design(DesignInput(document=text, document_name="d.md"), limits=ParseLimits())
    assert parsed.ok, [p.message for p in parsed.fatal]
    return parsed.model.entities


def test_a_foreign_key_is_served_by_an_index_leading_with_it_and_not_by_a_partial_one() -> None:
    found = unindexed_foreign_keys(_entities(DDL))
    # orders.customer_id leads an index; "Lines".order_id leads the primary key; coupon_id has
    # only a partial index, which a delete of any customer cannot use.
    assert [(f.table, f.columns, f.ref_table) for f in found] == [("orders", ("coupon_id",), "customers")]
    assert found[0].index_sql == "CREATE INDEX CONCURRENTLY ON orders (coupon_id);"
    assert found[0].source.line > 1


def test_the_shop_designs_unindexed_foreign_keys_largest_table_first() -> None:
    found = unindexed_foreign_keys(design_file(SHOP).entities)
    assert [(f.table, f.columns) for f in found] == [
        ("order_lines", ("order_id",)),
        ("order_lines", ("product_id",)),
        ("payments", ("order_id",)),
        ("audit_log", ("actor_id",)),
        ("products", ("category_id",)),
        ("categories", ("parent_id",)),
    ]
    # orders.customer_id leads the (customer_id, idempotency_key) unique index: served.
    assert "customer_id" in leading_columns(next(e for e in design_file(SHOP).entities if e.name == "orders"))
