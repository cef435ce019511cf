"""Forward and rollback SQL come from Django's schema editor, run against a sandbox session."""

from apps.migrations_preview.engine.sql import preview_sql
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model


def test_shop_v1_to_v2_forward_and_rollback_sql(config: sandbox.SandboxConfig, shop_v1: str, shop_v2: str) -> None:
    with sandbox.session(config) as box:
        result = preview_sql(box, base=design_model(shop_v1), new=design_model(shop_v2))
        tables = {row[0] for row in box.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert result is not None
    forward = "\n".join(result.forward)
    rollback = "\n".join(result.rollback)
    assert 'ALTER TABLE "orders" RENAME COLUMN "shipping_address" TO "delivery_address";' in forward
    assert 'ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE bigint' in forward
    assert 'ALTER TABLE "customers" ALTER COLUMN "phone" SET NOT NULL;' in forward
    assert 'ALTER TABLE "payments" DROP COLUMN "card_number";' in forward
    assert 'CREATE TABLE "shipments"' in forward
    assert 'ALTER TABLE "orders" RENAME COLUMN "delivery_address" TO "shipping_address";' in rollback
    assert 'ALTER TABLE "payments" ADD COLUMN "card_number" varchar(19) NULL;' in rollback
    assert 'DROP TABLE "shipments" CASCADE;' in rollback
    assert 'ALTER TABLE "order_lines" ALTER COLUMN "quantity" TYPE integer USING "quantity"::integer;' in rollback
    assert 'ALTER TABLE "customers" ALTER COLUMN "phone" DROP NOT NULL;' in rollback
    assert "shipments" in tables  # the change was really applied in the sandbox
    assert result.rollback_proven is False
    assert "the data of payment.card_number is lost" in result.rollback_reason


def test_a_rollback_without_data_loss_is_proven(config: sandbox.SandboxConfig, shop_v1: str) -> None:
    v1 = design_model(shop_v1)
    more = design_model(
        shop_v1.replace(
            "  stock integer [not null, default: 0]\n",
            "  stock integer [not null, default: 0]\n  weight_grams integer\n",
        )
    )
    with sandbox.session(config) as box:
        result = preview_sql(box, base=v1, new=more)
    assert result is not None
    assert result.forward[-1] == 'ALTER TABLE "products" ADD COLUMN "weight_grams" integer NULL;'
    assert result.rollback_proven, result.rollback_reason


def test_a_design_from_nothing_gives_its_create_tables(config: sandbox.SandboxConfig, shop_v1: str) -> None:
    with sandbox.session(config) as box:
        result = preview_sql(box, base=None, new=design_model(shop_v1))
    assert result is not None
    assert sum(1 for s in result.forward if s.startswith("CREATE TABLE")) == 7
    assert any(s.startswith('DROP TABLE "orders"') for s in result.rollback)
