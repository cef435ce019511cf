"""The stylesheet's colours, read from static/css/app.css: severity badges legible (WCAG AA) and
distinct in the light and the dark scheme, and nothing outside the custom properties."""

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "static" / "css" / "app.css").read_text(encoding="utf-8")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", block))


def _root_block(text: str) -> str:
    start = text.index(":root {")
    return text[start : text.index("}", start)]


def _schemes() -> dict[str, dict[str, str]]:
    light = _variables(_root_block(CSS))
    dark_media = CSS[CSS.index("@media (prefers-color-scheme: dark)") :]
    return {"light": light, "dark": {**light, **_variables(_root_block(dark_media))}}


def _luminance(colour: str) -> float:
    value = colour.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_severity_badge_is_legible_and_its_own_colour(scheme: str) -> None:
    colours = _schemes()[scheme]
    for severity in SEVERITIES:
        rule = f".badge.sev-{severity} {{ background: var(--sev-{severity}-bg); color: var(--sev-{severity}-fg); }}"
        assert rule in CSS
        assert f".finding.sev-{severity} {{ border-left-color: var(--sev-{severity}-line); }}" in CSS
        ratio = _contrast(colours[f"--sev-{severity}-fg"], colours[f"--sev-{severity}-bg"])
        assert ratio >= 4.5, f"{scheme} {severity}: {ratio:.2f}"
    for part in ("bg", "line"):
        assert len({colours[f"--sev-{s}-{part}"].lower() for s in SEVERITIES}) == len(SEVERITIES), part


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_and_links_are_legible_on_the_page_and_on_cards(scheme: str) -> None:
    colours = _schemes()[scheme]
    for text in ("--fg", "--muted", "--accent", "--bad", "--ok"):
        for ground in ("--bg", "--surface"):
            assert _contrast(colours[text], colours[ground]) >= 4.5, (scheme, text, ground)
    assert _contrast(colours["--on-accent"], colours["--accent"]) >= 4.5


def test_the_dark_scheme_is_dark() -> None:
    assert _luminance(_schemes()["dark"]["--bg"]) < 0.02
    assert _luminance(_schemes()["light"]["--bg"]) > 0.8


def test_colours_are_set_through_custom_properties_only() -> None:
    """A literal colour outside the :root blocks would not follow the dark scheme."""
    outside = CSS
    for _ in range(2):
        block = _root_block(outside)
        outside = outside.replace(block, "")
    assert re.findall(r"#[0-9a-fA-F]{3,6}\b", outside) == []
