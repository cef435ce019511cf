"""Real public OpenAPI documents of different styles, taken from npm packages at set-up."""

import json

import pytest
import yaml

from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.openapi import HTTP_METHODS
from apps.designs.engine.text import LineIndex
from tests.public_specs import SPECS, SWAGGER_2, PublicSpec, spec_path


def _operations(data: dict) -> int:
    """An independent count: every (path, method) pair under `paths`."""
    return sum(1 for item in data.get("paths", {}).values() for method in item if method in HTTP_METHODS)


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_a_public_spec_is_ingested_whole(spec: PublicSpec) -> None:
    path = spec_path(spec)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if spec.style == "json" else yaml.load(text, Loader=yaml.CSafeLoader)
    result = parse_design(
        DesignInput(openapi=text, field_names=(("openapi", path.name),)),
        limits=ParseLimits(),
    )
    assert result.ok, result.fatal
    assert result.model.api is not None
    assert result.model.api.openapi_version.startswith(spec.openapi)
    assert len(result.model.endpoints) == _operations(data)
    assert not [p for p in result.problems if p.code == "openapi.broken-ref"]
    # Every endpoint's SourceRef lands on its method key in the text.
    index = LineIndex(text)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"] if spec.style == "yaml" else None
    for endpoint in result.model.endpoints[:: max(1, len(result.model.endpoints) // 25)]:
        line, column = endpoint.source.line, endpoint.source.column
        assert line is not None and column is not None
        if spec.style == "json":
            offset = (
                next(o for o in range(len(text)) if index.position(o) == (line, 1)) + column - 1
                if line > 1
                else column - 1
            )
            assert text[offset:].startswith(f'"{endpoint.method.lower()}"')
        else:
            assert starts is not None
            assert text[starts[line - 1] + column - 1 :].startswith(endpoint.method.lower())


def test_github_is_over_5_mb() -> None:
    assert spec_path(SPECS[0]).stat().st_size > 5 * 1024 * 1024


def test_a_real_swagger_2_document_is_refused_with_advice() -> None:
    text = spec_path(SWAGGER_2).read_text(encoding="utf-8")
    result = parse_design(DesignInput(openapi=text), limits=ParseLimits())
    assert [p.code for p in result.fatal] == ["openapi.swagger-2"]
