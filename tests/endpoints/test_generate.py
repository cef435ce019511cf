import ast
import json
import re
import subprocess

import pytest

from apps.designs.engine.model import DesignModel
from apps.endpoints.engine.analyzer import analyze_endpoints
from apps.endpoints.engine.generate import CannotGenerate, generate_app
from apps.migrations_preview.engine.states import project_state
from tests.endpoints.helpers import RUFF, class_assignments, design, design_file, shop, write_project
from tests.endpoints.helpers import SHOP as SHOP_PATH

API_ONLY = """# Notes

```openapi
openapi: 3.1.0
info: {title: Notes, version: '1'}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [text]
              properties:
                text: {type: string, maxLength: 500}
                kind: {oneOf: [{type: string}, {type: integer}]}
      responses:
        '201': {description: Created}
  /notes/<b>/{id}:
    get:
      operationId: oddPath
      responses:
        '200': {description: OK}
```
"""

RATED = """# Notes

### N-1: Writer adds a note
As a writer, I want to add notes, so that I remember.

Acceptance criteria:
- Adding notes is limited to 5 requests per minute per writer.

Endpoints: POST /notes

```openapi
openapi: 3.1.0
info: {title: Notes, version: '1'}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Note'}
      responses:
        '201':
          description: Created
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Note'}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
        secret_code: {type: string, writeOnly: true}
```

```dbml
Table notes {
  id bigint [pk, increment]
  text text [not null]
  secret_code varchar(20)
}
```
"""

NESTED = """# Nested

```openapi
openapi: 3.1.0
info: {title: N, version: '1'}
paths:
  /orders:
    get:
      operationId: listOrders
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Order'}
components:
  schemas:
    Customer:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        email: {type: string}
    Order:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        customer: {$ref: '#/components/schemas/Customer'}
        status: {type: string}
```

```dbml
Table customers {
  id bigint [pk, increment]
  email varchar(200) [not null]
}
Table orders {
  id bigint [pk, increment]
  customer_id bigint [not null, ref: > customers.id]
  status varchar(20) [not null]
}
```
"""


def test_every_operation_of_the_shop_design_is_generated_the_webhook_as_a_signed_receiver() -> None:
    generation = shop()
    assert len(generation.operations) == 11
    assert [(o.method, o.path, o.reason) for o in generation.operations if not o.generated] == []
    assert all(o.view for o in generation.operations)
    create = next(o for o in generation.operations if o.operation_id == "createOrder")
    assert create.generated and any("server_values() must set them" in note for note in create.notes)
    # The webhook's body (event, callback_url) is no payments row: its calls are received, their
    # signature checked (ORD-4 requires it, and the operation is public), kept in the inbox app.
    webhook = next(o for o in generation.operations if o.operation_id == "paymentWebhook")
    assert (webhook.action, webhook.model) == ("receive", "")
    assert ("signature", "X-Signature") in webhook.enforces
    assert ("authentication", "") not in webhook.enforces
    views = generation.file("design/views.py")
    assert 'received_as="paymentWebhook"' in views and 'signature_header="X-Signature"' in views
    paths = {f.path for f in generation.files}
    assert {"inbox/models.py", "inbox/migrations/0001_initial.py", "inbox/__init__.py"} <= paths


