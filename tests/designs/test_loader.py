from dataclasses import replace

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, has_text, input_from_file, parse_design
from apps.designs.engine.model import Entity
from apps.designs.engine.text import decode_document
from tests.conftest import CORPUS


def _shape(entity: Entity) -> tuple:
    return (
        entity.name,
        entity.rows,
        entity.primary_key,
        tuple((c.name, c.type, c.nullable, c.default, c.identity) for c in entity.columns),
        sorted((f.columns, f.ref_table, f.ref_columns) for f in entity.foreign_keys),
        sorted(u.columns for u in entity.uniques),
        sorted(i.columns for i in entity.indexes),
    )


def test_the_dbml_and_the_ddl_of_shop_v1_yield_the_same_entities(shop_v1: str, limits: ParseLimits) -> None:
    from_doc = parse_design(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=limits)
    ddl = (CORPUS / "shop" / "v1-schema.sql").read_text()
    from_ddl = parse_design(input_from_file("v1-schema.sql", ddl), limits=limits)
    assert from_doc.problems == () and from_ddl.problems == ()
    assert [_shape(e) for e in from_doc.model.entities] == [_shape(e) for e in from_ddl.model.entities]
    orders = from_doc.model.entity("orders")
    assert orders is not None
    assert [e.name for e in from_doc.model.entities] == [
        "customers",
        "categories",
        "products",
        "orders",
        "order_lines",
        "payments",
        "audit_log",
    ]
    assert orders.rows == 40_000_000
    assert orders.column("status").default == "'pending'"
    assert orders.column("created_at").default == "now()"
    assert [u.columns for u in orders.uniques] == [("customer_id", "idempotency_key")]
    assert from_ddl.model.entity("payments").column("card_number").nullable


def test_shop_v1_yields_11_operations_and_6_stories_with_budgets(shop_v1: str, limits: ParseLimits) -> None:
    model = parse_design(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=limits).model
    assert len(model.endpoints) == 11
    assert [s.id for s in model.stories] == [
        "ORD-1",
        "ORD-2",
        "ORD-3",
        "ORD-4",
        "CAT-1",
        "ADM-1",
    ]
    budgets = {s.id: [(b.percentile, b.latency_ms, b.throughput_rps) for b in s.budgets] for s in model.stories}
    assert budgets == {
        "ORD-1": [("p95", 150.0, 400.0)],
        "ORD-2": [("p95", 300.0, 80.0)],
        "ORD-3": [("p95", 500.0, 20.0)],
        "ORD-4": [("p95", 400.0, 50.0)],
        "CAT-1": [("p95", 100.0, 1500.0)],
        "ADM-1": [],
    }
    ord1 = model.stories[0]
    assert [(v.count, v.noun) for v in ord1.volumes] == [
        (40_000_000, "orders"),
        (3_000_000, "customers"),
    ]
    assert len(ord1.acceptance_criteria) == 3
    assert [q.name for q in model.queries] == [
        "customer_orders_page",
        "support_search",
        "browse_category",
        "order_lines_with_products",
    ]


def test_source_refs_point_at_the_lines_in_the_document(shop_v1: str, limits: ParseLimits) -> None:
    model = parse_design(DesignInput(document=shop_v1, document_name="v1-design.md"), limits=limits).model
    lines = shop_v1.splitlines()
    endpoint = next(e for e in model.endpoints if e.operation_id == "createOrder")
    assert lines[endpoint.source.line - 1].strip() == "post:"
    assert endpoint.source.pointer == "/paths/~1orders/post"
    assert lines[model.entity("payments").source.line - 1].startswith("Table payments")
    assert lines[model.entity("payments").column("card_number").source.line - 1].strip().startswith("card_number")
    assert lines[model.stories[3].source.line - 1] == "### ORD-4: Customer pays for an order"
    assert lines[model.queries[1].source.line - 1] == "SELECT o.*"


def test_the_parts_can_be_pasted_separately(shop_v1: str, limits: ParseLimits) -> None:
    def block(tag: str) -> str:
        return shop_v1.split(f"```{tag}\n", 1)[1].split("```", 1)[0]

    stories = shop_v1.split("## API", 1)[0]
    result = parse_design(
        DesignInput(
            stories=stories,
            openapi=block("openapi"),
            data_model=block("dbml"),
            queries=block("sql"),
        ),
        limits=limits,
    )
    assert result.problems == ()
    assert result.model.counts() == {
        "entities": 7,
        "endpoints": 11,
        "stories": 6,
        "queries": 4,
    }
    assert set(result.model.documents) == {
        "stories.md",
        "openapi.yaml",
        "data-model.dbml",
        "queries.sql",
    }


def test_shop_v2_parses_with_the_new_table_and_story(shop_v2: str, limits: ParseLimits) -> None:
    result = parse_design(DesignInput(document=shop_v2, document_name="v2-design.md"), limits=limits)
    assert result.problems == ()
    assert result.model.entity("shipments") is not None
    assert "SHP-1" in [s.id for s in result.model.stories]
    assert len(result.model.endpoints) == 12


def test_an_empty_paste_is_refused(limits: ParseLimits) -> None:
    result = parse_design(DesignInput(document="  \n"), limits=limits)
    assert [p.code for p in result.fatal] == ["input.empty"]


def test_a_document_with_nothing_recognised_is_refused(limits: ParseLimits) -> None:
    result = parse_design(
        DesignInput(document="# Notes\n\nJust prose.\n\n```python\nprint(1)\n```\n"),
        limits=limits,
    )
    assert [p.code for p in result.fatal] == ["input.nothing-recognised"]
    assert "```openapi" in result.fatal[0].fix


