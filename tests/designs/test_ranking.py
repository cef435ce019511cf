"""The order findings are read in: severity, breadth and the stories that depend on them."""

import dataclasses

from apps.designs.engine.findings import Finding
from apps.designs.engine.limits import ParseLimits
from apps.designs.engine.loader import DesignInput, parse_design
from apps.designs.engine.model import SourceRef
from apps.designs.engine.ranking import mark_changes, priority, rank, top_problems

DESIGN = """# Loans

## Stories

### LIB-1: Borrow a book
As a member, I want to borrow a book, so that I can read it.
Endpoints: POST /loans

## API

```openapi
openapi: 3.0.3
info: {title: Loans, version: "1"}
paths:
  /loans:
    post:
      responses: {"201": {description: ok}}
  /books:
    get:
      responses: {"200": {description: ok}}
  /authors:
    get:
      responses: {"200": {description: ok}}
  /members:
    get:
      responses: {"200": {description: ok}}
```
"""


def _model():  # type: ignore[no-untyped-def]
    result = parse_design(DesignInput(document=DESIGN, document_name="d.md"), limits=ParseLimits())
    assert result.ok, result.fatal
    return result.model


def _finding(rule: str, severity: str, *pointers: str, suppressed: bool = False) -> Finding:
    return Finding(
        analyzer="security",
        rule_id=rule,
        severity=severity,  # type: ignore[arg-type]
        title=rule,
        message=rule,
        fix="",
        locations=tuple(SourceRef("d.md", 1, 1, p) for p in pointers),
        fingerprint=rule,
        suppressed={"source": "spec", "reason": "x"} if suppressed else None,
    )


def test_priority_grows_with_severity_breadth_and_stories() -> None:
    def p(severity: str, breadth: int = 1, story: bool = False) -> int:
        return priority(severity, breadth=breadth, story=story, suppressed=False)

    assert p("high") > p("medium", breadth=10_000, story=True)  # severity leads
    assert p("medium", story=True) > p("medium", breadth=500) > p("medium", breadth=2) > p("medium")
    assert p("medium", breadth=10) == p("medium", breadth=10_000)  # breadth counts up to ten places
    assert p("low", story=True) > p("low", breadth=20_000) > p("info", breadth=20_000, story=True)
    assert priority("critical", breadth=1, story=True, suppressed=True) == 0


def test_a_design_wide_finding_singles_out_no_story() -> None:
    model = _model()
    everywhere = _finding(
        "everywhere", "low", "/paths/~1loans/post", "/paths/~1books/get", "/paths/~1authors/get", "/paths/~1members/get"
    )
    [ranked] = rank([everywhere], model)
    assert ranked.stories == ("LIB-1",)  # named, for the reader
    assert ranked.priority == priority("low", breadth=4, story=False, suppressed=False)


def test_a_finding_a_story_depends_on_outranks_the_same_finding_elsewhere() -> None:
    model = _model()
    books = _finding("books", "medium", "/paths/~1books/get/responses")
    loans = _finding("loans", "medium", "/paths/~1loans/post/responses")
    ranked = rank([books, loans], model)
    assert [f.rule_id for f in ranked] == ["loans", "books"]
    assert ranked[0].stories == ("LIB-1",)
    assert ranked[0].endpoints == ("POST /loans",)
    assert ranked[1].stories == ()


def test_a_broad_finding_outranks_a_narrow_one_of_the_same_severity_and_suppressed_ones_come_last() -> None:
    model = _model()
    narrow = _finding("narrow", "low", "/paths/~1books/get/responses")
    broad = _finding("broad", "low", "/paths/~1books/get/responses", "/paths/~1authors/get/responses")
    hidden = _finding("hidden", "critical", "/paths/~1loans/post", suppressed=True)
    ranked = rank([hidden, narrow, broad], model)
    assert [f.rule_id for f in ranked] == ["broad", "narrow", "hidden"]
    assert ranked[-1].priority == 0


def test_the_top_problems_are_grouped_by_story_then_endpoint_then_the_rest() -> None:
    model = _model()
    ranked = rank(
        [
            _finding("books", "high", "/paths/~1books/get"),
            _finding("loans", "medium", "/paths/~1loans/post"),
            _finding("design", "low", "/components/schemas/A"),
        ],
        model,
    )
    top = top_problems([f.as_dict() for f in ranked], limit=10)
    assert [(g["by"], g["name"], g["findings"]) for g in top] == [
        ("story", "LIB-1", ["loans"]),
        ("endpoint", "GET /books", ["books"]),
        ("design", "", ["design"]),
    ]
    assert sum(len(g["findings"]) for g in top_problems([f.as_dict() for f in ranked], limit=2)) == 2


