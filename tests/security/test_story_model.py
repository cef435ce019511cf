"""Stories against the data model: retention against ON DELETE CASCADE, soft deletes without a
column, uniqueness without a constraint, required relations that are nullable. Each finding
points at the data model's line and the story's."""

import pytest

from tests.security.helpers import rules

DDL = """```sql
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  email text NOT NULL,
  tenant_id bigint NOT NULL
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
  number text NOT NULL
);
CREATE TABLE invoices (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  deleted_at timestamptz
);
CREATE TABLE subscriptions (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status text NOT NULL
);
```
"""
DDL_KEPT = (
    DDL.replace(
        "REFERENCES customers (id) ON DELETE CASCADE,", "NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,"
    )
    .replace("REFERENCES orders (id) ON DELETE CASCADE", "REFERENCES orders (id)")
    .replace("  number text NOT NULL\n", "  number text NOT NULL UNIQUE,\n  deleted_at timestamptz\n")
    .replace("  tenant_id bigint NOT NULL\n", "  tenant_id bigint NOT NULL,\n  UNIQUE (tenant_id, email)\n")
    .replace(
        ");\n```", ");\nCREATE UNIQUE INDEX one_active ON subscriptions (customer_id) WHERE status = 'active';\n```"
    )
)


def story(*criteria: str, ddl: str = DDL) -> str:
    """The data model first (so its lines are those counted in the tests), then the story."""
    bullets = "\n".join(f"- {c}" for c in criteria)
    return f"{ddl}\n### ORD-1: Keep the records\n\nAs a clerk, I want records, so that audits pass.\n\nAcceptance criteria:\n{bullets}\n"


def story_line(ddl: str = DDL) -> int:
    """The line of the (first) acceptance criterion."""
    return ddl.count("\n") + 7


@pytest.mark.parametrize(
    "criterion",
    [
        "Invoices are never deleted.",
        "Invoices are kept for 10 years.",
        "Invoices must be retained for the tax office.",
        "Invoices are anonymised after 30 days, not removed.",
    ],
)
def test_a_retention_promise_against_a_chain_of_cascades_is_found(criterion: str) -> None:
    found = rules(document=story(criterion))["sec.dp.story-retention-cascade"]
    where = {(f.locations[0].line, f.locations[1].line) for f in found}
    # invoices.order_id (line 14) cascades from orders, orders.customer_id (line 9) from customers
    assert where == {(14, story_line()), (9, story_line())}
    assert all(criterion in f.message for f in found)


@pytest.mark.parametrize(
    "criterion",
    ["Invoices are never deleted.", "Invoices are kept for 10 years.", "An invoice can be downloaded as a PDF."],
)
def test_no_retention_finding_without_a_cascade_or_a_promise(criterion: str) -> None:
    assert "sec.dp.story-retention-cascade" not in rules(document=story(criterion, ddl=DDL_KEPT))
    if "never" not in criterion and "kept" not in criterion:
        assert "sec.dp.story-retention-cascade" not in rules(document=story(criterion))


@pytest.mark.parametrize(
    "criterion",
    [
        "Orders are soft deleted.",
        "A deleted order can be restored for 30 days.",
        "Orders are archived instead of deleted.",
    ],
)
def test_a_soft_delete_promise_needs_a_column(criterion: str) -> None:
    found = rules(document=story(criterion))["sec.dp.story-soft-delete-missing"]
    assert [(f.locations[0].line, f.locations[1].line) for f in found] == [(7, story_line())]  # CREATE TABLE orders
    assert "sec.dp.story-soft-delete-missing" not in rules(document=story(criterion, ddl=DDL_KEPT))
    invoices = criterion.replace("Orders are", "Invoices are").replace("order", "invoice")
    assert "sec.dp.story-soft-delete-missing" not in rules(document=story(invoices))  # has deleted_at


