"""Rules that read the stories against the data model: what a story promises about the rows
(kept, deleted softly, unique, always related) and what the tables' keys and foreign keys make
the database do.

- a retention promise ("never deleted", "kept for 10 years", "must be retained", "anonymised
  after 30 days") about an entity whose rows a foreign key's ON DELETE CASCADE deletes, directly
  or through a chain of cascades;
- a soft-delete promise ("soft delete", "archived instead of deleted", "can be restored") about an
  entity without a deleted_at / is_deleted / archived_at column;
- a uniqueness promise ("each email is unique", "one active subscription per customer") that no
  unique constraint or unique index (composite and partial ones count) keeps;
- "every order has a customer" / "each order belongs to a customer" where the foreign key is
  nullable, or missing.

Each finding is located at the data model's line (the foreign key, the column, the table) and at
the story's line that makes the promise.
Pure: reads the DesignModel's stories and entities; reports to `reporter.Review`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from apps.designs.engine.loader import singular
from apps.designs.engine.model import Entity, ForeignKey, SourceRef, Story
from apps.security.engine.reporter import Review

_RETAIN = re.compile(
    r"\bnever (?:be )?(?:deleted|removed|purged|erased|lost)\b|\b(?:kept|retained|stored|preserved|archived) for (?:at least )?\d+"
    r"|\bmust (?:be )?(?:kept|retained|preserved)\b|\bretention\b|\bretain(?:ed)?\b|\bkept forever\b|\bimmutable\b"
    r"|\b(?:is|are|be|stays?|remains?) kept\b|\b(?:must|should|shall) keep\b|\bnot (?:be )?deleted\b"
    r"|\baudit (?:trail|log)\b|\banonymi[sz]ed? after\b|\banonymi[sz](?:ed|ation)\b",
    re.IGNORECASE,
)
_SOFT_DELETE = re.compile(
    r"\bsoft[- ]?delet|\barchived? instead of (?:being )?delet|\bcan be (?:restored|undeleted|recovered)\b|\bundelete\b"
    r"|\bmarked (?:as )?deleted\b|\btrash\b|\brecycle bin\b",
    re.IGNORECASE,
)
SOFT_DELETE_COLUMNS = frozenset(
    {"deleted_at", "is_deleted", "deleted", "archived_at", "is_archived", "archived", "removed_at", "deleted_on"}
)
# "each email is unique", "emails are unique", "email must be unique", "no two customers share an email"
_UNIQUE_VALUE = re.compile(
    r"\b(?:each|every|the|an?|their|its)?\s*(?P<column>[a-z][a-z_ ]{1,40}?)s? (?:is|are|must be|should be|has to be|have to be) unique\b"
    r"(?:\s+(?:per|within|for each|for every|for a|for an|in each|in every|in its|in their|in a|in an) (?P<scope>[a-z][a-z_]{1,40}))?"
    r"|\bno two (?P<owner>[a-z][a-z_ ]{1,40}?) (?:share|have|may share|can share|can have) (?:an? |the same )?(?P<shared>[a-z][a-z_ ]{1,40}?)\b(?:[.,;]|$)"
    r"|\bunique (?P<column2>[a-z][a-z_]{1,40})\b",
    re.IGNORECASE,
)
# "one active subscription per customer", "at most one cart per user", "only one default address per customer"
# "two stops of one shipment never share a number", "no two seats of the same flight have the same code"
_SHARED_IN_SCOPE = re.compile(
    r"\b(?:no )?two (?P<owner>[a-z][a-z_ ]{1,40}?) (?:of|in|within|on|for) (?:one|the same|a|an|each|any) (?P<scope>[a-z][a-z_]{1,40})"
    r" (?:never |can ?not |can't |may not |must not |do not |don't |cannot )?(?:share|have) (?:a|an|the same|one) (?P<shared>[a-z][a-z_ ]{1,40}?)\b(?:[.,;]|$)",
    re.IGNORECASE,
)
_ONE_PER = re.compile(
    r"\b(?:at most |only |exactly |just )?one (?P<qualifier>[a-z]+ )?(?P<child>[a-z][a-z_]{1,40}?)s? (?:per|for each|for every|for a|for an) (?P<parent>[a-z][a-z_]{1,40}?)\b",
    re.IGNORECASE,
)
# "every order has a customer", "each order belongs to a customer", "an order always has a customer"
_REQUIRED = re.compile(
    r"\b(?:every|each|an?|all)\s+(?P<child>[a-z][a-z_ ]{1,40}?)s?\s+(?:always |must )?(?:has|have|belongs? to|is linked to|references?|is owned by|is placed by|(?:must )?have"
    r"|(?:goes|go|is sent|are sent|is paid|are paid) to|(?:is|are|must be) (?:signed|issued|written|made|created|approved|assigned|placed|raised|opened|owned) by)"
    r"\s+(?:an?|one|exactly one|its|their|the)\s+(?P<parent>[a-z][a-z_]{1,40})(?:\s+(?P<parent2>[a-z][a-z_]{1,40}))?\b",
    re.IGNORECASE,
)
_STOP_WORDS = frozenset({"the", "a", "an", "each", "every", "its", "their", "all", "value", "values"})


_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def _texts(story: Story) -> Iterator[tuple[str, SourceRef]]:
    """The lines of a story that may promise something about the rows, each with where it is
    written (the story's heading when its lines are not known)."""
    if story.lines:
        for line, text in story.lines:
            yield _BULLET.sub("", text).strip().lstrip("#").strip(), SourceRef(story.source.document, line, 1)
        return
    for text in (story.title, story.goal, story.benefit, *story.acceptance_criteria):
        if text:
            yield text, story.source


def _forms(table: str) -> set[str]:
    """How a story may name a table: `order_lines` as order line(s), order_line(s), orderline(s)."""
    one = singular(table)
    forms = set()
    for name in (table, one):
        forms |= {name, name.replace("_", " "), name.replace("_", "")}
    return {f.lower() for f in forms if f}


class _Names:
    """Finds the tables and columns a piece of story text names."""

    def __init__(self, entities: tuple[Entity, ...]) -> None:
        self.entities = {e.name: e for e in entities}
        self.by_form: dict[str, str] = {}
        for entity in entities:
            for form in _forms(entity.name):
                self.by_form.setdefault(form, entity.name)
        forms = sorted(self.by_form, key=len, reverse=True)
        self.pattern = (
            re.compile(r"\b(" + "|".join(re.escape(f) for f in forms) + r")(?:e?s)?\b", re.IGNORECASE)
            if forms
            else None
        )

    def tables_in(self, text: str) -> list[Entity]:
        if self.pattern is None:
            return []
        found: list[Entity] = []
        for match in self.pattern.finditer(text):
            entity = self.entities[self.by_form[match.group(1).lower()]]
            if entity not in found:
                found.append(entity)
        return found

    def table(self, words: str) -> Entity | None:
        words = words.strip().lower()
        for candidate in (words, singular(words.replace(" ", "_")), words.rstrip("s")):
            name = self.by_form.get(candidate) or self.by_form.get(candidate.replace(" ", "_"))
            if name is not None:
                return self.entities[name]
        # "active subscription": the last word names the table
        last = words.split()[-1] if words.split() else ""
        if last and last != words:
            return self.table(last)
        return None


_NUMBER_WORDS = frozenset({"number", "numbers", "no", "num", "nr"})
_NUMBER_SUFFIXES = ("_no", "_number", "_num", "_nr")


def _column_named(entity: Entity, words: str) -> str | None:
    words = words.strip().lower()
    tail = [w for w in words.split() if w not in _STOP_WORDS]
    for size in range(len(tail), 0, -1):
        candidate = "_".join(tail[-size:])
        for name in (candidate, singular(candidate)):
            if entity.column(name) is not None:
                return name
    if tail and tail[-1] in _NUMBER_WORDS:
        # "a number" for the table's one numbering column (`sequence_no`, `stop_number`)
        numbered = [c.name for c in entity.columns if c.name.endswith(_NUMBER_SUFFIXES)]
        if len(numbered) == 1:
            return numbered[0]
    return None


def _cascades_into(entities: dict[str, Entity], table: str) -> list[tuple[ForeignKey, str]]:
    """The foreign keys whose ON DELETE CASCADE deletes rows of `table`: its own, and those of the
    tables its rows cascade from (a chain of cascades), each with the table that owns it."""
    found: list[tuple[ForeignKey, str]] = []
    seen = {table}
    stack = [table]
    while stack:
        current = entities.get(stack.pop())
        if current is None:
            continue
        for fk in current.foreign_keys:
            if fk.on_delete == "CASCADE":
                found.append((fk, current.name))
                if fk.ref_table not in seen:
                    seen.add(fk.ref_table)
                    stack.append(fk.ref_table)
    return found


def _unique_covers(entity: Entity, columns: set[str]) -> bool:
    """A unique constraint or unique index (composite or partial) whose columns are among
    `columns` (then they are unique together, at least where its WHERE holds), or the primary key."""
    keys = [set(u.columns) for u in entity.uniques]
    if entity.primary_key:
        keys.append(set(entity.primary_key))
    return any(key and key <= columns for key in keys)


def story_model_rules(review: Review) -> None:
    """The stories' promises about rows against the data model. See the module docstring."""
    model = review.model
    if not model.stories or not model.entities:
        return
    names = _Names(model.entities)
    entities = names.entities
    for story in model.stories:
        for text, said in _texts(story):
            _retention(review, story, text, said, names, entities)
            _uniqueness(review, story, text, said, names)
            _required(review, story, text, said, names)


def _retention(
    review: Review, story: Story, text: str, said: SourceRef, names: _Names, entities: dict[str, Entity]
) -> None:
    retained = _RETAIN.search(text)
    soft = _SOFT_DELETE.search(text)
    if not retained and not soft:
        return
    for entity in names.tables_in(text):
        for fk, owner in _cascades_into(entities, entity.name):
            how = f"{owner} ({', '.join(fk.columns)}) references {fk.ref_table} ON DELETE CASCADE" + (
                "" if owner == entity.name else f", and {entity.name}'s rows are deleted with {owner}'s"
            )
            review.add(
                "sec.dp.story-retention-cascade",
                fk.source,
                f"{story.id} says \u201c{text}\u201d, but {how}: deleting a {singular(fk.ref_table)} deletes the "
                f"{entity.name} rows the story keeps.",
                key=f"{story.id}|{entity.name}|{owner}|{','.join(fk.columns)}",
                also=(said,),
            )
        if soft and not any(c.name in SOFT_DELETE_COLUMNS for c in entity.columns):
            review.add(
                "sec.dp.story-soft-delete-missing",
                entity.source,
                f"{story.id} says \u201c{text}\u201d, but {entity.name} has no soft-delete column "
                f"({', '.join(sorted(SOFT_DELETE_COLUMNS)[:4])}, ...): a delete removes the row.",
                key=f"{story.id}|{entity.name}",
                also=(said,),
            )


def _unique_promise(
    review: Review, story: Story, text: str, said: SourceRef, entity: Entity, column: str, scope: set[str]
) -> None:
    """A story's promise that `column` (within `scope`'s columns) is unique, against the table's
    unique constraints and indexes."""
    if _unique_covers(entity, {column} | scope):
        return
    covers = (
        f"({', '.join(sorted({column} | scope))}): two rows can share it"
        if scope
        else (f"{column}: two rows with the same {column} can be written")
    )
    review.add(
        "sec.dp.story-unique-missing",
        entity.column(column).source if entity.column(column) else entity.source,  # type: ignore[union-attr]
        f"{story.id} says \u201c{text}\u201d, but no unique constraint or unique index of {entity.name} covers {covers}.",
        key=f"{story.id}|{entity.name}|{column}",
        also=(entity.source, said),
    )


def _uniqueness(review: Review, story: Story, text: str, said: SourceRef, names: _Names) -> None:
    mentioned = names.tables_in(text)
    for match in _UNIQUE_VALUE.finditer(text):
        words = match.group("column") or match.group("shared") or match.group("column2") or ""
        candidates = [names.table(match.group("owner"))] if match.group("owner") else []
        candidates = [c for c in candidates if c is not None] or mentioned or list(names.entities.values())
        holders = [(e, column) for e in candidates if (column := _column_named(e, words))]
        for entity, column in holders[:3]:
            # "unique per tenant": the tenant's column joins the key the promise needs
            scope = _scope_columns(entity, match.group("scope"), names) if match.group("scope") else set()
            _unique_promise(review, story, text, said, entity, column, scope)
    for match in _SHARED_IN_SCOPE.finditer(text):
        entity = names.table(match.group("owner"))
        column = _column_named(entity, match.group("shared")) if entity is not None else None
        if entity is not None and column is not None:
            _unique_promise(
                review, story, text, said, entity, column, _scope_columns(entity, match.group("scope"), names)
            )
    for match in _ONE_PER.finditer(text):
        child = names.table(match.group("child"))
        parent = names.table(match.group("parent"))
        if child is None or parent is None or child is parent:
            continue
        links = [fk for fk in child.foreign_keys if fk.ref_table == parent.name]
        columns = {c for fk in links for c in fk.columns} or {
            c.name for c in child.columns if c.name in {f"{singular(parent.name)}_id", parent.name}
        }
        if not columns:
            continue
        if any(set(u.columns) <= columns for u in child.uniques) or (
            child.primary_key and set(child.primary_key) <= columns
        ):
            continue
        qualifier = (match.group("qualifier") or "").strip()
        where = links[0].source if links else child.source
        review.add(
            "sec.dp.story-unique-missing",
            where,
            f"{story.id} says \u201c{text}\u201d, but no unique constraint or unique index of {child.name} is on "
            f"({', '.join(sorted(columns))})"
            + (f" (a partial one, WHERE the row is {qualifier}, would do)" if qualifier else "")
            + f": a {singular(parent.name)} can have many {child.name}.",
            key=f"{story.id}|{child.name}|{','.join(sorted(columns))}",
            also=(child.source, said),
        )


def _scope_columns(entity: Entity, words: str, names: _Names) -> set[str]:
    """The columns of `entity` that a scope such as "per tenant" names: its foreign keys to that
    table, or a column named after it (tenant, tenant_id)."""
    table = names.table(words)
    columns = {c for fk in entity.foreign_keys if table is not None and fk.ref_table == table.name for c in fk.columns}
    one = singular(words.strip().lower().replace(" ", "_"))
    columns |= {c.name for c in entity.columns if c.name in {one, f"{one}_id"}}
    return columns


def _required(review: Review, story: Story, text: str, said: SourceRef, names: _Names) -> None:
    for match in _REQUIRED.finditer(text):
        child = names.table(match.group("child"))
        two = f"{match.group('parent')} {match.group('parent2')}" if match.group("parent2") else None
        parent = (names.table(two) if two else None) or names.table(match.group("parent"))
        if child is None or parent is None or child is parent:
            continue
        links = [fk for fk in child.foreign_keys if fk.ref_table == parent.name]
        if not links and any(fk.ref_table == child.name for fk in parent.foreign_keys):
            continue  # "every customer has an account" with accounts.customer_id: no column can say it
        if not links:
            review.add(
                "sec.dp.story-relation-nullable",
                child.source,
                f"{story.id} says \u201c{text}\u201d, but {child.name} has no foreign key to {parent.name}: "
                "nothing ties each row to one.",
                key=f"{story.id}|{child.name}|{parent.name}",
                also=(said,),
            )
            continue
        for fk in links:
            nullable = [c for c in fk.columns if (column := child.column(c)) is not None and column.nullable]
            if nullable:
                review.add(
                    "sec.dp.story-relation-nullable",
                    fk.source,
                    f"{story.id} says \u201c{text}\u201d, but {child.name}.{', '.join(nullable)} (the foreign key to "
                    f"{parent.name}) is nullable: a row without a {singular(parent.name)} can be written.",
                    key=f"{story.id}|{child.name}|{parent.name}",
                    also=(said,),
                )
