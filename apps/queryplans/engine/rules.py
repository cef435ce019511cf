"""Rules over a PostgreSQL plan (`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`): what will hurt, on
which node, with its numbers and why it matters.

Pure: a plan (PostgreSQL's JSON, as parsed) and the design's facts in, hits out. Each hit names
its node by its path in the tree (`0.1.0`: the root's second child's first child), so that the
report can draw it on the node. The thresholds are `PlanThresholds` (named settings at the edge).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlanThresholds:
    large_rows: int = 100_000  # a table (or a loop's inner side) this large makes a full read costly
    selective: float = 0.1  # a filter keeping at most this share of the rows it reads is selective
    misestimate: float = 10.0  # estimated and actual rows this many times apart
    misestimate_min_rows: int = 100  # ... when either is at least this many (1 vs 12 is noise)
    discarded: float = 10.0  # an index scan whose filter throws away this many rows per row kept
    discarded_min_rows: int = 1_000
    deep_offset: int = 1_000  # a LIMIT reading past this many rows to skip them
    sort_min_rows: int = 1_000  # a sort under a LIMIT matters from this many rows (and ten times those kept)


@dataclass(frozen=True)
class PlanHit:
    rule: str  # queryplans.<name>
    node: str  # the node's path in the plan tree
    node_type: str
    relation: str  # the table it reads, "" when none
    message: str  # what the numbers say and why it matters
    fix: str


def plan_hits(
    plan: Mapping[str, Any],
    *,
    indexed: Mapping[str, frozenset[str]] | None = None,
    thresholds: PlanThresholds | None = None,
) -> list[PlanHit]:
    """What hurts in `plan` (the "Plan" object of EXPLAIN's JSON, its nodes with ANALYZE's
    actual figures). `indexed` gives, per table, the columns an index leads with (the function
    rule asks it). Hits come in the tree's order, a node's before its children's."""
    limits = thresholds or PlanThresholds()
    indexed = indexed or {}
    hits: list[PlanHit] = []
    early = _stopped_early(plan)
    for path, node, parent in _nodes(plan):
        for rule in _RULES:
            if rule is _misestimate and path in early and _number(node, "Actual Rows") < _number(node, "Plan Rows"):
                continue  # fewer rows than estimated because the LIMIT above stopped asking: no misestimate
            hit = rule(path, node, parent, limits, indexed)
            if hit is not None:
                hits.append(hit)
    return hits


# Nodes that read all their input before returning a row: below them, a LIMIT stops nothing.
_BLOCKING = frozenset({"Sort", "Incremental Sort", "Hash", "Aggregate", "Materialize", "SetOp", "WindowAgg"})


def _stopped_early(plan: Mapping[str, Any]) -> set[str]:
    """The paths of the nodes a LIMIT may have stopped before they returned all their rows: those
    below a Limit through nodes that stream (not through a sort, a hash or an aggregate)."""
    early: set[str] = set()
    for path, _node, parent in _nodes(plan):
        if parent is None:
            continue
        parent_path = path.rsplit(".", 1)[0]
        streams = parent.get("Node Type") not in _BLOCKING
        if streams and (parent.get("Node Type") == "Limit" or parent_path in early):
            early.add(path)
    return early


def _nodes(plan: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]]:
    """(path, node, parent) of every node, depth first; iterative, so that no plan is too deep."""
    stack: list[tuple[str, Mapping[str, Any], Mapping[str, Any] | None]] = [("0", plan, None)]
    while stack:
        path, node, parent = stack.pop()
        yield path, node, parent
        children = node.get("Plans")
        if isinstance(children, list):
            for index in range(len(children) - 1, -1, -1):
                if isinstance(children[index], Mapping):
                    stack.append((f"{path}.{index}", children[index], node))


def _number(node: Mapping[str, Any], key: str) -> float:
    value = node.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _rows_read(node: Mapping[str, Any]) -> float:
    """The rows a scan read in all its loops: those it returned and those its filter removed."""
    loops = max(_number(node, "Actual Loops"), 1.0)
    return (_number(node, "Actual Rows") + _number(node, "Rows Removed by Filter")) * loops


def _hit(rule: str, path: str, node: Mapping[str, Any], message: str, fix: str) -> PlanHit:
    return PlanHit(
        rule=f"queryplans.{rule}",
        node=path,
        node_type=str(node.get("Node Type", "")),
        relation=str(node.get("Relation Name", "")),
        message=message,
        fix=fix,
    )


