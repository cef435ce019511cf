from apps.designs.engine.stories import parse_story


def test_it_reads_every_part_of_a_story() -> None:
    body = [
        "As a support agent, I want to search orders by email,",
        "so that I can answer quickly.",
        "",
        "Acceptance criteria:",
        "- Given an email, then I see that customer's orders",
        "  filtered by status.",
        "- Only support may search.",
        "",
        "Performance: p95 < 0.5 s at 20 req/s; p99 < 900 ms.",
        "Volume: 40M orders, 1.5k agents",
        "Endpoints: GET /v1/orders, `POST /v1/orders/{id}/notes`",
        "Queries: support_search",
    ]
    story = parse_story("SUP-7: Agent finds an order", body, document="d.md", heading_line=10, index=1)
    assert (story.id, story.title) == ("SUP-7", "Agent finds an order")
    assert story.role == "support agent"
    assert story.goal == "search orders by email"
    assert story.benefit == "I can answer quickly"
    assert story.acceptance_criteria == (
        "Given an email, then I see that customer's orders filtered by status.",
        "Only support may search.",
    )
    assert [(b.percentile, b.latency_ms, b.throughput_rps) for b in story.budgets] == [
        ("p95", 500.0, 20.0),
        ("p99", 900.0, None),
    ]
    assert [(v.count, v.noun) for v in story.volumes] == [
        (40_000_000, "orders"),
        (1500, "agents"),
    ]
    assert [(e.method, e.path, e.source.line) for e in story.endpoints] == [
        ("GET", "/v1/orders", 21),
        ("POST", "/v1/orders/{id}/notes", 21),
    ]
    assert story.queries == ("support_search",)


def test_a_heading_without_id_gets_a_numbered_one() -> None:
    story = parse_story(
        "Browse the catalogue",
        ["As a shopper, I want to browse."],
        document="d.md",
        heading_line=1,
        index=3,
    )
    assert story.id == "STORY-3"
    assert story.benefit is None
