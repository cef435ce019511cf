"""The query plans tab of a run: the scale the sandbox used, then per query its verdict, its
SQL, its parameters and its plan drawn as a tree (time, rows, buffers, cost per node, the slowest
path and the rules' hits on their nodes), the index advice proven by the plans before and after,
and every candidate tried. Everything shown comes from the report's `queryplans` section: the
page reads it, it runs nothing."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.analysis.selectors import run_get
from apps.queryplans.engine.tree import Buffers, NodeRow, plan_breakdown, plan_rows, plan_summary
from workbench.highlight import highlighted

# Indentation steps the stylesheet has classes for (`.plan-node.d0` ... `.d24`); deeper nodes
# stay at the last step and show their depth.
MAX_INDENT = 24
# A misestimate this many times off is marked (the plan rules' own threshold is the same); below
# the other, estimate and actual are as good as equal and no factor is written.
MISESTIMATE_MARK = 10.0
MISESTIMATE_SHOWN = 1.1


@login_required
def plans_tab(request: HttpRequest, run_id: int) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    report = run.report or {}
    context: dict[str, Any] = {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "tab": "queryplans",
        "section": None,
        "analyzer": _analyzer_entry(report),
    }
    section = report.get("queryplans") if run.is_finished else None
    if isinstance(section, Mapping):
        listed = section.get("queries") if isinstance(section.get("queries"), list) else []
        queries = [_query(q, index) for index, q in enumerate((q for q in listed if isinstance(q, Mapping)), start=1)]
        context.update(
            section=section,
            scale=section.get("scale") or [],
            queries=queries,
            counts={
                "measured": sum(1 for q in queries if q["verdict"] in {"measured", "over-budget"}),
                "over_budget": sum(1 for q in queries if q["verdict"] == "over-budget"),
                "refused": sum(1 for q in queries if q["verdict"] == "refused"),
                "failed": sum(1 for q in queries if q["verdict"] == "failed"),
                "advised": len(
                    {a["sql"] for q in queries for a in q["advice"]}
                ),  # each index once, however many queries it serves
            },
        )
    return TemplateResponse(request, "queryplans/tab.html", context)


def _analyzer_entry(report: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The run's stored result of the query plans analyzer (skipped or failed, with why)."""
    for entry in report.get("analyzers") or []:
        if isinstance(entry, Mapping) and entry.get("name") == "queryplans":
            return entry
    return None


def _query(query: Mapping[str, Any], index: int) -> dict[str, Any]:
    status = query.get("status")
    verdict = status if status in {"refused", "failed"} else "over-budget" if query.get("over_budget") else "measured"
    hits = [h for h in query.get("hits") or [] if isinstance(h, Mapping)]
    plan = query.get("plan") if isinstance(query.get("plan"), Mapping) else None
    tree = _tree(plan, hits)
    shown = {node["row"].path for node in tree}
    advice = [
        {
            **a,
            "id": f"q{index}-advice{number}",
            "before": _tree(plan, []),
            "after": _tree(a.get("plan_after") if isinstance(a.get("plan_after"), Mapping) else None, []),
        }
        for number, a in enumerate(query.get("advice") or [], start=1)
        if isinstance(a, Mapping)
    ]
    variants = [
        {**v, "tree": _tree(v.get("plan") if isinstance(v.get("plan"), Mapping) else None, [])}
        for v in query.get("variants") or []
        if isinstance(v, Mapping)
    ]
    return {
        "q": query,
        "id": f"q{index}",
        "verdict": verdict,
        "sql_html": highlighted(str(query.get("sql") or ""), "sql"),
        "plan": plan,
        "summary": _summary(plan) if plan else None,
        "breakdown": _breakdown(tree),
        "tree": tree,
        "stray_hits": [h for h in hits if h.get("node") not in shown],
        "advice": advice,
        "variants": variants,
        "trail": [t for t in query.get("trail") or [] if isinstance(t, Mapping)],
    }


