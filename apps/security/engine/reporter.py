"""How a security finding is built and located: the `Review` every rule reports to.

A rule reports at a SourceRef (elements of the DesignModel) or at a JSON pointer into the API
document, which is located only when the finding is kept: a finding already reported for the same
rule and key is dropped first. An object carrying `x-workbench-ignore: [rule-id, ...]` (optionally
with `x-workbench-ignore-reason`) waives those rules for itself and everything inside it; the
finding stays in the report, marked suppressed.

A rule listed in `catalog.DESIGN_LEVEL` is one design-level gap met on many nodes: its hits become
one finding per severity, with every place as a location, in the order they were met. A waived
place leaves that finding and joins a suppressed finding of the same rule (one per waiving
object). A rule may also exempt a place itself (`exempt`: why the rule does not ask it there,
e.g. a string whose format already bounds its length): the place is kept, for parity with the
tools that do ask, in a suppressed finding whose reason says why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from apps.designs.engine.findings import Finding, fingerprint, fingerprint_from, fingerprint_prefix
from apps.designs.engine.model import ApiDocument, DesignModel, Severity, SourceRef
from apps.designs.engine.structured import dict_objects
from apps.security.engine.catalog import CATEGORY_BY_KEY, DESIGN_LEVEL, RULES, Rule

ANALYZER = "security"
IGNORE_KEY = "x-workbench-ignore"
SKIP_KEYS = frozenset({"example", "examples"})


_LABELS_SHOWN = 5  # operations named in a gathered finding's message; its places list them all


def _places(
    ref: SourceRef, also: tuple[SourceRef, ...], gathered: SourceRef | tuple[SourceRef, ...]
) -> tuple[SourceRef, ...]:
    """A finding's places: where it is, the others it names, then those a gathered one adds, once each."""
    places = [ref, *also]
    for extra in gathered if isinstance(gathered, tuple) else (gathered,):
        if extra not in places:
            places.append(extra)
    return tuple(places)


class Report(Protocol):
    def __call__(self, rule_id: str, where: str, node: Any, message: str, exempt: str = "") -> None: ...


@dataclass
class _Group:
    """The places one design-level finding collects (see the module docstring)."""

    finding: Finding
    count_message: str  # the catalog's sentence, with `{count}` still to fill
    first_message: str  # the place's own message, used when there is only one place
    why: str
    refs: list[SourceRef] = field(default_factory=list)


@dataclass
class _Gathered:
    """A per-node finding that several operations meet (`Review.add(..., gather=)`): its finding,
    the message head for many, and the operations' labels, in the order they were met. A field of
    a schema shared by thousands of operations is met thousands of times: the labels and places
    seen so far are also kept as sets, so that each meeting costs the same however many came before."""

    finding: Finding
    head: str
    labels: list[str]
    _labels: set[str] = field(init=False)
    _locations: tuple[SourceRef, ...] = field(init=False)  # the finding's places when `_places` was made
    _places: set[SourceRef] = field(init=False)

    def __post_init__(self) -> None:
        self._labels = set(self.labels)
        self._locations = self.finding.locations
        self._places = set(self._locations)

    def meet(self, label: str, places: tuple[SourceRef, ...]) -> None:
        """Another operation's label and places: both added unless that label was met before;
        a place the finding already has is not added again."""
        if label in self._labels:
            return
        self._labels.add(label)
        self.labels.append(label)
        locations = self.finding.locations
        if locations is not self._locations:  # places added since by `Review.extend`
            self._places = set(locations)
        known = self._places
        new = [ref for ref in places if ref not in known]
        if new:
            locations = (*locations, *new)
            known.update(new)
        self.finding.locations = self._locations = locations


