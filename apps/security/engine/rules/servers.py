"""Rules on the security schemes (API2) and on the servers and versions the document lists (API8,
API9)."""

from __future__ import annotations

import re

from apps.designs.engine.model import ApiDocument
from apps.designs.engine.structured import pointer
from apps.security.engine.reporter import Review
from apps.security.engine.rules.common import deref

_ENVIRONMENT = re.compile(
    r"(local|sandbox|alpha|beta|test|testing|stag|staging|prod|production|next|preprod|preproduction)", re.IGNORECASE
)
_NON_PRODUCTION_HOST = re.compile(
    r"(^|[./-])(staging|stage|stg|dev|develop|test|testing|qa|uat|sandbox|internal|local|localhost)([./-]|$)|127\.0\.0\.1|0\.0\.0\.0",
    re.IGNORECASE,
)
_VERSION = re.compile(r"/v\d+(\b|/|$)|/\d{4}-\d{2}-\d{2}", re.IGNORECASE)


def scheme_rules(review: Review, *, doc: ApiDocument) -> None:
    components = doc.data.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, dict) else None
    if not isinstance(schemes, dict) or not schemes:
        if review.model.endpoints:
            review.add(
                "sec.api2.no-security-scheme",
                "/components" if isinstance(components, dict) else "",
                "No securitySchemes are declared.",
            )
        return
    for name, raw in schemes.items():
        scheme, at = deref(doc, raw, pointer("components", "securitySchemes", name))
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        value = scheme.get("scheme")
        if isinstance(value, str) and "basic" in value:
            review.add("sec.api2.http-basic", at + "/scheme", f"Scheme `{name}` is HTTP Basic.")
        if kind == "http" and isinstance(value, str) and re.fullmatch("negotiate|oauth", value):
            review.add("sec.api2.insecure-scheme", at + "/scheme", f"Scheme `{name}` uses `{value}`.")
        if kind == "apiKey" and scheme.get("in") in {"path", "query"}:
            review.add("sec.api2.api-key-in-url", at + "/in", f"Scheme `{name}` takes the key in the {scheme['in']}.")
        if kind == "oauth2" or str(scheme.get("bearerFormat", "")) in {"jwt", "JWT"}:
            description = scheme.get("description")
            if not description:
                review.add("sec.api2.jwt-best-practices", at, f"Scheme `{name}` has no description stating RFC 8725.")
            elif "RFC8725" not in str(description):
                review.add(
                    "sec.api2.jwt-best-practices",
                    at + "/description",
                    f"The description of `{name}` does not mention RFC8725.",
                )
        flows = scheme.get("flows") if kind == "oauth2" else None
        if isinstance(flows, dict):
            for flow_name, flow in flows.items():
                flow_at = f"{at}/flows/{flow_name}"
                if isinstance(flow, dict) and not flow.get("refreshUrl"):
                    review.add(
                        "sec.api2.long-lived-tokens", flow_at, f"Flow `{flow_name}` of `{name}` has no refreshUrl."
                    )
                if flow_name in {"implicit", "password"}:
                    review.add("sec.api2.weak-oauth-flow", flow_at, f"Scheme `{name}` offers the {flow_name} flow.")


def server_rules(review: Review, *, doc: ApiDocument) -> None:
    servers = doc.data.get("servers")
    if not isinstance(servers, list):
        servers = []
    urls = []
    for index, server in enumerate(servers):
        if not isinstance(server, dict):
            continue
        at = f"/servers/{index}"
        url = str(server.get("url", ""))
        urls.append(url)
        if url.startswith("http:"):
            review.add("sec.api8.http-server", at + "/url", f"Server `{url}` is plain HTTP.")
        if "x-internal" not in server:
            review.add("sec.api9.inventory-access", at, f"Server `{url}` does not say whether it is internal.")
        description = server.get("description")
        if description is not None and not _ENVIRONMENT.search(str(description)):
            review.add(
                "sec.api9.inventory-environment",
                at + "/description",
                f"The description of `{url}` names no environment.",
            )
        if _NON_PRODUCTION_HOST.search(url.split("://", 1)[-1].split("/", 1)[0]):
            review.add(
                "sec.api9.non-production-server", at + "/url", f"Server `{url}` looks like a non-production host."
            )
    paths = doc.data.get("paths") if isinstance(doc.data.get("paths"), dict) else {}
    if (
        review.model.endpoints
        and not any(_VERSION.search(u) for u in urls)
        and not all(_VERSION.search(str(p)) for p in paths)
    ):
        review.add(
            "sec.api9.unversioned",
            "/servers" if servers else "/paths",
            "Neither the server URLs nor the paths carry a version.",
        )