@pytest.mark.parametrize(
    ("criterion", "line"),
    [
        ("Each email is unique.", 4),
        ("Customer emails must be unique.", 4),
        ("No two customers share an email.", 4),
        ("Order numbers are unique.", 10),
        ("There is one active subscription per customer.", 19),
        ("A customer has at most one subscription per customer.", 19),
    ],
)
def test_a_uniqueness_promise_needs_a_constraint(criterion: str, line: int) -> None:
    found = rules(document=story(criterion))["sec.dp.story-unique-missing"]
    assert [f.locations[0].line for f in found] == [line]
    assert found[0].locations[-1].line == story_line()
    # a composite unique (tenant_id, email) does not make email unique on its own
    kept = rules(document=story(criterion, ddl=DDL_KEPT)).get("sec.dp.story-unique-missing", [])
    assert [f.locations[0].line for f in kept] == ([4] if "email" in criterion else [])


@pytest.mark.parametrize(
    "criterion",
    ["Every order has a customer.", "Each order belongs to a customer.", "An order always has a customer."],
)
def test_a_required_relation_that_is_nullable_is_found(criterion: str) -> None:
    found = rules(document=story(criterion))["sec.dp.story-relation-nullable"]
    assert [(f.locations[0].line, f.locations[1].line) for f in found] == [(9, story_line())]  # orders.customer_id
    assert "is nullable" in found[0].message
    assert "sec.dp.story-relation-nullable" not in rules(document=story(criterion, ddl=DDL_KEPT))


def test_a_required_relation_without_a_foreign_key_is_found() -> None:
    found = rules(document=story("Every invoice has a customer."))["sec.dp.story-relation-nullable"]
    assert [f.locations[0].line for f in found] == [12]  # CREATE TABLE invoices
    assert "no foreign key to customers" in found[0].message
    assert "sec.dp.story-relation-nullable" not in rules(document=story("Every invoice has an order."))


@pytest.mark.parametrize(
    ("criterion", "found"),
    [
        ("Emails are unique per tenant.", False),  # (tenant_id, email) is unique in DDL_KEPT
        ("Emails are unique.", True),  # alone, they are not
    ],
)
def test_a_scoped_uniqueness_promise_counts_the_composite_constraint(criterion: str, found: bool) -> None:
    got = rules(document=story(criterion, ddl=DDL_KEPT)).get("sec.dp.story-unique-missing", [])
    assert bool(got) is found


@pytest.mark.parametrize(
    "criterion",
    [
        "Invoices are kept when their order is cancelled.",
        "Invoices must not be deleted.",
        "The shop must keep invoices.",
    ],
)
def test_more_retention_phrasings(criterion: str) -> None:
    assert "sec.dp.story-retention-cascade" in rules(document=story(criterion))
    assert "sec.dp.story-retention-cascade" not in rules(document=story(criterion, ddl=DDL_KEPT))


def test_a_required_relation_held_the_other_way_is_not_reported() -> None:
    # orders reference customers: "every customer has an order" is not a column's nullability
    assert "sec.dp.story-relation-nullable" not in rules(document=story("Every customer has an order."))


def test_two_rows_of_one_parent_sharing_a_number_need_a_composite_unique() -> None:
    from tests.security.helpers import rules as found_rules

    story = """# Stops

## Stories

### DSP-3: Dispatcher plans stops
As a dispatcher, I want to order a shipment's stops, so that the driver follows them.

Acceptance criteria:
- Two stops of one shipment never share a number.

```sql
CREATE TABLE shipments (id bigint PRIMARY KEY);
CREATE TABLE stops (id bigint PRIMARY KEY, shipment_id bigint NOT NULL REFERENCES shipments (id), sequence_no int NOT NULL);
"""
    missing = found_rules(document=story + "```\n")
    [finding] = missing["sec.dp.story-unique-missing"]
    assert "(sequence_no, shipment_id)" in finding.message
    kept = found_rules(document=story + "CREATE UNIQUE INDEX stops_order ON stops (shipment_id, sequence_no);\n```\n")
    assert "sec.dp.story-unique-missing" not in kept