@dataclass
class Review:
    model: DesignModel
    doc: ApiDocument | None
    findings: list[Finding] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    # pointer of each object carrying x-workbench-ignore -> that object; filled only when the
    # document uses the extension at all.
    waivers: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # (rule, severity, how it is suppressed) -> the design-level finding collecting its places
    groups: dict[tuple[str, str, str], _Group] = field(default_factory=dict)
    # (rule, key) -> a per-node finding met again from other operations (`add(..., gather=)`).
    gathered: dict[tuple[str, str], _Gathered] = field(default_factory=dict)
    # (rule, key) -> the per-node finding reported for it, for `extend`.
    by_key: dict[tuple[str, str], Finding] = field(default_factory=dict)
    # hit(rule_id, pointer, node, message, exempt=""): `add` for the rules that report by the ten
    # thousand, at a dict or list of the document with the rule's own severity and title. The
    # same finding for less per call: a closure over everything it reads. `hit_once` is the same
    # without the duplicate check, for rules reported only from one walk that meets each object
    # once (a rule's places are then unique by pointer): the schema bounds and the responses checks.
    hit: Report = field(init=False, repr=False)
    hit_once: Report = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.doc is not None and IGNORE_KEY in self.doc.extensions:
            for ptr, node in walk(self.doc.data):
                if IGNORE_KEY in node:
                    self.waivers[ptr] = node
        self.hit = self._hit(deduplicate=True)
        self.hit_once = self._hit(deduplicate=False)

    def add(
        self,
        rule_id: str,
        where: str | SourceRef,
        message: str,
        *,
        node: Any = None,
        key: str | None = None,
        severity: Severity | None = None,
        also: tuple[SourceRef, ...] = (),
        title: str | None = None,
        exempt: str = "",
        gather: tuple[str, str, SourceRef | tuple[SourceRef, ...]] | None = None,
    ) -> None:
        """Report `rule_id` at `where`: a SourceRef, or a pointer into the API document; `node`,
        when given, is the dict or list that pointer names, which locates it without a walk.

        `gather=(label, head, ref)`: the finding is about one node that several operations use
        (a field of a shared schema): reported once for its key, each operation's label and place
        (`ref`) added as it is met; with more than one, `head` (with `{count}` and `{operations}`)
        begins its message."""
        facts = _FACTS[rule_id]
        if type(where) is str:
            ptr: str | None = where
            ref = None
        else:
            ptr = where.pointer
            ref = where
        stable = key or ptr or ""
        seen = (rule_id, stable)
        if seen in self.seen:
            if gather is not None and seen in self.gathered:
                self.gathered[seen].meet(gather[0], gather[2] if isinstance(gather[2], tuple) else (gather[2],))
            return
        self.seen.add(seen)
        if ref is None:
            ref = self._locate(ptr or "", node)
        suppressed = self._suppressed(facts.rule, ptr, exempt)
        chosen = severity or facts.severity
        if facts.design_level:
            self._collect(facts, chosen, suppressed, message, (ref, *also))
            return
        finding = Finding(
            analyzer=ANALYZER,
            rule_id=rule_id,
            severity=chosen,
            title=title or facts.title,
            message=f"{message} {facts.why}",
            fix=facts.fix,
            locations=_places(ref, also, gather[2] if gather is not None else ()),
            fingerprint=fingerprint(ANALYZER, rule_id, stable),
            references=facts.references,
            category=facts.category,
            cwe=facts.cwe,
            suppressed=suppressed,
        )
        self.findings.append(finding)
        self.by_key[seen] = finding
        if gather is not None:
            self.gathered[seen] = _Gathered(finding=finding, head=gather[1], labels=[gather[0]])

    def extend(self, rule_id: str, key: str, places: tuple[SourceRef, ...]) -> bool:
        """Add places to the finding already reported for (rule, key): the same data seen again
        elsewhere (a table's health columns, then the API schema carrying them). False when no
        such finding was reported."""
        finding = self.by_key.get((rule_id, key))
        if finding is None:
            return False
        finding.locations = (*finding.locations, *places)
        return True

    def _suppressed(self, rule: Rule, ptr: str | None, exempt: str) -> dict[str, Any] | None:
        if ptr is not None and self.waivers:
            waived = self._suppression(rule, ptr)
            if waived is not None:
                return waived
        if exempt:
            return {"source": "rule", "pointer": None, "reason": exempt, "by": None, "at": None}
        return None

    def _collect(
        self,
        facts: _Facts,
        severity: Severity,
        suppressed: dict[str, Any] | None,
        message: str,
        refs: tuple[SourceRef, ...],
    ) -> None:
        """Add places to the design-level finding of (rule, severity, suppression)."""
        how = "" if suppressed is None else f"{suppressed['source']}\x1f{suppressed['pointer'] or suppressed['reason']}"
        key = (facts.rule.id, severity, how)
        group = self.groups.get(key)
        if group is None:
            stable = "design" if severity == facts.severity else f"design:{severity}"
            finding = Finding(
                analyzer=ANALYZER,
                rule_id=facts.rule.id,
                severity=severity,
                title=facts.title,
                message="",  # written by `finish`, once every place is known
                fix=facts.fix,
                locations=(),
                fingerprint=fingerprint(ANALYZER, facts.rule.id, stable if not how else f"{stable}\x1f{how}"),
                references=facts.references,
                category=facts.category,
                cwe=facts.cwe,
                suppressed=suppressed,
            )
            group = self.groups[key] = _Group(
                finding=finding,
                count_message=DESIGN_LEVEL[facts.rule.id],
                first_message=message,
                why=facts.why,
            )
            self.findings.append(finding)
        group.refs.extend(refs)

    def finish(self) -> list[Finding]:
        """The findings, with every design-level one given its places and its message."""
        for group in self.groups.values():
            finding = group.finding
            count = len(group.refs)
            finding.locations = tuple(group.refs)
            head = group.first_message if count == 1 else group.count_message.format(count=f"{count:,}")
            if finding.suppressed is not None and finding.suppressed["source"] == "rule":
                head = f"Not asked here: {finding.suppressed['reason']} {head}"
            finding.message = f"{head} {group.why}"
        self.groups.clear()
        for gathered in self.gathered.values():
            finding, head, labels = gathered.finding, gathered.head, gathered.labels
            if len(labels) > 1:
                shown = ", ".join(labels[:_LABELS_SHOWN]) + (" and more" if len(labels) > _LABELS_SHOWN else "")
                why = _FACTS[finding.rule_id].why
                finding.message = f"{head.format(count=len(labels), operations=shown)} {why}"
        self.gathered.clear()
        # `hit` and `hit_once` close over this review's bound methods: a cycle that would keep the
        # review, and through it the model and the whole API document, alive until the cycle
        # collector next runs (for a large API, a full collection over everything left, or
        # the interpreter's last one at exit). Dropping them lets the caller free it all at once.
        self.hit = self.hit_once = _finished
        return self.findings

    def _open_group(self, rule_id: str, message: str, exempt: str) -> list[SourceRef]:
        """The places of the design-level finding a place of `rule_id` (exempted for `exempt`, or
        not) joins in a document that waives nothing, the finding made now if this is its first."""
        facts = _FACTS[rule_id]
        suppressed = self._suppressed(facts.rule, None, exempt) if exempt else None
        self._collect(facts, facts.severity, suppressed, message, ())
        how = "" if suppressed is None else f"rule\x1f{exempt}"
        return self.groups[rule_id, facts.severity, how].refs

    def _node_locator(self) -> Callable[[Any, str], SourceRef]:
        """`_locate` as a function of (node, pointer), for `hit`."""
        doc = self.doc
        if doc is None:
            return _no_document
        if doc.locate_node is not None:
            return doc.locate_node
        return lambda node, ptr: doc.locate(ptr)

    def _hit(self, *, deduplicate: bool) -> Report:
        seen = self.seen
        remember = seen.add
        append = self.findings.append
        locate = self._node_locator()
        waivers = self.waivers
        suppressed_at = self._suppressed
        collect = self._collect
        open_group = self._open_group
        facts_of = _FACTS
        digest = fingerprint_from
        # Finding(**fields) has type.__call__ gather the twelve keywords into a dict and unpack
        # them again for __init__; a large API yields tens of thousands of per-node findings, so
        # they are made here by calling __init__ itself, which takes the keywords as they are passed.
        new = Finding.__new__
        init = Finding.__init__
        # (rule, message) -> the finding's whole message: these rules repeat a handful of
        # messages, so they are joined once and shared.
        messages: dict[tuple[str, str], str] = {}
        # The pointer, node and place of the last hit: a schema object lacking both a maxLength
        # and a format, or a responses object lacking three statuses, is reported by two to four
        # rules in a row, and is located once for them all (the SourceRef is the same).
        last_where: str | None = None
        last_node: Any = None
        last_ref: SourceRef | None = None
        # The places of the design-level groups that hits join when the document waives nothing,
        # by rule, or by (rule, exemption) for an exempted place.
        open_refs: dict[str | tuple[str, str], list[SourceRef]] = {}
        # Whether a hit of a rule may take that short way: no waiver anywhere, a design-level rule.
        open_document = not waivers
        design_level = frozenset(rule_id for rule_id, facts in facts_of.items() if facts.design_level)

        def hit(rule_id: str, where: str, node: Any, message: str, exempt: str = "") -> None:
            nonlocal last_where, last_node, last_ref
            if deduplicate:
                key = (rule_id, where)
                if key in seen:
                    return
                remember(key)
            if where is last_where and node is last_node:
                ref = last_ref
            else:
                ref = last_ref = locate(node, where)
                last_where, last_node = where, node
            # The common case, by the ten thousand: its group is open already.
            refs = open_refs.get((rule_id, exempt) if exempt else rule_id)
            if refs is not None:
                refs.append(ref)
                return
            if open_document and rule_id in design_level:
                # No waiver in the document: the place joins its rule's group, or the group of
                # the rule's own exemption.
                refs = open_refs[(rule_id, exempt) if exempt else rule_id] = open_group(rule_id, message, exempt)
                refs.append(ref)
                return
            facts = facts_of[rule_id]
            suppressed = suppressed_at(facts.rule, where, exempt) if waivers or exempt else None
            if facts.design_level:
                collect(facts, facts.severity, suppressed, message, (ref,))
                return
            whole = messages.get((rule_id, message))
            if whole is None:
                whole = messages[rule_id, message] = f"{message} {facts.why}"
            finding = new(Finding)
            init(
                finding,
                analyzer=ANALYZER,
                rule_id=rule_id,
                severity=facts.severity,
                title=facts.title,
                message=whole,
                fix=facts.fix,
                locations=(ref,),
                fingerprint=digest(facts.fingerprint_prefix, where),  # fingerprint(ANALYZER, rule_id, where)
                references=facts.references,
                category=facts.category,
                cwe=facts.cwe,
                suppressed=suppressed,
            )
            append(finding)

        return hit

    def locate(self, ptr: str, node: Any) -> SourceRef:
        """Where the object `node` at pointer `ptr` of the API document is written."""
        return self._locate(ptr, node)

    def _locate(self, ptr: str, node: Any) -> SourceRef:
        doc = self.doc
        if doc is None:  # only API rules pass pointers, and they run only with a document
            raise ValueError(f"no OpenAPI document to locate {ptr}")
        if node is not None and doc.locate_node is not None:
            return doc.locate_node(node, ptr)
        return doc.locate(ptr)

    def _suppression(self, rule: Rule, ptr: str) -> dict[str, Any] | None:
        """The nearest object on the pointer's way that waives the rule with x-workbench-ignore."""
        if not self.waivers:
            return None
        found: tuple[str, Mapping[str, Any]] | None = None
        walked = ""
        for raw in ["", *ptr.split("/")[1:]] if ptr else [""]:
            walked = f"{walked}/{raw}" if raw or walked else ""
            node = self.waivers.get(walked)
            if node is not None and _waives(node, rule):
                found = (walked, node)
        if found is None:
            return None
        return {
            "source": "spec",
            "pointer": found[0],
            "reason": str(found[1].get("x-workbench-ignore-reason", "")),
            "by": None,
            "at": None,
        }


