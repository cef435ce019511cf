"""The design's tables as Django model states, and the migration Django's autodetector writes."""

from django.db import models
from django.db.migrations import operations
from django.db.migrations.writer import MigrationWriter

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import DesignModel
from apps.migrations_preview.engine.states import migration_between, model_name, project_state


def _model(document: str) -> DesignModel:
    return parse_design(DesignInput(document=document), limits=ParseLimits()).model


def test_table_names_become_model_names() -> None:
    assert [model_name(t) for t in ("order_lines", "audit_log", "categories", "customers")] == [
        "OrderLine",
        "AuditLog",
        "Category",
        "Customer",
    ]


def test_columns_become_fields_with_their_types_defaults_and_keys(shop_v1: str) -> None:
    state = project_state(_model(shop_v1)).state
    orders = state.models["design", "order"]
    assert orders.options["db_table"] == "orders"
    fields = orders.fields
    assert isinstance(fields["id"], models.BigAutoField)
    assert isinstance(fields["status"], models.CharField) and fields["status"].max_length == 16
    assert fields["status"].db_default == "pending"
    assert fields["shipping_address"].null
    customer = fields["customer"]
    assert isinstance(customer, models.ForeignKey)
    assert customer.db_index is False  # the design lists its own indexes
    assert [c.fields for c in orders.options["constraints"]] == [("customer", "idempotency_key")]
    assert state.models["design", "customer"].fields["email"].unique


def test_shop_v1_from_nothing_creates_its_seven_tables(shop_v1: str) -> None:
    migration = migration_between(None, _model(shop_v1))
    assert migration is not None
    created = sorted(op.options["db_table"] for op in migration.operations if isinstance(op, operations.CreateModel))
    assert created == ["audit_log", "categories", "customers", "order_lines", "orders", "payments", "products"]
    source = MigrationWriter(migration).as_string()
    assert "migrations.CreateModel(" in source
    assert "'db_table': 'order_lines'" in source


def test_shop_v1_to_v2_shows_each_change(shop_v1: str, shop_v2: str) -> None:
    migration = migration_between(_model(shop_v1), _model(shop_v2))
    assert migration is not None
    described = [op.describe() for op in migration.operations]
    assert "Rename field shipping_address on order to delivery_address" in described
    assert "Create model Shipment" in described
    assert "Remove field card_number from payment" in described
    assert "Add field channel to order" in described  # NOT NULL, no default
    assert "Add field slug to product" in described  # new unique column
    assert "Alter field quantity on orderline" in described  # integer -> bigint
    assert "Alter field phone on customer" in described  # becomes NOT NULL
    assert any(d.startswith("Create index") and "orderline" in d for d in described)
    channel = next(op for op in migration.operations if isinstance(op, operations.AddField) and op.name == "channel")
    assert not channel.field.null
    assert channel.field.default is models.NOT_PROVIDED


def test_a_rename_can_be_previewed_as_drop_and_add(shop_v1: str, shop_v2: str) -> None:
    migration = migration_between(_model(shop_v1), _model(shop_v2), detect_renames=False)
    assert migration is not None
    described = [op.describe() for op in migration.operations]
    assert "Remove field shipping_address from order" in described
    assert "Add field delivery_address to order" in described


def test_identical_designs_need_no_migration(shop_v1: str) -> None:
    assert migration_between(_model(shop_v1), _model(shop_v1 + "\n")) is None