def test_a_post_no_table_backs_is_a_receiver_only_when_it_says_it_receives_calls_from_outside() -> None:
    body = {"content": {"application/json": {"schema": _OBJECT}}}
    signed = [{"name": "X-Hub-Signature-256", "in": "header", "required": True, "schema": {"type": "string"}}]
    api = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "security": [{"bearerAuth": []}],
        "paths": {
            "/search": {"post": {"operationId": "search", "requestBody": body, "responses": {"200": _OK}}},
            # Authenticated: it manages the caller's hooks, it receives none.
            "/repos/{repo}/hooks": {
                "post": {"operationId": "createHook", "requestBody": body, "responses": {"201": _OK}}
            },
            "/events": {
                "post": {
                    "operationId": "receiveEvent",
                    "parameters": signed,
                    "requestBody": body,
                    "responses": {"202": _OK},
                }
            },
        },
    }
    generation = generate_app(design("```openapi\n" + json.dumps(api) + "\n```\n"))
    by_id = {o.operation_id: o for o in generation.operations}
    for name in ("search", "createHook"):
        assert not by_id[name].generated and "answers 501" in by_id[name].reason
    # Its own signature header documented: checked there.
    assert (by_id["receiveEvent"].generated, by_id["receiveEvent"].action) == (True, "receive")
    assert ("signature", "X-Hub-Signature-256") in by_id["receiveEvent"].enforces
    assert 'signature_header="X-Hub-Signature-256"' in generation.file("design/views.py")


_OK = {"description": "ok"}
_OBJECT = {"type": "object", "properties": {"kind": {"type": "string"}}}


def test_models_py_declares_the_migration_previews_model_states() -> None:
    model = design_file(SHOP_PATH)
    classes = class_assignments(generate_app(model).file("design/models.py"))
    for state in project_state(model).state.models.values():
        assert set(classes[state.name]) == set(state.fields), state.name
        meta = classes[f"{state.name}.Meta"]
        assert ast.literal_eval(meta["db_table"]) == state.options["db_table"]
        assert ("constraints" in meta) == bool(state.options["constraints"])


def test_the_migration_is_the_preview_writers_for_the_same_states() -> None:
    migration = shop().file("design/migrations/0001_initial.py")
    assert "migrations.CreateModel(" in migration
    assert "'db_table': 'orders'" in migration
    assert "orders_customer_id_6505f1_uniq" in migration  # the preview's constraint name
    assert "Generated by Django" not in migration  # no timestamp: the same design gives the same bytes


def test_privileged_fields_are_never_writable_even_when_the_request_schema_allows_them() -> None:
    generation = shop()
    classes = class_assignments(generation.file("design/serializers.py"))
    customer = classes["CustomerInputModelSerializer.Meta"]
    assert "is_staff" in ast.literal_eval(customer["read_only_fields"])
    order = classes["OrderCreateInputModelSerializer.Meta"]
    assert "status" in ast.literal_eval(order["read_only_fields"])
    update = next(o for o in generation.operations if o.operation_id == "updateCustomer")
    assert any("is_staff is read-only" in note for note in update.notes)


def test_the_owner_id_set_from_the_caller_is_not_in_the_create_request() -> None:
    classes = class_assignments(shop().file("design/serializers.py"))
    fields = ast.literal_eval(classes["OrderCreateInputModelSerializer.Meta"]["fields"])
    assert "customer_id" not in fields
    views = shop().file("design/views.py")
    assert 'owner_column="customer_id"' in views


def test_a_path_carrying_the_owners_id_gets_object_level_permission_and_a_404_for_others() -> None:
    views = class_assignments(shop().file("design/views.py"))
    listing = ast.unparse(views["ListCustomerOrdersView"]["operations"])
    assert "permissions=(IsOwner,)" in listing
    assert "owner_kwarg='customerId'" in listing and "owner='customer_id'" in listing
    payment = ast.unparse(views["PayOrderView"]["operations"])
    assert "owner='order__customer_id'" in payment  # owned through the order


def test_a_role_a_story_requires_becomes_a_role_permission() -> None:
    generation = shop()
    roles = class_assignments(generation.file("design/permissions.py"))
    assert ast.literal_eval(roles["SupportAgentOrSupportRole"]["roles"]) == ("support agent", "support")
    assert ast.literal_eval(roles["AdminRole"]["roles"]) == ("admin",)
    assert "permissions=(permissions.AdminRole,)" in generation.file("design/views.py")


