"""The entity-relationship diagram: well-formed SVG, one box per table and one line per relation,
every name escaped, a bounded number of tables, and the same picture for the same design."""

import xml.etree.ElementTree as ET

from apps.reports.engine.erd import draw_erd

SVG = "{http://www.w3.org/2000/svg}"


def _entity(name: str, *refs: str, rows: int | None = None, nullable: bool = False) -> dict:
    return {
        "name": name,
        "primary_key": {"columns": ["id"]},
        "rows": rows,
        "relations": [
            {"columns": [f"{r}_id"], "references": r, "ref_columns": ["id"], "nullable": nullable} for r in refs
        ],
    }


SHOP = [
    _entity("customers", rows=3_000_000),
    _entity("categories", "categories", nullable=True),
    _entity("products", "categories", rows=800_000),
    _entity("orders", "customers", rows=40_000_000),
    _entity("order_lines", "orders", "products", rows=120_000_000),
]


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it is well-formed


def _groups(root: ET.Element, css: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if css in (g.get("class") or "").split()]


def test_the_svg_has_one_box_per_table_and_one_line_per_relation() -> None:
    erd = draw_erd(SHOP, max_tables=40)
    root = _tree(erd.svg)
    tables = _groups(root, "erd-table")
    edges = _groups(root, "erd-edge")
    assert [t.get("data-table") for t in tables] != [] and len(tables) == 5 == erd.tables
    assert sorted(t.get("data-table") for t in tables) == sorted(e["name"] for e in SHOP)
    assert len(edges) == 5 == erd.relations  # a self-reference is a relation too
    assert {(e.get("data-from"), e.get("data-to")) for e in edges} == {
        ("categories", "categories"),
        ("products", "categories"),
        ("orders", "customers"),
        ("order_lines", "orders"),
        ("order_lines", "products"),
    }
    assert (erd.tables_left_out, erd.relations_left_out) == (0, 0)


def test_tables_show_their_key_and_declared_volume() -> None:
    root = _tree(draw_erd(SHOP, max_tables=40).svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert any("≈ 40M rows" in t for t in texts)
    assert any("PK id" in t for t in texts)
    assert any("volume not declared" in t for t in texts)  # categories declares none
    assert any("FK customers_id → customers" in t for t in texts)


def test_referenced_tables_sit_above_the_tables_that_reference_them() -> None:
    root = _tree(draw_erd(SHOP, max_tables=40).svg)
    top = {g.get("data-table"): float(next(g.iter(f"{SVG}rect")).get("y") or 0) for g in _groups(root, "erd-table")}
    assert top["customers"] < top["orders"] < top["order_lines"]
    assert top["categories"] < top["products"] < top["order_lines"]


def test_hostile_names_are_escaped() -> None:
    hostile = '<script>alert("x")</script>&'
    erd = draw_erd([_entity(hostile), _entity("t\"'><img src=x>", hostile)], max_tables=40)
    assert "<script>" not in erd.svg and "<img" not in erd.svg
    root = _tree(erd.svg)
    assert {g.get("data-table") for g in _groups(root, "erd-table")} == {hostile, "t\"'><img src=x>"}
    assert [e.get("data-to") for e in _groups(root, "erd-edge")] == [hostile]


def test_past_the_limit_the_most_connected_tables_are_drawn_and_the_rest_counted() -> None:
    erd = draw_erd([*SHOP, _entity("lonely"), _entity("alone")], max_tables=4)
    root = _tree(erd.svg)
    drawn = {g.get("data-table") for g in _groups(root, "erd-table")}
    assert len(drawn) == 4 == erd.tables and erd.tables_left_out == 3
    assert "lonely" not in drawn and "alone" not in drawn
    assert len(_groups(root, "erd-edge")) == erd.relations
    assert erd.relations + erd.relations_left_out == 5


def test_a_cycle_is_drawn_and_the_picture_is_deterministic() -> None:
    cycle = [_entity("a", "b"), _entity("b", "a")]
    first, second = draw_erd(cycle, max_tables=40), draw_erd(cycle, max_tables=40)
    assert first.svg == second.svg
    assert len(_groups(_tree(first.svg), "erd-edge")) == 2


def test_no_tables_is_an_empty_picture_not_an_error() -> None:
    erd = draw_erd([], max_tables=40)
    assert erd.tables == 0 and _tree(erd.svg).tag == f"{SVG}svg"


def test_a_self_references_label_sits_in_the_gap_before_the_next_table() -> None:
    categories = {**_entity("categories"), "relations": [{"columns": ["parent_id"], "references": "categories"}]}
    root = _tree(draw_erd([categories, _entity("customers")], max_tables=40).svg)
    boxes = {
        g.get("data-table"): next(g.iter(f"{SVG}rect")).attrib for g in _groups(root, "erd-table")
    }  # tables are drawn over the lines, so a label under the next box would be hidden
    own_right = float(boxes["categories"]["x"]) + float(boxes["categories"]["width"])
    next_left = float(boxes["customers"]["x"])
    label = next(next(e.iter(f"{SVG}text")) for e in _groups(root, "erd-edge"))
    half = len(label.text or "") * 6.5 / 2  # an 11 px sans-serif character is at most ~6.5 px wide
    assert label.text == "parent_id"
    assert own_right < float(label.get("x") or 0) - half and float(label.get("x") or 0) + half < next_left
