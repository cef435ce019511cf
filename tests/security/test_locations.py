"""On real specifications, every location found by identity (the compiled scan) is the one that
walking the text for the finding's pointer gives: the scanner changes speed, never lines."""

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import input_from_file, parse_design
from apps.designs.engine.structured import JsonLocator
from apps.security.engine.review import analyze_security
from tests.public_specs import SPECS, spec_path

BY_KEY = {spec.key: spec for spec in SPECS}


@pytest.mark.parametrize("key", ["github", "stripe"])  # pretty-printed and minified JSON
def test_finding_and_endpoint_lines_match_the_text_walk(key: str) -> None:
    path = spec_path(BY_KEY[key])
    text = path.read_text(encoding="utf-8")
    result = parse_design(input_from_file(path.name, text), limits=ParseLimits())
    assert result.ok
    findings, _ = analyze_security(result.model)
    walker = JsonLocator(text, document=path.name)  # no data: walks the text for each pointer
    located = [loc for f in findings for loc in f.locations if loc.pointer is not None]
    endpoint_parts = [
        source
        for endpoint in result.model.endpoints
        for source in (
            endpoint.source,
            *(p.source for p in endpoint.parameters),
            *(r.source for r in endpoint.responses),
        )
    ]
    # A spread sample (every rule is represented) rather than all: the text walk is the slow way.
    step = max(1, len(located) // 700)
    sample = located[::step] + endpoint_parts[:: max(1, len(endpoint_parts) // 300)]
    rules = {f.rule_id for f in findings}
    assert len(sample) > 500 and len(rules) >= 8
    for source in sample:
        assert source.pointer is not None
        expected = walker.ref(source.pointer)
        assert (source.line, source.column) == (expected.line, expected.column), source.pointer


def test_every_finding_is_fingerprinted_from_its_rule_and_what_it_is_about() -> None:
    """A per-node finding from its rule and pointer; a design-level one from its rule (and, for a
    suppressed part, how it is suppressed): never from a line, so triage carries over revisions."""
    from apps.designs.engine.findings import fingerprint
    from apps.designs.engine.structured import resolve_pointer
    from apps.security.engine.catalog import DESIGN_LEVEL, RULE_BY_ID

    path = spec_path(BY_KEY["stripe"])
    result = parse_design(input_from_file(path.name, path.read_text(encoding="utf-8")), limits=ParseLimits())
    findings, _ = analyze_security(result.model)
    grouped = [f for f in findings if f.rule_id in DESIGN_LEVEL and not f.suppressed]
    # A credential parameter is one finding per (where it is passed, its name), wherever written.
    data = result.model.api_document.data  # type: ignore[union-attr]
    for f in (f for f in findings if f.rule_id == "sec.api2.credentials-in-url"):
        params = [resolve_pointer(data, loc.pointer.rsplit("/", 1)[0]) for loc in f.locations if loc.pointer]
        keys = {f"{p['in']}:{p['name']}" for p in params}
        assert len(keys) == 1
        assert f.fingerprint == fingerprint("security", f.rule_id, keys.pop())
    # Rules reported where they are met, keyed by their pointer.
    per_node = [f for f in findings if f.rule_id in {"sec.api7.url-input", "sec.api3.privileged-field-writable"}]
    assert {"sec.api4.string-limit", "sec.api4.no-429", "sec.api8.error-401"} <= {f.rule_id for f in grouped}
    for f in grouped:
        key = "design" if f.severity == RULE_BY_ID[f.rule_id].severity else f"design:{f.severity}"
        assert f.fingerprint == fingerprint("security", f.rule_id, key)
    assert sum(len(f.locations) for f in grouped) > 5_000
    assert len(per_node) > 3
    for f in per_node:
        assert f.fingerprint == fingerprint("security", f.rule_id, f.locations[0].pointer or "")
    # Reported once each.
    assert len({f.fingerprint for f in findings}) == len(findings)
