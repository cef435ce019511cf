"""An entity-relationship diagram of a design's tables, drawn as SVG text on the server.

Input: the tables as plain data, the shape of the report's `traceability.entities` rows: `name`,
`primary_key.columns`, `relations` (each `columns`, `references`, `ref_columns`, `nullable`),
optionally `rows` (the declared volume) and `href` (where a click on the table leads). Everything
else in a row is ignored. Output: an `Erd` with the SVG (every name escaped) and how many tables
and relations it draws and leaves out.

Layout, simple and deterministic: tables in layers by foreign-key depth (a table no other table's
key leads from is at the top, each table one layer below the deepest table it references), each
layer wrapped into rows of `per_row` tables, ordered by the position of what they reference, then
by name. A relation is a line from the referencing table up to the referenced one, labelled with
its columns; a relation back up the page (a cycle) or to the table itself is a curve on the side.
Past `max_tables`, the most connected tables are drawn and the rest counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

BOX_WIDTH = 210
HEADER = 24
LINE = 16
GAP_X = 72  # room between columns for a self-reference's loop and its label
GAP_Y = 56
MARGIN = 16
MAX_TEXT = 28  # characters of a name or label shown before an ellipsis (the title has it whole)


@dataclass(frozen=True, slots=True)
class Erd:
    svg: str
    tables: int  # drawn
    relations: int  # drawn
    tables_left_out: int
    relations_left_out: int  # to or from a table not drawn


@dataclass(frozen=True, slots=True)
class _Table:
    name: str
    key: tuple[str, ...]
    rows: int | None
    href: str | None
    relations: tuple[tuple[tuple[str, ...], str, tuple[str, ...], bool], ...]  # columns, target, ref columns, nullable


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _short(value: str, limit: int = MAX_TEXT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _volume(rows: int | None) -> str:
    if rows is None:
        return "volume not declared"
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if rows >= size:
            return f"≈ {rows / size:.3g}{unit} rows"
    return f"{rows} row{'s' if rows != 1 else ''}"


def _tables(entities: Sequence[Mapping[str, Any]]) -> list[_Table]:
    tables: list[_Table] = []
    seen: set[str] = set()
    for entity in entities:
        name = str(entity.get("name") or "")
        if not name or name in seen:
            continue
        seen.add(name)
        key = (entity.get("primary_key") or {}).get("columns") or ()
        rows = entity.get("rows")
        relations = tuple(
            (
                tuple(str(c) for c in r.get("columns") or ()),
                str(r.get("references") or ""),
                tuple(str(c) for c in r.get("ref_columns") or ()),
                bool(r.get("nullable")),
            )
            for r in entity.get("relations") or ()
            if r.get("references")
        )
        tables.append(
            _Table(
                name=name,
                key=tuple(str(c) for c in key),
                rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
                href=str(entity["href"]) if entity.get("href") else None,
                relations=relations,
            )
        )
    return tables


def _chosen(tables: list[_Table], max_tables: int) -> list[_Table]:
    if len(tables) <= max_tables:
        return tables
    degree = {t.name: 0 for t in tables}
    for t in tables:
        for _, target, _, _ in t.relations:
            degree[t.name] += 1
            if target in degree:
                degree[target] += 1
    order = {t.name: i for i, t in enumerate(tables)}
    keep = {t.name for t in sorted(tables, key=lambda t: (-degree[t.name], order[t.name]))[: max(0, max_tables)]}
    return [t for t in tables if t.name in keep]


def _depths(tables: list[_Table]) -> dict[str, int]:
    """Each table's layer: 0 without references to other drawn tables, else one below the deepest
    table it references. A reference that closes a cycle is not followed."""
    targets = {t.name: [r[1] for r in t.relations if r[1] != t.name] for t in tables}
    depth: dict[str, int] = {}
    visiting: set[str] = set()

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        visiting.add(name)
        below = [visit(target) for target in targets[name] if target in targets and target not in visiting]
        visiting.discard(name)
        depth[name] = 1 + max(below) if below else 0
        return depth[name]

    for t in tables:
        visit(t.name)
    return depth


def _lines(table: _Table) -> list[tuple[str, str, str]]:
    """(css class, text, full text) of each line under the table's name."""
    lines = []
    if table.key:
        key = ", ".join(table.key)
        lines.append(("erd-key", _short(f"PK {key}"), f"primary key ({key})"))
    for columns, target, ref_columns, nullable in table.relations:
        text = f"FK {', '.join(columns)} → {target}"
        full = f"foreign key ({', '.join(columns)}) references {target} ({', '.join(ref_columns)})"
        lines.append(("erd-fk", _short(text), full + (", nullable" if nullable else "")))
    lines.append(("erd-volume", _volume(table.rows), _volume(table.rows)))
    return lines