def _seq_scan_selective(path, node, parent, limits, indexed) -> PlanHit | None:
    """A sequential scan of a large table under a filter that keeps few of its rows."""
    if node.get("Node Type") != "Seq Scan" or not node.get("Filter"):
        return None
    read = _rows_read(node)
    kept = _number(node, "Actual Rows") * max(_number(node, "Actual Loops"), 1.0)
    if read < limits.large_rows or kept > read * limits.selective:
        return None
    return _hit(
        "seq-scan-selective",
        path,
        node,
        f"reads all {read:,.0f} rows of {node.get('Relation Name', '?')} to keep {kept:,.0f} "
        f"({kept / read:.1%}) under `{node['Filter']}`: the cost grows with the table, not the answer",
        "Index the filtered columns (the most selective first), or a partial index for a rare value.",
    )


def _sort_for_limit(path, node, parent, limits, indexed) -> PlanHit | None:
    """A LIMIT fed by a sort: every row is read and sorted to return the first few."""
    if node.get("Node Type") != "Limit":
        return None
    child = _only_child(node)
    while child is not None and child.get("Node Type") in {"Gather Merge", "Gather"}:
        child = _only_child(child)
    if child is None or child.get("Node Type") != "Sort":
        return None
    # A sort under a LIMIT reports the rows it handed on: the rows it sorted are its input's.
    source = _only_child(child)
    sorted_rows = (
        (_number(source, "Actual Rows") * max(_number(source, "Actual Loops"), 1.0) or _number(source, "Plan Rows"))
        if source is not None
        else _number(child, "Actual Rows") or _number(child, "Plan Rows")
    )
    returned = _number(node, "Actual Rows") or _number(node, "Plan Rows")
    if sorted_rows < max(limits.sort_min_rows, 10 * returned):
        return None  # a few rows sorted: the order costs nothing worth an index
    keys = ", ".join(str(k) for k in child.get("Sort Key") or ())
    return _hit(
        "sort-for-limit",
        path,
        node,
        f"sorts {sorted_rows:,.0f} rows by {keys or 'its order'} to return {_number(node, 'Actual Rows'):,.0f}: "
        "no index gives the rows in that order",
        f"Index ({keys}) so that the first rows are read in order and the scan stops at the limit.",
    )


def _nested_loop_large_inner(path, node, parent, limits, indexed) -> PlanHit | None:
    """A nested loop whose inner side reads a large number of rows in all its loops."""
    if node.get("Node Type") != "Nested Loop":
        return None
    inner = next(
        (c for c in node.get("Plans") or () if isinstance(c, Mapping) and c.get("Parent Relationship") == "Inner"),
        None,
    )
    if inner is None or inner.get("Node Type") not in {"Seq Scan", "Materialize"}:
        return None
    scanned = inner if inner.get("Node Type") == "Seq Scan" else (_only_child(inner) or inner)
    read = _rows_read(inner)
    if read < limits.large_rows:
        return None
    return _hit(
        "nested-loop-large-inner",
        path,
        node,
        f"its inner side reads {read:,.0f} rows of {scanned.get('Relation Name', '?')} over "
        f"{_number(inner, 'Actual Loops'):,.0f} loops: each outer row scans it again",
        "Index the inner table's join column so that each loop looks rows up, or let a hash join read it once.",
    )


def _spill(path, node, parent, limits, indexed) -> PlanHit | None:
    """A sort or hash that did not fit in work_mem and wrote to disk."""
    if node.get("Node Type") == "Sort" and node.get("Sort Space Type") == "Disk":
        used = f"{_number(node, 'Sort Space Used'):,.0f} kB on disk"
    elif node.get("Node Type") == "Hash" and _number(node, "Hash Batches") > 1:
        used = f"{_number(node, 'Hash Batches'):,.0f} batches"
    else:
        return None
    return _hit(
        "spill-to-disk",
        path,
        node,
        f"{node['Node Type'].lower()} spilled ({used}): it did not fit in work_mem",
        "Read fewer rows into it (filter or index first), or raise work_mem for this query.",
    )


def _misestimate(path, node, parent, limits, indexed) -> PlanHit | None:
    """Estimated and actual rows far apart: the planner chose this plan for a table that is not there."""
    if "Actual Rows" not in node or node.get("Never Executed"):
        return None
    estimated, actual = _number(node, "Plan Rows"), _number(node, "Actual Rows")
    if max(estimated, actual) < limits.misestimate_min_rows:
        return None
    factor = max(estimated, 1.0) / max(actual, 1.0)
    if max(factor, 1 / factor) < limits.misestimate:
        return None
    direction = "over" if factor > 1 else "under"
    return _hit(
        "misestimate",
        path,
        node,
        f"estimated {estimated:,.0f} rows, found {actual:,.0f} ({max(factor, 1 / factor):,.0f}x {direction}): "
        "plans built on the estimate may be wrong for the real data",
        "ANALYZE the table; for correlated columns, CREATE STATISTICS over them.",
    )


