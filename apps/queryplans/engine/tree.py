"""A PostgreSQL plan as rows to draw: one row per node, depth first, with the figures a reviewer
reads a plan for (time spent in the node itself and under it, its share of the query, estimated
against actual rows, buffers, cost) and whether it lies on the slowest path.

Pure: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`'s element (or its "Plan" node) in, `NodeRow`s out.
A plain `EXPLAIN` (no ANALYZE) gives rows with costs and estimates only: every actual figure is
None, and the slowest path follows the cost instead of the time. `EXPLAIN (ANALYZE, TIMING OFF)`
gives actual rows without times.

How the times are counted (PostgreSQL reports a node's time per loop, including its children's):

- inclusive = Actual Total Time x Actual Loops: everything spent in the node and under it;
- under a Gather or Gather Merge the node runs in several processes at once, each counted as a
  loop, so its loops are divided by those processes (the workers launched, plus the leader when
  the Gather's child ran one loop more than the workers): the figure is wall-clock time, not the
  sum of the processes' times, which would exceed the query's own (a Gather's own InitPlans
  run once, in the leader, and are not divided);
- exclusive = inclusive minus the inclusive times of the children whose time PostgreSQL counts
  inside the node: its outer and inner children, its SubPlans (evaluated in its expressions) and
  its InitPlans (evaluated on first use of their parameter, inside the node). A CTE's InitPlan is
  the exception: its rows are produced on demand by the CTE Scans that read it, so its time is
  inside those scans; it is taken out of them in plan order (as much as each scan's own time
  holds) and only what is left out of the node holding the InitPlan. Never below 0: timing
  rounding and nested loops' startup can make children's sums exceed the parent's by a little;
- a node's share is its exclusive time over the root's inclusive time, so the shares of a plan
  add up to 100 % (a little more where a node was clamped at 0).

Costs follow the same subtraction (exclusive cost = Total Cost minus the children's total
costs, never below 0), an approximation: a nested loop's cost counts its inner side's rescans.
Buffers as PostgreSQL reports them are inclusive; the exclusive ones subtract the children's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BUFFER_KEYS: tuple[tuple[str, str], ...] = (
    ("shared_hit", "Shared Hit Blocks"),
    ("shared_read", "Shared Read Blocks"),
    ("shared_dirtied", "Shared Dirtied Blocks"),
    ("shared_written", "Shared Written Blocks"),
    ("local_hit", "Local Hit Blocks"),
    ("local_read", "Local Read Blocks"),
    ("temp_read", "Temp Read Blocks"),
    ("temp_written", "Temp Written Blocks"),
)

# The details a node may carry, in the order they are shown, with their label.
_DETAIL_KEYS: tuple[tuple[str, str], ...] = (
    ("Index Cond", "Index cond"),
    ("Recheck Cond", "Recheck cond"),
    ("Rows Removed by Index Recheck", "Rows removed by index recheck"),
    ("Hash Cond", "Hash cond"),
    ("Merge Cond", "Merge cond"),
    ("Join Filter", "Join filter"),
    ("Rows Removed by Join Filter", "Rows removed by join filter"),
    ("Filter", "Filter"),
    ("Rows Removed by Filter", "Rows removed by filter"),
    ("One-Time Filter", "One-time filter"),
    ("Sort Key", "Sort key"),
    ("Presorted Key", "Presorted key"),
    ("Group Key", "Group key"),
    ("Cache Key", "Cache key"),
    ("Cache Hits", "Cache hits"),
    ("Cache Misses", "Cache misses"),
    ("Cache Evictions", "Cache evictions"),
    ("Heap Fetches", "Heap fetches"),
    ("I/O Read Time", "I/O read time (ms)"),
    ("I/O Write Time", "I/O write time (ms)"),
    ("Shared I/O Read Time", "Shared I/O read time (ms)"),
    ("Shared I/O Write Time", "Shared I/O write time (ms)"),
    ("Local I/O Read Time", "Local I/O read time (ms)"),
    ("Local I/O Write Time", "Local I/O write time (ms)"),
    ("Temp I/O Read Time", "Temp I/O read time (ms)"),
    ("Temp I/O Write Time", "Temp I/O write time (ms)"),
    ("Actual Startup Time", "First row after (ms, per loop)"),
    ("Exact Heap Blocks", "Exact heap blocks"),
    ("Lossy Heap Blocks", "Lossy heap blocks"),
    ("Hash Buckets", "Hash buckets"),
    ("Original Hash Buckets", "Original hash buckets"),
    ("Hash Batches", "Hash batches"),
    ("Original Hash Batches", "Original hash batches"),
    ("Peak Memory Usage", "Peak memory (kB)"),
    ("HashAgg Batches", "HashAgg batches"),
    ("Disk Usage", "Disk usage (kB)"),
    ("Planned Partitions", "Planned partitions"),
    ("Workers Planned", "Workers planned"),
    ("Workers Launched", "Workers launched"),
    ("Scan Direction", "Scan direction"),
    ("Subplan Name", "Subplan"),
    ("CTE Name", "CTE"),
    ("Function Name", "Function"),
    ("Partial Mode", "Partial mode"),
    ("Output", "Output"),
)

_AGGREGATE_NAMES = {"Hashed": "HashAggregate", "Sorted": "GroupAggregate", "Mixed": "MixedAggregate"}
_SETOP_NAMES = {"Hashed": "HashSetOp"}
_GATHERS = {"Gather", "Gather Merge"}


@dataclass(frozen=True)
class Buffers:
    """Blocks of 8 kB: found in shared buffers (hit), read from disk or the OS cache, dirtied,
    written; local ones (temporary tables) and temp files (sorts and hashes that spilled)."""

    shared_hit: int = 0
    shared_read: int = 0
    shared_dirtied: int = 0
    shared_written: int = 0
    local_hit: int = 0
    local_read: int = 0
    temp_read: int = 0
    temp_written: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name, _ in BUFFER_KEYS)

    def minus(self, other: Buffers) -> Buffers:
        return Buffers(**{name: max(0, getattr(self, name) - getattr(other, name)) for name, _ in BUFFER_KEYS})

    def plus(self, other: Buffers) -> Buffers:
        return Buffers(**{name: getattr(self, name) + getattr(other, name) for name, _ in BUFFER_KEYS})


@dataclass(frozen=True)
class NodeRow:
    path: str  # "0" the root, "0.1" its second child, as the plan rules name nodes
    depth: int
    node_type: str
    label: str  # as EXPLAIN's text prints the node, plus its sort or group key
    relationship: str  # Outer, Inner, InitPlan, SubPlan, ... ("" for the root); with its subplan name
    relation: str  # the table it reads ("" when none)
    startup_cost: float
    total_cost: float
    exclusive_cost: float
    cost_share: float  # exclusive cost over the root's total cost, 0..1
    plan_rows: float  # the planner's estimate, per loop
    analyzed: bool  # the plan has actual figures (EXPLAIN ANALYZE)
    timed: bool  # ... and times (not TIMING OFF)
    executed: bool  # ran at least once (a node of a branch never taken did not)
    loops: float | None
    processes: int  # 1, or the processes running it at once under a Gather
    actual_rows: float | None  # per loop, as EXPLAIN reports
    actual_rows_total: float | None  # x loops
    misestimate: float | None  # how many times apart estimate and actual are (>= 1)
    misestimate_direction: str  # "under" (more rows than estimated), "over", or ""
    inclusive_ms: float | None
    exclusive_ms: float | None
    share: float | None  # exclusive time over the query's (the root's inclusive), 0..1
    inclusive_share: float | None
    buffers: Buffers | None  # inclusive, as PostgreSQL reports them
    exclusive_buffers: Buffers | None
    details: tuple[tuple[str, str], ...]
    workers: tuple[str, ...]  # one line per worker PostgreSQL reported on (sorts in workers)
    on_slowest_path: bool
    children: tuple[str, ...]  # the paths of its children


def plan_rows(plan: Mapping[str, Any]) -> list[NodeRow]:
    """The nodes of `plan` (an EXPLAIN JSON element with "Plan", or the "Plan" node itself),
    depth first, children in PostgreSQL's order. Iterative: no plan is too deep. Anything that
    is not a node (a malformed child) is skipped."""
    root = plan.get("Plan") if isinstance(plan.get("Plan"), Mapping) else plan
    if not isinstance(root, Mapping):
        return []
    nodes: list[tuple[str, int, Mapping[str, Any], int, str | None]] = []
    stack: list[tuple[str, int, Mapping[str, Any], int, str | None]] = [("0", 0, root, 1, None)]
    while stack:
        path, depth, node, processes, parent = stack.pop()
        nodes.append((path, depth, node, processes, parent))
        children = _children(node)
        inner_processes = _processes(node, children) if node.get("Node Type") in _GATHERS else processes
        for index in range(len(children) - 1, -1, -1):
            child = children[index]
            if child is not None:
                # A Gather's InitPlans run in the leader alone, before the workers start.
                runs_in = processes if _is_subplan(child) else inner_processes
                stack.append((f"{path}.{index}", depth + 1, child, runs_in, path))
    analyzed = "Actual Loops" in root
    timed = analyzed and "Actual Total Time" in root

    inclusive: dict[str, float] = {}
    for path, _, node, processes, _ in nodes:
        if timed:
            loops = _number(node, "Actual Loops")
            inclusive[path] = _number(node, "Actual Total Time") * loops / max(processes, 1)

    by_path = {path: node for path, _, node, _, _ in nodes}
    child_paths: dict[str, list[str]] = {path: [] for path in by_path}
    for path, _, _, _, parent in nodes:
        if parent is not None:
            child_paths[parent].append(path)
    # The time each node's own work leaves out: its children's, with CTEs moved to their scans.
    subtract: dict[str, float] = dict.fromkeys(by_path, 0.0)
    if timed:
        scans_of_cte: dict[str, list[str]] = {}
        for path, _, node, _, _ in nodes:
            if node.get("Node Type") == "CTE Scan" and node.get("CTE Name"):
                scans_of_cte.setdefault(str(node["CTE Name"]), []).append(path)
        for path, _, node, _, parent in nodes:
            if parent is None:
                continue
            cte = _cte_name(node)
            left = inclusive[path]
            if cte is not None:
                for scan in scans_of_cte.get(cte, []):
                    room = max(0.0, inclusive[scan] - subtract[scan])
                    taken = min(room, left)
                    subtract[scan] += taken
                    left -= taken
                    if left <= 0:
                        break
            subtract[parent] += left

    root_ms = inclusive.get("0") if timed else None
    root_cost = _number(root, "Total Cost")
    slowest = _slowest_path(
        child_paths, inclusive if timed else {p: _number(n, "Total Cost") for p, n in by_path.items()}
    )

    rows: list[NodeRow] = []
    for path, depth, node, processes, _ in nodes:
        kids = child_paths[path]
        loops = _number(node, "Actual Loops") if analyzed else None
        executed = not analyzed or bool(loops)
        actual = _number(node, "Actual Rows") if analyzed else None
        plan_estimate = _number(node, "Plan Rows")
        factor, direction = _misestimate(plan_estimate, actual) if analyzed and executed else (None, "")
        inc = inclusive.get(path)
        exc = max(0.0, inc - subtract[path]) if inc is not None else None
        buffers = _buffers(node) if _has_buffers(node) else None
        child_buffers = Buffers()
        for kid in kids:
            if _has_buffers(by_path[kid]):
                child_buffers = child_buffers.plus(_buffers(by_path[kid]))
        total_cost = _number(node, "Total Cost")
        exclusive_cost = max(0.0, total_cost - sum(_number(by_path[kid], "Total Cost") for kid in kids))
        rows.append(
            NodeRow(
                path=path,
                depth=depth,
                node_type=str(node.get("Node Type", "?")),
                label=node_label(node),
                relationship=_relationship(node),
                relation=str(node.get("Relation Name") or ""),
                startup_cost=_number(node, "Startup Cost"),
                total_cost=total_cost,
                exclusive_cost=exclusive_cost,
                cost_share=exclusive_cost / root_cost if root_cost > 0 else 0.0,
                plan_rows=plan_estimate,
                analyzed=analyzed,
                timed=timed,
                executed=executed,
                loops=loops,
                processes=processes,
                actual_rows=actual,
                actual_rows_total=actual * loops if actual is not None and loops is not None else None,
                misestimate=factor,
                misestimate_direction=direction,
                inclusive_ms=inc,
                exclusive_ms=exc,
                share=exc / root_ms if exc is not None and root_ms else (0.0 if exc is not None else None),
                inclusive_share=inc / root_ms if inc is not None and root_ms else (0.0 if inc is not None else None),
                buffers=buffers,
                exclusive_buffers=buffers.minus(child_buffers) if buffers is not None else None,
                details=_details(node),
                workers=_workers(node),
                on_slowest_path=path in slowest,
                children=tuple(kids),
            )
        )
    return rows


def node_label(node: Mapping[str, Any]) -> str:
    """The node as EXPLAIN's text format heads it ("Index Scan Backward using idx on orders o",
    "Hash Left Join", "HashAggregate", "Parallel Seq Scan on orders"), followed by its sort or
    group key."""
    kind = str(node.get("Node Type", "?"))
    strategy = node.get("Strategy")
    if kind == "Aggregate" and strategy in _AGGREGATE_NAMES:
        kind = _AGGREGATE_NAMES[str(strategy)]
    elif kind == "SetOp" and strategy in _SETOP_NAMES:
        kind = _SETOP_NAMES[str(strategy)]
    elif kind == "ModifyTable" and node.get("Operation"):
        kind = str(node["Operation"])
    join = node.get("Join Type")
    if join and join != "Inner" and kind in {"Nested Loop", "Hash Join", "Merge Join"}:
        kind = f"{kind.removesuffix(' Join')} {join} Join" if kind != "Nested Loop" else f"Nested Loop {join} Join"
    if node.get("Parallel Aware"):
        kind = f"Parallel {kind}"
    if node.get("Async Capable") and kind in {"Foreign Scan", "Append"}:
        kind = f"Async {kind}"
    if node.get("Scan Direction") == "Backward":
        kind = f"{kind} Backward"
    parts = [kind]
    if node.get("Index Name"):
        # A bitmap index scan names only its index, "on" it, as EXPLAIN's text does.
        parts.append(f"{'on' if node.get('Node Type') == 'Bitmap Index Scan' else 'using'} {node['Index Name']}")
    target = (
        node.get("Relation Name")
        or node.get("CTE Name")
        or node.get("Function Name")
        or node.get("Table Function Name")
    )
    alias = node.get("Alias")
    if target:
        parts.append(f"on {target}" + (f" {alias}" if alias and alias != target else ""))
    elif alias:
        parts.append(f"on {alias}")
    label = " ".join(parts)
    keys = node.get("Sort Key") or node.get("Group Key")
    if isinstance(keys, list) and keys:
        label += f" by {', '.join(str(k) for k in keys)}"
    return label


@dataclass(frozen=True)
class Breakdown:
    """Where a plan's own time (or, without times, its own cost) went, summed by a key."""

    key: str  # a table, or a node type
    nodes: int
    exclusive_ms: float | None
    share: float | None  # of the query's time
    exclusive_cost: float


