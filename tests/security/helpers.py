import json
from typing import Any

from apps.designs.engine.findings import Finding
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.security.engine.review import analyze_security


def spec(paths: dict[str, Any], **extra: Any) -> str:
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1", "x-internal": False, "description": "Production"}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
    for key, value in extra.items():
        if key == "components":
            document["components"].update(value)
        else:
            document[key] = value
    return json.dumps(document, indent=1)


def review(openapi: str = "", *, document: str = "") -> tuple[list[Finding], dict[str, Any]]:
    result = parse_design(DesignInput(openapi=openapi, document=document, document_name="d.md"), limits=ParseLimits())
    assert result.ok, result.fatal
    return analyze_security(result.model)


def rules(openapi: str = "", *, document: str = "") -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for finding in review(openapi, document=document)[0]:
        found.setdefault(finding.rule_id, []).append(finding)
    return found


def op(**fields: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok"}}, **fields}