_WRAPPED_COLUMN = re.compile(r"\b([a-z_][a-z0-9_]*)\(\(?([a-z_][a-z0-9_]*)\)?(?:::[a-z ]+)?\)", re.IGNORECASE)


def _function_on_indexed_column(path, node, parent, limits, indexed) -> PlanHit | None:
    """A scan filtering on a function of a column that an index leads with: the index cannot serve it."""
    if node.get("Node Type") not in {"Seq Scan", "Bitmap Heap Scan", "Index Scan"}:
        return None
    table = str(node.get("Relation Name", ""))
    condition = str(node.get("Filter", ""))
    columns = indexed.get(table, frozenset())
    for function, column in _WRAPPED_COLUMN.findall(condition):
        if column in columns and function.lower() not in {"any", "all"}:
            return _hit(
                "function-on-indexed-column",
                path,
                node,
                f"filters on {function}({column}), so the index on {table}.{column} cannot be used",
                f"Index the expression: CREATE INDEX CONCURRENTLY ON {table} ({function}({column})).",
            )
    return None


def _deep_offset(path, node, parent, limits, indexed) -> PlanHit | None:
    """A LIMIT that reads and throws away many rows first (OFFSET pagination)."""
    if node.get("Node Type") != "Limit":
        return None
    child = _only_child(node)
    if child is None:
        return None
    read, returned = _number(child, "Actual Rows"), _number(node, "Actual Rows")
    if read - returned < limits.deep_offset:
        return None
    return _hit(
        "deep-offset",
        path,
        node,
        f"reads {read:,.0f} rows to return {returned:,.0f}: each later page reads every page before it",
        "Page by key (WHERE (created_at, id) < (:last_created_at, :last_id) ORDER BY ... LIMIT n).",
    )


def _count_large(path, node, parent, limits, indexed) -> PlanHit | None:
    """An aggregate without groups over a large scan: a page total counted row by row."""
    if node.get("Node Type") != "Aggregate" or node.get("Group Key") or node.get("Strategy") not in {None, "Plain"}:
        return None
    child = _only_child(node)
    while child is not None and child.get("Node Type") in {"Gather", "Aggregate"}:
        child = _only_child(child)
    if child is None or "Scan" not in str(child.get("Node Type", "")):
        return None
    loops = max(_number(child, "Actual Loops"), 1.0)
    read = _number(child, "Actual Rows") * loops
    if read < limits.large_rows:
        return None
    return _hit(
        "count-large",
        path,
        node,
        f"aggregates {read:,.0f} rows of {child.get('Relation Name', '?')} for one figure: a total counted on every request",
        "Show 'more' instead of a total, keep a counter, or use the planner's estimate for large totals.",
    )


def _filter_discards_index_rows(path, node, parent, limits, indexed) -> PlanHit | None:
    """An index scan whose filter discards most of the rows the index found."""
    if node.get("Node Type") not in {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}:
        return None
    loops = max(_number(node, "Actual Loops"), 1.0)
    kept = _number(node, "Actual Rows") * loops
    removed = (_number(node, "Rows Removed by Filter") + _number(node, "Rows Removed by Index Recheck")) * loops
    if removed < limits.discarded_min_rows or removed < max(kept, 1.0) * limits.discarded:
        return None
    return _hit(
        "filter-discards-index-rows",
        path,
        node,
        f"the index {node.get('Index Name', '')} finds {kept + removed:,.0f} rows and the filter "
        f"`{node.get('Filter') or node.get('Recheck Cond')}` throws away {removed:,.0f} of them",
        "Put the filtered column into the index (after the equality columns), or a partial index on the filter.",
    )


def _only_child(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    children = [c for c in node.get("Plans") or () if isinstance(c, Mapping)]
    return children[0] if len(children) == 1 else None


_RULES = (
    _seq_scan_selective,
    _sort_for_limit,
    _nested_loop_large_inner,
    _spill,
    _misestimate,
    _function_on_indexed_column,
    _deep_offset,
    _count_large,
    _filter_discards_index_rows,
)