@dataclass(frozen=True)
class PlanSummary:
    planning_ms: float | None
    execution_ms: float | None
    triggers: tuple[str, ...]  # "name on relation: calls, ms"
    jit_ms: float | None  # JIT compilation's total, counted in the execution time
    jit_functions: int


def plan_breakdown(rows: Sequence[NodeRow], *, by: str) -> list[Breakdown]:
    """The rows' own time and cost summed `by` "relation" (nodes reading no table are left out)
    or "node_type", the largest first (by time, or by cost for a plan without times)."""
    groups: dict[str, list[NodeRow]] = {}
    for row in rows:
        key = row.relation if by == "relation" else row.node_type
        if key:
            groups.setdefault(key, []).append(row)
    found = [
        Breakdown(
            key=key,
            nodes=len(members),
            exclusive_ms=sum(r.exclusive_ms or 0.0 for r in members) if members[0].timed else None,
            share=sum(r.share or 0.0 for r in members) if members[0].timed else None,
            exclusive_cost=sum(r.exclusive_cost for r in members),
        )
        for key, members in groups.items()
    ]
    return sorted(found, key=lambda b: (-(b.exclusive_ms or 0.0), -b.exclusive_cost, b.key))


def plan_summary(element: Mapping[str, Any]) -> PlanSummary:
    """The figures of an EXPLAIN element beside its plan: planning and execution time, the
    triggers that fired (their time is in the execution time, not in any node) and JIT."""
    triggers = []
    for trigger in element.get("Triggers") or ():
        if isinstance(trigger, Mapping):
            where = f" on {trigger['Relation']}" if trigger.get("Relation") else ""
            triggers.append(
                f"{trigger.get('Trigger Name', '?')}{where}: {_text(trigger.get('Calls', '?'))} calls, "
                f"{_number(trigger, 'Time'):.3f} ms"
            )
    jit = element.get("JIT") if isinstance(element.get("JIT"), Mapping) else None
    timing = jit.get("Timing") if jit is not None and isinstance(jit.get("Timing"), Mapping) else None
    total = timing.get("Total") if timing is not None else None
    return PlanSummary(
        planning_ms=_optional(element, "Planning Time"),
        execution_ms=_optional(element, "Execution Time"),
        triggers=tuple(triggers),
        jit_ms=float(total) if isinstance(total, int | float) else None,
        jit_functions=int(_number(jit, "Functions")) if jit is not None else 0,
    )