class _Facts(NamedTuple):
    """What every finding of a rule repeats, worked out once."""

    rule: Rule
    severity: Severity
    title: str
    why: str
    fix: str
    references: tuple[str, str]
    category: str
    cwe: str
    fingerprint_prefix: str  # what fingerprint() hashes before the finding's key
    design_level: bool  # listed in catalog.DESIGN_LEVEL: one finding, every place a location


_FACTS = {
    rule.id: _Facts(
        rule=rule,
        severity=rule.severity,
        title=rule.title,
        why=rule.why,
        fix=rule.fix,
        references=(
            CATEGORY_BY_KEY[rule.category].reference,
            f"https://cwe.mitre.org/data/definitions/{rule.cwe.removeprefix('CWE-')}.html",
        ),
        category=f"{rule.category}:2023" if rule.category != "DP" else "DP",
        cwe=rule.cwe,
        fingerprint_prefix=fingerprint_prefix(ANALYZER, rule.id),
        design_level=rule.id in DESIGN_LEVEL,
    )
    for rule in RULES
}


def _no_document(node: Any, ptr: str) -> SourceRef:
    # only API rules locate nodes this way, and they run only with a document
    raise ValueError(f"no OpenAPI document to locate {ptr}")


def _finished(rule_id: str, where: str, node: Any, message: str, exempt: str = "") -> None:
    raise RuntimeError("the review is finished: no rule reports after `finish`")


def _waives(node: Mapping[str, Any], rule: Rule) -> bool:
    ignored = node.get(IGNORE_KEY)
    if isinstance(ignored, str):
        ignored = [ignored]
    if not isinstance(ignored, list):
        return False
    return any(item in (rule.id, rule.id.removeprefix("sec."), *rule.spectral) for item in ignored)


def walk(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every mapping of the document with its JSON pointer; examples and extensions are skipped."""
    return dict_objects(data, "", SKIP_KEYS)
