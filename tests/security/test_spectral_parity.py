"""Our security rules against Spectral's own OWASP ruleset output on real public documents.

The golden files were made by scripts/spectral_golden.py with the real Spectral CLI and ruleset
from the npm registry; this test compares (rule, JSON pointer) pairs in both directions.
"""

import json
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.structured import unescape_pointer_part
from apps.security.engine.catalog import RULE_BY_ID, SPECTRAL_TO_RULE
from apps.security.engine.review import analyze_security
from tests.conftest import CORPUS, ROOT
from tests.public_specs import PARITY, _tarball, spec_path

GOLDEN = ROOT / "tests" / "fixtures" / "spectral"
RULESET = "@stoplight/spectral-owasp-ruleset@2.0.1"
# Rules of the ruleset that cannot apply to what the workbench reads (OpenAPI 3 only).
NOT_APPLICABLE = {
    "owasp:api8:2023-no-scheme-http": "checks Swagger 2.0 `schemes`; Swagger 2.0 is refused at parse time"
}


def _node(data: Any, ptr: str) -> Any:
    for raw in ptr.split("/")[1:]:
        data = data.get(unescape_pointer_part(raw)) if isinstance(data, Mapping) else None
    return data


def deliberate(rule: str, ptr: str, data: Mapping[str, Any]) -> str | None:
    """Why we report a pair Spectral does not (or the reverse), or None if it is not deliberate."""
    response = _node(data, ptr)
    if rule == "sec.api4.retry-after" and isinstance(response, Mapping) and "headers" not in response:
        return "Spectral selects `responses[429].headers`, so a 429 without any headers (hence without Retry-After) escapes it; we report it"
    return None


def _documents() -> list[tuple[str, str]]:
    documents = [(spec.key, spec_path(spec).read_text(encoding="utf-8")) for spec in PARITY]
    shop = (CORPUS / "shop" / "v1-design.md").read_text()
    documents.append(("shop-v1", shop.split("```openapi\n", 1)[1].split("```", 1)[0]))
    return documents


@pytest.mark.parametrize(("key", "text"), _documents(), ids=[k for k, _ in _documents()])
def test_findings_agree_with_spectral_owasp(key: str, text: str) -> None:
    golden = json.loads((GOLDEN / f"{key}.json").read_text())
    theirs = {(SPECTRAL_TO_RULE[code], ptr) for code, ptr in golden["pairs"]}
    model = parse_design(DesignInput(openapi=text), limits=ParseLimits()).model
    assert model.api_document is not None
    findings, _ = analyze_security(model)
    # Every place of every finding, suppressed ones included: a design-level finding holds all
    # of its places, and a place a rule exempts (a string whose format bounds it) stays among
    # them, suppressed with the reason.
    ours = {(f.rule_id, loc.pointer) for f in findings if RULE_BY_ID[f.rule_id].spectral for loc in f.locations}
    data = model.api_document.data
    missing = sorted(p for p in theirs - ours if not deliberate(*p, data))
    extra = sorted(p for p in ours - theirs if not deliberate(*p, data))
    assert missing == []
    assert extra == []
    assert len(theirs) > 50


def test_every_rule_of_the_ruleset_has_an_equivalent() -> None:
    with tarfile.open(_tarball(RULESET)) as archive:
        member = archive.extractfile("package/src/ruleset.ts")
        assert member is not None
        source = member.read().decode()
    spectral_rules = set(re.findall(r'"(owasp:api\d+:2023-[a-zA-Z0-9-]+)"\s*:', source))
    assert len(spectral_rules) >= 30
    assert spectral_rules - set(NOT_APPLICABLE) == set(SPECTRAL_TO_RULE)


def test_the_docs_table_lists_every_spectral_rule() -> None:
    table = Path(ROOT / "docs" / "security-rules.md").read_text()
    for code, rule in SPECTRAL_TO_RULE.items():
        assert f"| `{code}` | `{rule}` |" in table, code
    for code in NOT_APPLICABLE:
        assert f"| `{code}` | not applicable |" in table