def slowest_path(rows: Sequence[NodeRow]) -> list[NodeRow]:
    """The rows on the slowest path, root first."""
    return [row for row in rows if row.on_slowest_path]


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any] | None]:
    plans = node.get("Plans")
    if not isinstance(plans, list):
        return []
    return [child if isinstance(child, Mapping) else None for child in plans]


def _processes(gather: Mapping[str, Any], children: list[Mapping[str, Any] | None]) -> int:
    """The processes running a Gather's child at once: its workers, plus the leader when the
    child ran one loop more than the workers (the leader joins in unless told not to)."""
    launched = int(_number(gather, "Workers Launched"))
    first = next((c for c in children if c is not None and not _is_subplan(c)), None)
    loops = int(_number(first, "Actual Loops")) if first is not None else 0
    if "Workers Launched" not in gather:  # plain EXPLAIN: nothing ran
        return 1
    return max(1, launched + 1 if loops > launched else launched)


def _is_subplan(node: Mapping[str, Any]) -> bool:
    return node.get("Parent Relationship") in {"InitPlan", "SubPlan"}


def _cte_name(node: Mapping[str, Any]) -> str | None:
    name = node.get("Subplan Name")
    if node.get("Parent Relationship") == "InitPlan" and isinstance(name, str) and name.startswith("CTE "):
        return name.removeprefix("CTE ")
    return None