def test_a_newest_first_list_over_a_large_table_pages_by_cursor_and_every_list_is_capped() -> None:
    pagination = class_assignments(shop().file("design/pagination.py"))
    assert ast.literal_eval(pagination["ListCustomerOrdersPagination"]["ordering"]) == "-created_at"
    assert ast.literal_eval(pagination["ListCustomerOrdersPagination"]["page_size"]) == 50
    assert ast.literal_eval(pagination["ListProductsPagination"]["default_limit"]) == 24  # "24 per page"
    source = shop().file("design/pagination.py")
    assert "class ListCustomerOrdersPagination(Cursor):" in source
    assert "class SearchOrdersPagination(BareList, Page):" in source  # the spec's bare array
    small = generate_app(design_file(SHOP_PATH), max_page_size=10).file("design/pagination.py")
    assert "page_size = 50" not in small and "default_limit = 24" not in small


def test_query_parameters_become_django_filters() -> None:
    filters = class_assignments(shop().file("design/filters.py"))
    email = ast.unparse(filters["SearchOrdersFilter"]["email"])
    assert "field_name='customer__email'" in email and "lookup_expr='iexact'" in email
    assert "lookup_expr='gte'" in ast.unparse(filters["ListProductsFilter"]["min_price"])


def test_an_idempotency_key_header_makes_the_create_idempotent() -> None:
    views = class_assignments(shop().file("design/views.py"))
    create = ast.unparse(views["V1OrdersView"]["operations"])
    assert "idempotent=True" in create and "idempotency_required=True" in create
    assert "idempotency_column='idempotency_key'" in create


def test_a_rate_a_story_states_becomes_a_throttle_and_secrets_are_never_answered() -> None:
    generation = generate_app(design(RATED))
    throttles = class_assignments(generation.file("design/throttling.py"))
    assert [ast.literal_eval(t["rate"]) for t in throttles.values()] == ["5/minute"]
    assert "throttles=(throttling.Rate5PerMinuteThrottle,)" in generation.file("design/views.py")
    serializers = class_assignments(generation.file("design/serializers.py"))
    for name in ("NoteInputModelSerializer", "NoteModelSerializer"):  # writeOnly: never in a response
        assert "'secret_code': {'write_only': True}" in ast.unparse(serializers[f"{name}.Meta"]["extra_kwargs"])
    shop_serializers = class_assignments(shop().file("design/serializers.py"))
    assert "card_number" not in ast.literal_eval(shop_serializers["PaymentModelSerializer.Meta"]["fields"])
    assert "card_number" in ast.unparse(shop_serializers["PaymentInputModelSerializer.Meta"]["extra_kwargs"])


def test_operations_that_cannot_be_generated_are_reported_with_their_reason() -> None:
    model = design(API_ONLY)
    generation = generate_app(model)
    outcomes = {o.operation_id: o for o in generation.operations}
    assert set(outcomes) == {"createNote", "oddPath"}
    assert not outcomes["createNote"].generated and "no table" in outcomes["createNote"].reason
    assert "Django route" in outcomes["oddPath"].reason
    assert "CreateNoteRequestSerializer" in generation.file("design/serializers.py")  # validates, answers 501
    assert any("oneOf" in note for note in generation.notes)
    findings, section = analyze_endpoints(model)
    assert {f.rule_id for f in findings} == {"endpoints.not-generated"}
    assert sorted(loc for f in findings for loc in f.endpoints) == ["GET /notes/<b>/{id}", "POST /notes"]
    assert section["proof"]["status"] == "not run"
    assert [o["generated"] for o in section["operations"]] == [False, False]


def test_a_design_with_nothing_to_generate_is_refused() -> None:
    with pytest.raises(CannotGenerate):
        generate_app(DesignModel())


def test_every_file_starts_with_one_line_saying_what_it_was_generated_from() -> None:
    for file in shop().files:
        first, _, rest = file.content.partition("\n")
        assert re.fullmatch(r"# Generated by the Backend Design Workbench from [^\n]+\.", first), file.path
        assert "Generated by" not in rest, file.path


