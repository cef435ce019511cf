"""JSON exports are written fast and the same as the standard library would write them."""

import json

from apps.analysis.engine.pipeline import analyze
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput
from apps.reports.engine.report import build_report, render_sarif
from apps.reports.services import indented_json, indented_json_bytes


def test_an_exported_report_is_what_json_dumps_writes(shop_v1: str) -> None:
    outcome = analyze(DesignInput(document=shop_v1), limits=ParseLimits())
    report = build_report(outcome, generated_at="2026-12-01T00:00:00+00:00", tool_version="1")
    for data in (report, render_sarif(report)):
        assert indented_json(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_text_of_every_kind_is_escaped_as_json_escapes_it() -> None:
    data = {"text": 'é \u2028 \x1f \x7f \\ " / \t ﬁ 名前 😀', "nested": [[], {}, None, True, 1.5, -3], "1": "key"}
    assert indented_json(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_what_orjson_refuses_is_written_by_json() -> None:
    for data in ({"big": 2**70}, {1: "not a string key"}):
        assert indented_json(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_exported_bytes_are_the_text_in_utf8() -> None:
    for data in ({"text": "é 名前 😀", "n": [1.5, -3, None]}, {"big": 2**70}, {1: "not a string key"}):
        assert indented_json_bytes(data) == indented_json(data).encode()
