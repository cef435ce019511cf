"""Small charts drawn as SVG text on the server (no script, no inline style: the page's CSP
allows neither; presentation attributes and classes carry the look)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

# The bar colours per severity; the page's stylesheet may restyle them through the classes.
SEVERITY_FILL = {
    "critical": "#7a271a",
    "high": "#b42318",
    "medium": "#b54708",
    "low": "#175cd3",
    "info": "#667085",
}


def severity_chart(counts: Sequence[tuple[str, int]], *, element_id: str = "severity-chart") -> str:
    """A horizontal bar chart of `(severity, count)` pairs, in the order given: one bar per
    severity, its length proportional to the largest count, the count written beside it.
    Output: an `<svg>` element with an accessible title and one `<title>` per bar."""
    label_width, bar_width, row, top = 70, 260, 22, 4
    largest = max((n for _, n in counts), default=0)
    height = top * 2 + row * len(counts)
    width = label_width + bar_width + 70
    total = sum(n for _, n in counts)
    summary = ", ".join(f"{n} {s}" for s, n in counts) or "no findings"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(element_id, quote=True)}" class="chart severity-chart" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{escape(element_id, quote=True)}-title">',
        f'<title id="{escape(element_id, quote=True)}-title">Findings by severity ({total} in all): {escape(summary)}</title>',
    ]
    for i, (severity, n) in enumerate(counts):
        y = top + i * row
        length = round(bar_width * n / largest) if largest else 0
        css = escape(severity, quote=True)
        parts.append(
            f'<g class="bar sev-{css}"><title>{escape(severity)}: {n}</title>'
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12" class="bar-label">{escape(severity)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{max(length, 1 if n else 0)}" height="{row - 6}" rx="2" '
            f'class="bar-fill" fill="{SEVERITY_FILL.get(severity, "#667085")}"/>'
            f'<text x="{label_width + length + 6}" y="{y + 15}" font-size="12" class="bar-count">{n}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