def test_an_oversize_document_is_refused_before_parsing(shop_v1: str) -> None:
    result = parse_design(DesignInput(document=shop_v1), limits=ParseLimits(max_document_bytes=1000))
    assert [p.code for p in result.fatal] == ["input.too-large"]
    assert result.model.counts() == {
        "entities": 0,
        "endpoints": 0,
        "stories": 0,
        "queries": 0,
    }


def test_a_ddl_error_inside_a_document_names_the_document_line(
    limits: ParseLimits,
) -> None:
    doc = "# D\n\n### S-1: story\nAs a user, I want x, so that y.\n\n```sql\nCREATE TABLE a (\n  id int,,\n);\n```\n"
    result = parse_design(DesignInput(document=doc, document_name="d.md"), limits=limits)
    (problem,) = result.fatal
    assert problem.code == "ddl.syntax-error"
    assert (problem.source.document, problem.source.line) == ("d.md", 8)


def test_invalid_yaml_in_a_document_names_the_document_line(shop_v1: str, limits: ParseLimits) -> None:
    broken = shop_v1.replace("      scheme: bearer\n", "      scheme: [bearer\n", 1)
    result = parse_design(DesignInput(document=broken, document_name="v1.md"), limits=limits)
    (problem,) = result.fatal
    assert problem.code == "input.invalid-yaml"
    # The bracket opened on line 91 is found unclosed on line 92; the message names both.
    assert problem.source.line == 92
    assert "started at line 91" in problem.message


def test_endpoints_are_linked_to_the_entities_they_serve(shop_v1: str, limits: ParseLimits) -> None:
    model = parse_design(DesignInput(document=shop_v1), limits=limits).model
    entities = {e.operation_id: e.entities for e in model.endpoints}
    assert entities["listCustomerOrders"][0] == "orders"
    assert entities["payOrder"][:2] == ("payments", "orders")
    assert entities["exportCustomer"] == ("customers",)
    assert "order_lines" in entities["createOrder"]


def test_a_nested_collection_is_linked_to_the_table_named_after_parent_and_child(limits: ParseLimits) -> None:
    ddl = "CREATE TABLE consultations (id bigint PRIMARY KEY);\nCREATE TABLE consultation_notes (id bigint PRIMARY KEY);\nCREATE TABLE notes (id bigint PRIMARY KEY);"
    api = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /consultations/{id}/notes:\n    get:\n      responses: {'200': {description: ok}}\n"
    model = parse_design(DesignInput(openapi=api, data_model=ddl), limits=limits).model
    assert model.endpoints[0].entities == ("consultation_notes", "notes", "consultations")


def test_bare_files_are_recognised_by_suffix() -> None:
    assert input_from_file("api.json", "{}").openapi == "{}"
    assert input_from_file("m.dbml", "Table a {}").data_model == "Table a {}"
    assert input_from_file("q.sql", "-- name: a\nSELECT 1;").queries.startswith("-- name")
    assert replace(input_from_file("d.md", "# x"), document_name="d.md").document == "# x"


def test_a_bare_openapi_file_read_from_its_bytes_parses_as_its_text(limits: ParseLimits) -> None:
    api = '{"openapi": "3.0.3", "info": {"title": "Caf\u00e9 \u2615", "version": "1"},\n "paths": {"/a": {"get": {"responses": {"200": {"description": "\u00e9t\u00e9"}}}}}}'
    data = "\ufeff".encode() + api.encode()
    text = decode_document(data, document="api.json")
    from_bytes = parse_design(input_from_file("api.json", text, data=data), limits=limits)
    from_text = parse_design(input_from_file("api.json", text), limits=limits)
    assert input_from_file("api.json", text, data=data).openapi_utf8 == api.encode()
    assert from_bytes.problems == from_text.problems == ()
    assert from_bytes.model == from_text.model and from_bytes.model.endpoints[0].source.line == 2


def test_a_nul_in_a_bare_openapi_file_read_from_its_bytes_is_refused(limits: ParseLimits) -> None:
    data = b'{"openapi": "3.0.3",\n "info": {"title": "a\x00", "version": "1"}, "paths": {}}'
    text = decode_document(data, document="api.json")
    problems = parse_design(input_from_file("api.json", text, data=data), limits=limits).problems
    assert [(p.code, p.source.line) for p in problems] == [("input.unstorable-text", 2)]


def test_a_path_naming_a_table_in_another_word_order_is_linked_to_it(limits: ParseLimits) -> None:
    ddl = "CREATE TABLE stops (id bigint PRIMARY KEY);\nCREATE TABLE delivery_proofs (id bigint PRIMARY KEY);"
    api = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /stops/{id}/proof-of-delivery:\n    post:\n      responses: {'201': {description: ok}}\n"
    model = parse_design(DesignInput(openapi=api, data_model=ddl), limits=limits).model
    assert model.endpoints[0].entities == ("stops", "delivery_proofs")


def test_a_field_has_text_exactly_when_stripping_it_leaves_some() -> None:
    # Every kind of whitespace str.strip() removes (ASCII, the separators, U+3000), and what it keeps.
    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
    assert len(spaces) > 20
    for text in ("", spaces, " \n", "x", f"{spaces}x{spaces}", "\x00", "\u200b", "{}\n"):
        assert has_text(text) == bool(text.strip()), repr(text)