def _slowest_path(children: Mapping[str, list[str]], weight: Mapping[str, float]) -> set[str]:
    """From the root, the child with the largest weight (time, or cost without times), down."""
    path = "0"
    found = {path}
    while children.get(path):
        path = max(children[path], key=lambda kid: weight.get(kid, 0.0))
        found.add(path)
    return found


def _misestimate(estimate: float, actual: float | None) -> tuple[float | None, str]:
    """How many times apart the planner's rows and the actual rows (per loop) are, and which way:
    "under" when the planner expected fewer rows than came, "over" when more. Zero counts as one
    row (PostgreSQL never estimates fewer than one)."""
    if actual is None:
        return None, ""
    low, high = sorted((max(estimate, 1.0), max(actual, 1.0)))
    factor = high / low
    if factor == 1.0:
        return 1.0, ""
    return factor, "under" if actual > estimate else "over"


def _relationship(node: Mapping[str, Any]) -> str:
    relationship = str(node.get("Parent Relationship") or "")
    name = node.get("Subplan Name")
    return f"{relationship} ({name})" if name else relationship


def _has_buffers(node: Mapping[str, Any]) -> bool:
    return "Shared Hit Blocks" in node


def _buffers(node: Mapping[str, Any]) -> Buffers:
    return Buffers(**{name: int(_number(node, key)) for name, key in BUFFER_KEYS})


def _details(node: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for key, label in _DETAIL_KEYS:
        value = node.get(key)
        if value is None or value == "" or value == []:
            continue
        found.append((label, _text(value)))
    if node.get("Sort Method"):
        space = node.get("Sort Space Used")
        where = node.get("Sort Space Type", "")
        found.append(
            ("Sort method", f"{node['Sort Method']}" + (f", {space} kB {where}".rstrip() if space is not None else ""))
        )
    return tuple(found)


def _workers(node: Mapping[str, Any]) -> tuple[str, ...]:
    workers = node.get("Workers")
    if not isinstance(workers, list):
        return ()
    lines = []
    for worker in workers:
        if not isinstance(worker, Mapping):
            continue
        parts = [f"{key}: {_text(value)}" for key, value in worker.items() if key != "Worker Number"]
        lines.append(f"worker {worker.get('Worker Number', '?')}: " + "; ".join(parts))
    return tuple(lines)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _optional(node: Mapping[str, Any], key: str) -> float | None:
    return _number(node, key) if key in node else None


def _number(node: Mapping[str, Any] | None, key: str) -> float:
    value = node.get(key) if node is not None else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
