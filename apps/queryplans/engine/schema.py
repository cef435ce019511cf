"""What the data model alone says about access paths: the columns each table's indexes lead
with, and the foreign keys no index serves on the referencing side (each parent row's delete or
key update then scans the child table, and so does every join from parent to children).

Pure: the DesignModel's entities in, plain answers out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apps.designs.engine.identifiers import written_identifier
from apps.designs.engine.model import SourceRef
from apps.designs.engine.model_elements import Entity


@dataclass(frozen=True)
class UnindexedForeignKey:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    rows: int | None  # the referencing table's declared volume
    source: SourceRef  # where the foreign key is written

    @property
    def index_sql(self) -> str:
        """The index that serves it, as a statement to add without blocking writes."""
        cols = ", ".join(written_identifier(c) for c in self.columns)
        return f"CREATE INDEX CONCURRENTLY ON {written_identifier(self.table)} ({cols});"


def index_keys(entity: Entity, *, methods: frozenset[str] = frozenset({"btree"})) -> list[tuple[str, ...]]:
    """The columns of the table's primary key, of each full (not partial) unique constraint and
    of each full index of one of `methods`: what an equality lookup on leading columns can use."""
    keys = [entity.primary_key, *(u.columns for u in entity.uniques if u.where is None)]
    keys += [i.columns for i in entity.indexes if i.where is None and i.method in methods]
    return [columns for columns in keys if columns]


def leading_columns(entity: Entity) -> frozenset[str]:
    """The first column of each of the table's `index_keys` (hash indexes too): the columns an
    equality lookup can start from."""
    return frozenset(columns[0] for columns in index_keys(entity, methods=frozenset({"btree", "hash"})))


def unindexed_foreign_keys(entities: Iterable[Entity]) -> list[UnindexedForeignKey]:
    """Each foreign key whose columns are not the leading columns (in any order) of one of the
    table's btree `index_keys`, largest declared table first."""
    found = []
    for entity in entities:
        keys = index_keys(entity)
        for fk in entity.foreign_keys:
            width = len(fk.columns)
            if any(len(key) >= width and set(key[:width]) == set(fk.columns) for key in keys):
                continue
            found.append(UnindexedForeignKey(entity.name, fk.columns, fk.ref_table, entity.rows, fk.source))
    return sorted(found, key=lambda f: (-(f.rows or 0), f.table, f.columns))