def test_against_a_base_findings_are_new_or_unchanged_and_the_gone_ones_fixed() -> None:
    kept, gone, new = (_finding(r, "low", "/x") for r in ("kept", "gone", "new"))
    marked, fixed = mark_changes([kept, new], [dataclasses.replace(kept, message="other words"), gone])
    assert [(f.rule_id, f.change) for f in marked] == [("kept", "unchanged"), ("new", "new")]
    assert [f.rule_id for f in fixed] == ["gone"]


def test_a_place_in_a_request_schema_counts_for_the_operations_that_send_it() -> None:
    design = DESIGN.replace(
        """  /loans:
    post:
      responses: {"201": {description: ok}}""",
        """  /loans:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/LoanIn'}}}}
      responses: {"201": {description: ok}}""",
    ).replace(
        "```\n", "components:\n  schemas:\n    LoanIn: {type: object, properties: {note: {type: string}}}\n```\n", 1
    )
    model = parse_design(DesignInput(document=design, document_name="d.md"), limits=ParseLimits()).model
    [ranked] = rank([_finding("note", "low", "/components/schemas/LoanIn/properties/note")], model)
    assert ranked.endpoints == ("POST /loans",)
    assert ranked.stories == ("LIB-1",)


def test_a_finding_citing_a_storys_line_depends_on_it_however_broad() -> None:
    model = _model()
    story = model.stories[0].source
    broad = _finding(
        "broad", "low", "/paths/~1loans/post", "/paths/~1books/get", "/paths/~1authors/get", "/paths/~1members/get"
    )
    cited = dataclasses.replace(broad, rule_id="cited", fingerprint="cited", locations=(*broad.locations, story))
    ranked = {f.rule_id: f for f in rank([broad, cited], model)}
    assert ranked["cited"].priority > ranked["broad"].priority


def test_a_findings_stories_follow_the_order_of_its_places_in_every_process() -> None:
    """The stories of a finding on several operations are listed in the order its places name the
    operations, whatever order a set of their labels would iterate in (it changes with the
    process's string hashing, and a report must read the same however often it is made)."""
    stories = "".join(
        f"\n### LIB-{n}: Story {n}\nAs a member, I want it, so that I have it.\nEndpoints: {endpoint}\n"
        for n, endpoint in ((2, "GET /books"), (3, "GET /authors"), (4, "GET /members"))
    )
    design = DESIGN.replace("## API", stories.lstrip("\n") + "\n## API")
    result = parse_design(DesignInput(document=design, document_name="d.md"), limits=ParseLimits())
    assert result.ok, result.fatal
    order = ("/paths/~1members/get", "/paths/~1books/get", "/paths/~1loans/post", "/paths/~1authors/get")
    few = _finding("sec.few", "high", *order[:3])
    many = _finding("sec.many", "high", *order)
    ranked = {f.rule_id: f for f in rank([few, many], result.model)}
    assert ranked["sec.few"].stories == ("LIB-4", "LIB-2", "LIB-1")
    assert ranked["sec.many"].stories == ("LIB-4", "LIB-2", "LIB-1", "LIB-3")


def test_a_findings_copy_with_changes_is_what_dataclasses_replace_makes() -> None:
    finding = dataclasses.replace(_finding("r", "low", "/x"), resolved_by={"source": "generation", "reason": "y"})
    copy = finding.replaced(priority=7, stories=("LIB-1",), change="new")
    assert copy == dataclasses.replace(finding, priority=7, stories=("LIB-1",), change="new")
    assert copy.resolved_by == finding.resolved_by and copy is not finding and finding.priority == 0


def test_a_design_wide_findings_places_outside_operations_touch_none() -> None:
    places = ("/components/schemas/Loan", "/paths/~1books/get/responses/200", "/webhooks/x/post", "/paths/~1loans")
    [ranked] = rank([_finding("wide", "low", *places, "/paths/~1loans/post/requestBody")], _model())
    assert ranked.endpoints == ("GET /books", "POST /loans")