def _tree(plan: Mapping[str, Any] | None, hits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The plan's rows as the template draws them, each with its hits and its figures written."""
    if plan is None:
        return []
    by_node: dict[str, list[Mapping[str, Any]]] = {}
    for hit in hits:
        by_node.setdefault(str(hit.get("node")), []).append(hit)
    rows = plan_rows(plan)
    flags = _flags(rows)
    return [_node(row, by_node.get(row.path, []), flags.get(row.path, [])) for row in rows]


def _flags(rows: Sequence[NodeRow]) -> dict[str, list[str]]:
    """The nodes that stand out: the costliest (own cost), the largest (rows out, all loops) and
    the worst estimate (when it is off by the marked factor); one node each, none in a one-node plan."""
    if len(rows) < 2:
        return {}
    flags: dict[str, list[str]] = {}
    costliest = max(rows, key=lambda r: r.exclusive_cost)
    flags.setdefault(costliest.path, []).append("costliest")
    counted = [r for r in rows if r.actual_rows_total is not None]
    if counted:
        largest = max(counted, key=lambda r: r.actual_rows_total or 0.0)
        flags.setdefault(largest.path, []).append("largest")
    estimated = [r for r in rows if r.misestimate is not None and r.misestimate >= MISESTIMATE_MARK]
    if estimated:
        worst = max(estimated, key=lambda r: r.misestimate or 0.0)
        flags.setdefault(worst.path, []).append("worst estimate")
    return flags


def _node(row: NodeRow, hits: list[Mapping[str, Any]], flags: list[str]) -> dict[str, Any]:
    marked = row.misestimate is not None and row.misestimate >= MISESTIMATE_MARK
    return {
        "row": row,
        "hits": hits,
        "flags": flags,
        "indent": min(row.depth, MAX_INDENT),
        "exclusive": _ms(row.exclusive_ms),
        "inclusive": _ms(row.inclusive_ms),
        # Bars are <meter> elements (no inline width: the CSP forbids inline styles); the value is
        # written here so that no locale puts a comma in it.
        "share_value": f"{(row.share if row.share is not None else row.cost_share):.4f}",
        "share_pct": _percent(row.share if row.share is not None else row.cost_share),
        "share_of": "time" if row.share is not None else "cost",
        "plan_rows": _count(row.plan_rows),
        "actual_rows": _count(row.actual_rows) if row.actual_rows is not None else "",
        "actual_total": _count(row.actual_rows_total) if row.actual_rows_total is not None else "",
        "loops": _count(row.loops) if row.loops is not None else "",
        "misestimate": f"\N{MULTIPLICATION SIGN}{row.misestimate:,.1f}"
        if row.misestimate is not None and row.misestimate >= MISESTIMATE_SHOWN
        else "",
        "misestimate_marked": marked,
        "cost": f"{row.total_cost:,.2f}",
        "exclusive_cost": f"{row.exclusive_cost:,.2f}",
        "startup_cost": f"{row.startup_cost:,.2f}",
        "own_buffers": _buffers(row.exclusive_buffers),
        "buffers": _buffers(row.buffers),
    }


def _summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    summary = plan_summary(plan)
    return {
        "planning": _ms(summary.planning_ms),
        "execution": _ms(summary.execution_ms),
        "triggers": summary.triggers,
        "jit": _ms(summary.jit_ms),
        "jit_functions": summary.jit_functions,
    }


def _breakdown(tree: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """The plan's own time (or cost) by table and by node type, as the template lists them."""
    rows = [node["row"] for node in tree]
    if not rows:
        return {}
    return {
        by: [
            {
                "key": b.key,
                "nodes": str(b.nodes),
                "ms": _ms(b.exclusive_ms),
                "share": _percent(b.share) if b.share is not None else "",
                "share_value": f"{b.share:.4f}" if b.share is not None else "",
                "cost": f"{b.exclusive_cost:,.2f}",
            }
            for b in plan_breakdown(rows, by=by)
        ]
        for by in ("relation", "node_type")
    }


def _buffers(buffers: Buffers | None) -> list[tuple[str, str]]:
    """The non-zero kinds of blocks, labelled as EXPLAIN's text labels them."""
    if buffers is None:
        return []
    labels = (
        ("shared hit", buffers.shared_hit),
        ("read", buffers.shared_read),
        ("dirtied", buffers.shared_dirtied),
        ("written", buffers.shared_written),
        ("local hit", buffers.local_hit),
        ("local read", buffers.local_read),
        ("temp read", buffers.temp_read),
        ("temp written", buffers.temp_written),
    )
    return [(label, f"{count:,}") for label, count in labels if count]


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def _count(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if float(value).is_integer() or value >= 100 else f"{value:,.2f}"