def draw_erd(entities: Sequence[Mapping[str, Any]], *, max_tables: int, per_row: int = 4) -> Erd:
    """The diagram of `entities` (see the module docstring), at most `max_tables` tables."""
    every = _tables(entities)
    tables = _chosen(every, max_tables)
    names = {t.name for t in tables}
    depth = _depths(tables)
    per_row = max(1, per_row)

    # Place: layer by layer, each ordered by where its references sit, wrapped into rows.
    column_of: dict[str, float] = {}
    placed: dict[str, tuple[int, int, int, int]] = {}  # name -> x, y, width, height
    y = MARGIN
    width = MARGIN * 2 + BOX_WIDTH
    for layer in sorted(set(depth.values())):
        members = [t for t in tables if depth[t.name] == layer]

        def order(t: _Table) -> tuple[float, str]:
            spots = [column_of[r[1]] for r in t.relations if r[1] in column_of]
            return (sum(spots) / len(spots) if spots else 0.0, t.name)

        members.sort(key=order)
        for start in range(0, len(members), per_row):
            row = members[start : start + per_row]
            height = max(HEADER + LINE * len(_lines(t)) + 8 for t in row)
            for i, t in enumerate(row):
                x = MARGIN + i * (BOX_WIDTH + GAP_X)
                placed[t.name] = (x, y, BOX_WIDTH, HEADER + LINE * len(_lines(t)) + 8)
                column_of[t.name] = float(i)
            width = max(width, MARGIN * 2 + len(row) * BOX_WIDTH + (len(row) - 1) * GAP_X)
            y += height + GAP_Y
    height = max(y - GAP_Y + MARGIN, MARGIN * 2 + HEADER)

    edges: list[str] = []
    left_out = 0
    for t in tables:
        for columns, target, ref_columns, nullable in t.relations:
            if target not in names:
                left_out += 1
                continue
            edges.append(_edge(t.name, placed[t.name], target, placed[target], columns, ref_columns, nullable))
    if not tables:
        left_out = sum(len(t.relations) for t in every)
    else:
        left_out += sum(len(t.relations) for t in every if t.name not in names)

    boxes = [_box(t, *placed[t.name]) for t in tables]
    title = f"Entity-relationship diagram: {len(tables)} table{'s' if len(tables) != 1 else ''}, {len(edges)} relation{'s' if len(edges) != 1 else ''}"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="erd" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="erd-title">'
        f'<title id="erd-title">{_text(title)}</title>'
        "<defs>"
        '<marker id="erd-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="erd-arrowhead" fill="#667085"/></marker>'
        "</defs>"
        f'<g class="erd-edges">{"".join(edges)}</g>'
        f'<g class="erd-tables">{"".join(boxes)}</g>'
        "</svg>"
    )
    return Erd(
        svg=svg,
        tables=len(tables),
        relations=len(edges),
        tables_left_out=len(every) - len(tables),
        relations_left_out=left_out,
    )


def _box(table: _Table, x: int, y: int, w: int, h: int) -> str:
    parts = [
        f'<g class="erd-table" data-table="{_text(table.name)}">',
        f"<title>{_text(table.name)}</title>",
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" class="erd-box" fill="#ffffff" stroke="#667085"/>',
        f'<rect x="{x}" y="{y}" width="{w}" height="{HEADER}" rx="4" class="erd-head" fill="#eef2f6" stroke="#667085"/>',
    ]
    name = f'<text x="{x + 8}" y="{y + 16}" class="erd-name" font-weight="600" font-size="13">{_text(_short(table.name))}</text>'
    parts.append(f'<a href="{_text(table.href)}">{name}</a>' if table.href else name)
    for i, (css, text, full) in enumerate(_lines(table)):
        parts.append(
            f'<text x="{x + 8}" y="{y + HEADER + 14 + i * LINE}" class="{css}" font-size="12">'
            f"<title>{_text(full)}</title>{_text(text)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _edge(
    source: str,
    at: tuple[int, int, int, int],
    target: str,
    to: tuple[int, int, int, int],
    columns: tuple[str, ...],
    ref_columns: tuple[str, ...],
    nullable: bool,
) -> str:
    x, y, w, h = at
    tx, ty, tw, th = to
    if source == target:  # a loop on the right side
        x1, y1, y2 = x + w, y + HEADER + 4, y + h - 6
        path = f"M{x1},{y1} C{x1 + 36},{y1} {x1 + 36},{y2} {x1},{y2}"
        lx, ly = x1 + 30, (y1 + y2) // 2
    elif ty + th <= y:  # the referenced table is above: top of this box to the bottom of that one
        x1, y1, x2, y2 = x + w // 2, y, tx + tw // 2, ty + th
        mid = (y1 + y2) // 2
        path = f"M{x1},{y1} C{x1},{mid} {x2},{mid} {x2},{y2}"
        lx, ly = (x1 + x2) // 2, mid
    else:  # same row or below (a cycle): right side to right side
        x1, y1, x2, y2 = x + w, y + HEADER // 2, tx + tw, ty + HEADER // 2
        bend = max(x1, x2) + 30
        path = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
        lx, ly = bend - 8, (y1 + y2) // 2
    label = ", ".join(columns)
    full = f"{source} ({label}) → {target} ({', '.join(ref_columns)})" + (", nullable" if nullable else "")
    dash = ' stroke-dasharray="5 4"' if nullable else ""
    return (
        f'<g class="erd-edge{" erd-nullable" if nullable else ""}" data-from="{_text(source)}" data-to="{_text(target)}">'
        f"<title>{_text(full)}</title>"
        f'<path d="{path}" class="erd-line" fill="none" stroke="#667085" stroke-width="1.5"{dash} marker-end="url(#erd-arrow)"/>'
        f'<text x="{lx}" y="{ly}" class="erd-label" font-size="11" text-anchor="middle" paint-order="stroke" '
        f'stroke="#ffffff" stroke-width="3">{_text(_short(label, 24))}</text>'
        "</g>"
    )