def test_the_generated_code_is_already_ruff_formatted_and_ruff_clean(tmp_path) -> None:
    project = write_project(shop(), tmp_path / "shop")
    for args in (["format", "--check", "."], ["check", "--no-cache", "."]):
        result = subprocess.run(  # noqa: S603 - the venv's ruff on our own output
            [str(RUFF), *args], cwd=project, capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_nested_object_of_a_foreign_keys_table_is_a_nested_serializer_the_view_selects_related() -> None:
    generation = generate_app(design(NESTED))
    serializers = class_assignments(generation.file("design/serializers.py"))
    assert (
        ast.unparse(serializers["OrderModelSerializer"]["customer"])
        == "CustomerCustomerNestedSerializer(read_only=True)"
    )
    views = class_assignments(generation.file("design/views.py"))
    assert ast.unparse(views["ListOrdersView"]["base_queryset"]) == "models.Order.objects.select_related('customer')"


def test_a_schema_shared_by_thousands_of_operations_is_written_once(monkeypatch) -> None:
    """Linear in the document: a component is turned into a serializer and an example once, however
    many operations send it (no per-operation walk of the shared schemas)."""
    properties = "".join(f"        p{i}: {{type: string}}\n" for i in range(30))
    paths = "".join(
        f"  /things{i}:\n    post:\n      operationId: make{i}\n      requestBody:\n        content:\n"
        "          application/json:\n            schema: {$ref: '#/components/schemas/Thing'}\n"
        "      responses:\n        '201': {description: ok}\n"
        for i in range(2000)
    )
    text = (
        "# Many\n\n```openapi\nopenapi: 3.1.0\ninfo: {title: m, version: '1'}\npaths:\n"
        + paths
        + "components:\n  schemas:\n    Thing:\n      type: object\n      properties:\n"
        + properties
        + "```\n"
    )
    from apps.endpoints.engine import schemas

    written = []
    real = schemas.SerializerWriter.write_class
    monkeypatch.setattr(
        schemas.SerializerWriter,
        "write_class",
        lambda self, name, *a, **k: (written.append(name), real(self, name, *a, **k)),
    )
    generation = generate_app(design(text))
    assert len(generation.operations) == 2000
    assert written == ["ThingSerializer"]
    tests = generation.file("design/tests/test_contract.py")
    assert tests.count('"p0": "x"') == 1  # one example body, shared through EXAMPLES
    assert tests.count('data=EXAMPLES["Thing"]') == 2000


def test_an_object_spread_over_prefixed_columns_is_a_nested_serializer_of_those_columns() -> None:
    generation = shop()
    serializers = class_assignments(generation.file("design/serializers.py"))
    assert (
        ast.unparse(serializers["OrderModelSerializer"]["total"]) == "OrderTotalSerializer(source='*', read_only=True)"
    )
    total = serializers["OrderTotalSerializer"]
    assert ast.unparse(total["amount"]) == "serializers.IntegerField(source='total_amount')"
    assert "source='total_currency'" in ast.unparse(total["currency"])
    listing = next(o for o in generation.operations if o.operation_id == "listCustomerOrders")
    assert not any(note.startswith("total ") for note in listing.notes)
    assert any(note.startswith("lines ") for note in listing.notes)  # a reverse relation: still left out


def test_a_contract_test_expects_the_documented_success_not_any_documented_status() -> None:
    """listCustomerOrders documents 200 and 404: a 404 (or a 400 for the example) is no pass, and a
    view answering 501 until written cannot pass its strict expected failure by answering 400."""
    tree = ast.parse(shop().file("design/tests/test_contract.py"))
    expected: dict[str, list[int]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assert)
                    and isinstance(stmt.test, ast.Compare)
                    and ast.unparse(stmt.test.left) == "response.status_code"
                ):
                    value = ast.literal_eval(stmt.test.comparators[0])
                    expected[node.name] = list(value) if isinstance(value, tuple) else [value]
    assert expected["test_list_customer_orders"] == [200]
    assert expected["test_create_order"] == [201]  # 409 is documented too
    assert expected["test_list_customer_orders_of_another_caller"] == [404]
