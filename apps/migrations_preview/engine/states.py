"""The DesignModel's tables as Django model states, and the migration between two of them.

Each entity becomes a ModelState whose fields reproduce its columns (types, nullability,
database defaults, identity keys, foreign keys with their database-level ON DELETE and without
Django's implicit index, composite primary keys, unique constraints (composite and partial),
check constraints, enums as text with a CHECK on their labels, declared indexes (partial,
expression and non-btree ones too)) on its own table name, so that Django's autodetector, writer
and schema editor produce the migration and SQL a team would get. What Django cannot express
(ON UPDATE, ON DELETE RESTRICT, a multi-column foreign key, ...) is said in a note, with what
the preview did instead. Nothing is imported or executed from pasted text: the expressions
(defaults, checks, WHERE clauses, index expressions) are the ones the parser's allow-list passed.
"""

from __future__ import annotations

import hashlib
import operator
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from django.contrib.postgres import indexes as postgres_indexes
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.migrations import operations as migration_operations
from django.db.migrations.autodetector import MigrationAutodetector
from django.db.migrations.graph import MigrationGraph
from django.db.migrations.migration import Migration
from django.db.migrations.questioner import MigrationQuestioner
from django.db.migrations.state import AppConfigStub, ModelState, ProjectState, StateApps
from django.db.models.expressions import RawSQL
from django.db.models.fields.related import RECURSIVE_RELATIONSHIP_CONSTANT
from django.db.models.functions import Now

from apps.designs.engine.identifiers import MAX_IDENTIFIER_BYTES
from apps.designs.engine.model import Column, DesignModel, Entity, ForeignKey
from apps.migrations_preview.engine.backend.base import carry_percent

APP_LABEL = "design"
_VARCHAR = re.compile(r"^(?:varchar|char)\((\d+)\)$")
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_SIMPLE: dict[str, type[models.Field[Any, Any]]] = {
    "bigint": models.BigIntegerField,
    "integer": models.IntegerField,
    "smallint": models.SmallIntegerField,
    "text": models.TextField,
    "boolean": models.BooleanField,
    "date": models.DateField,
    "timestamptz": models.DateTimeField,
    "timestamp": models.DateTimeField,
    "time": models.TimeField,
    "uuid": models.UUIDField,
    "jsonb": models.JSONField,
    "json": models.JSONField,
    "real": models.FloatField,
    "double precision": models.FloatField,
    "bytea": models.BinaryField,
    "inet": models.GenericIPAddressField,
    "interval": models.DurationField,
    "numeric": models.DecimalField,
}
_AUTO = {"bigint": models.BigAutoField, "integer": models.AutoField, "smallint": models.SmallAutoField}
# Database-level ON DELETE (Django 6.1): what PostgreSQL does, not Django's collector. NO ACTION
# is PostgreSQL's default, which DO_NOTHING leaves in place.
_ON_DELETE: dict[str, Any] = {
    "NO ACTION": models.DO_NOTHING,
    "CASCADE": models.DB_CASCADE,
    "SET NULL": models.DB_SET_NULL,
    "SET DEFAULT": models.DB_SET_DEFAULT,
}
_INDEX_METHODS: dict[str, type[models.Index]] = {
    "gin": postgres_indexes.GinIndex,
    "gist": postgres_indexes.GistIndex,
    "brin": postgres_indexes.BrinIndex,
    "hash": postgres_indexes.HashIndex,
    "spgist": postgres_indexes.SpGistIndex,
}


def _condition(text: str) -> models.Q:
    """A WHERE clause the parser's allow-list passed, as the Q Django's partial constraints and
    indexes take; `%` travels as a mark (backend.base)."""
    return models.Q(
        RawSQL(carry_percent(text), [], output_field=models.BooleanField())  # noqa: S611 - allow-listed by the parser; runs only in the sandbox
    )


def model_name(table: str) -> str:
    """`order_lines` -> `OrderLine`, `audit_log` -> `AuditLog`."""
    from apps.designs.engine.loader import singular

    return "".join(part.capitalize() for part in singular(table).split("_") if part) or "Table"


def _short_name(*parts: str, suffix: str) -> str:
    """A deterministic constraint or index name within Django's 30 characters and PostgreSQL's
    63 bytes (a name of multi-byte characters is cut by bytes, never inside a character)."""
    raw = "_".join(parts)
    digest = hashlib.sha256(raw.encode("utf-8", errors="surrogatepass")).hexdigest()[:6]
    head = raw[: 30 - len(suffix) - 8]
    while len(f"{head}_{digest}_{suffix}".encode("utf-8", errors="surrogatepass")) > MAX_IDENTIFIER_BYTES:
        head = head[:-1]
    return f"{head}_{digest}_{suffix}"


def _db_default(column: Column) -> Any:
    text = column.default
    if text is None:
        return models.NOT_PROVIDED
    lowered = text.lower()
    if lowered in {"now()", "current_timestamp", "statement_timestamp()", "transaction_timestamp()"}:
        return Now()
    if lowered in {"true", "false"}:
        return lowered == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    if len(text) >= 2 and text[0] == "'" and text.endswith("'") and "'" not in text[1:-1].replace("''", ""):
        return text[1:-1].replace("''", "'")
    # Any other expression (gen_random_uuid(), '{}'::text[], now() + interval '1 day') passed the
    # parser's allow-list and is kept as PostgreSQL's grammar printed it; its `%` travel through
    # Django's formatting as a mark (see backend.base).
    return RawSQL(carry_percent(text), [])  # noqa: S611 - allow-listed by the parser; runs only in the sandbox


def _field(column: Column, *, primary: bool, unique: bool, notes: list[str], table: str) -> models.Field[Any, Any]:
    # The field is named after its column, so no db_column: that keeps a renamed column
    # recognisable to the autodetector as the same field under a new name.
    if column.type.endswith("[]") and not primary:
        plain = Column(column.name, column.type[:-2], True, None, False, column.source)
        base_field = _field(plain, primary=False, unique=False, notes=notes, table=table)
        base_field.null = False
        kwargs_array: dict[str, Any] = {"null": True} if column.nullable else {}
        if column.comment:
            kwargs_array["db_comment"] = column.comment
        if unique:
            kwargs_array["unique"] = True
        default = _db_default(column)
        if default is not models.NOT_PROVIDED:
            kwargs_array["db_default"] = default
        return ArrayField(base_field, **kwargs_array)
    kwargs: dict[str, Any] = {}
    if column.comment:
        kwargs["db_comment"] = column.comment  # a value: the schema editor quotes it as a literal
    if column.nullable and not primary:
        kwargs["null"] = True
    if unique:
        kwargs["unique"] = True
    default = _db_default(column)
    if default is not models.NOT_PROVIDED:
        kwargs["db_default"] = default
    base = column.type.removesuffix("[]")
    if primary and column.identity and base in _AUTO:
        return _AUTO[base](primary_key=True)
    if column.identity:
        notes.append(
            f"{table}.{column.name}: an identity column that is not the table's only primary key is previewed "
            "as a plain integer column without its sequence: Django's AutoField must be the primary key"
        )
    if column.values:
        # A PostgreSQL enum: Django has no enum type; its labels become choices and a CHECK.
        return models.TextField(choices=[(v, v) for v in column.values], **kwargs)
    if primary:
        kwargs["primary_key"] = True
    if match := _VARCHAR.match(base):
        return models.CharField(max_length=int(match.group(1)), **kwargs)
    if base in {"varchar", "char", "character varying"}:
        return models.CharField(max_length=255, **kwargs)
    if match := _NUMERIC.match(base):
        return models.DecimalField(max_digits=int(match.group(1)), decimal_places=int(match.group(2)), **kwargs)
    field_class = _SIMPLE.get(base)
    if field_class is None:
        notes.append(
            f"{table}.{column.name}: type {base} has no Django field here; previewed as text, so the SQL shows text"
        )
        field_class = models.TextField
    if field_class is models.DecimalField:
        notes.append(
            f"{table}.{column.name}: numeric without precision is previewed as numeric(65, 30): Django's decimal field needs its digits"
        )
        return models.DecimalField(max_digits=65, decimal_places=30, **kwargs)
    return field_class(**kwargs)


def _copy(model: ModelState) -> ModelState:
    """ModelState.clone() without re-checking every field (checked when the state was made)."""
    copy = ModelState.__new__(ModelState)
    copy.app_label, copy.name, copy.bases = model.app_label, model.name, model.bases
    copy.fields, copy.options, copy.managers = dict(model.fields), dict(model.options), list(model.managers)
    return copy


def _targets(state: ModelState, app_label: str) -> frozenset[tuple[str, str]]:
    """The models a model state's fields point at, kept on the state object for as long as its
    fields are the same objects (Django replaces a changed field, it never edits one)."""
    fields = tuple(state.fields.values())
    cached = state.__dict__.get("_preview_targets")
    if cached is not None and len(cached[0]) == len(fields) and all(map(operator.is_, cached[0], fields)):
        return cached[1]
    targets = set()
    for field in fields:
        target = field.related_model if field.is_relation else None
        if isinstance(target, str) and target != RECURSIVE_RELATIONSHIP_CONSTANT:
            label, _, name = target.rpartition(".")
            targets.add((label or app_label, name.lower()))
    result = frozenset(targets)
    state.__dict__["_preview_targets"] = (fields, result)
    return result


def foreign_key_targets(state: ProjectState) -> dict[str, set[str]]:
    """Table -> the tables its foreign keys reference, as the state's tables are created (each
    foreign key field gets its constraint; relations to models outside the state are left out)."""
    tables = {key: model.options.get("db_table") or key[1] for key, model in dict.items(state.models)}
    return {
        tables[key]: {tables[target] for target in _targets(model, key[0]) if target in tables}
        for key, model in dict.items(state.models)
    }


class _PreviewApps(StateApps):
    """Django's StateApps whose cache clearing, while `expiring` names models, expires the
    relation caches of those models alone rather than of every model."""

    expiring: set[tuple[str, str]] | None = None

    def clear_cache(self) -> None:
        if self.expiring is None:
            super().clear_cache()
            return
        self.get_swappable_settings_name.cache_clear()
        self.get_models.cache_clear()
        if self.ready:
            for app_label, name in self.expiring:
                model = self.all_models[app_label].get(name) if app_label in self.all_models else None
                if model is not None:
                    model._meta._expire_cache()


def _clone_apps(apps: StateApps) -> StateApps:
    """StateApps.clone() with the registry copied shallowly: its deepcopy walks every model
    class only to return each class itself (classes are atomic to deepcopy)."""
    clone = _PreviewApps([], {})
    clone.all_models = defaultdict(dict, {label: dict(models) for label, models in apps.all_models.items()})
    for app_label in apps.app_configs:
        app_config = AppConfigStub(app_label)
        app_config.apps = clone
        app_config.import_models()
        clone.app_configs[app_label] = app_config
    clone.real_models = apps.real_models
    return clone


class _CopyOnAccess(dict[tuple[str, str], ModelState]):
    """A state's model states, shared with the states it was cloned from or to until one is
    looked up by key (which is how Django's state operations reach the model state they change):
    then that one is copied for this state alone. Migrations clone the whole state twice per
    operation; this copies the few model states an operation touches instead of all of them."""

    def __init__(self, shared: dict[tuple[str, str], ModelState]) -> None:
        super().__init__(shared)
        self.owned: set[tuple[str, str]] = set()

    def __getitem__(self, key: tuple[str, str]) -> ModelState:
        value = super().__getitem__(key)
        if key not in self.owned:
            value = _copy(value)
            super().__setitem__(key, value)
            self.owned.add(key)
        return value

    def __setitem__(self, key: tuple[str, str], value: ModelState) -> None:
        super().__setitem__(key, value)
        self.owned.add(key)


class PreviewState(ProjectState):
    """Django's ProjectState, re-rendering only a changed model and the models pointing at it.

    Applying a migration re-renders, after each operation, every model transitively related to
    the one it changed: on a schema whose tables are chained by foreign keys that is every
    model, every time (quadratic: 20,000 renders for a 200-table initial migration, most of a
    minute). The schema editor needs a model's own fields and its direct relations (the target
    column of a foreign key, the foreign keys pointing at a primary key), which this keeps
    current; the SQL is the same (tests compare it), and the sandbox proof applies it for real.
    Clones share model states until one is changed (see _CopyOnAccess).
    """

    # Models whose incoming foreign keys nothing will follow (see `lazily_pointed`): after a
    # change Django delays (no relational or referenced field changed), the models pointing at
    # one of these keep pointing at its previous class, which has the same key and table.
    lazily_pointed: frozenset[tuple[str, str]] = frozenset()

    def _find_reload_model(self, app_label: str, model_name: str, delay: bool = False) -> set[tuple[str, str]]:
        """The model and the models whose fields point at it (their foreign keys must reach the
        new class), unless `delay` and the model is `lazily_pointed`. Models it points at are not
        re-rendered: their relation caches are expired (see `_reload`) and rebuilt from the
        registry."""
        key = (app_label, model_name)
        related = {key}
        if delay and key in self.lazily_pointed:
            return related
        for other, state in dict.items(self.models):  # dict.items: looking must not copy
            if key in _targets(state, other[0]):
                related.add(other)
        return related

    @cached_property
    def apps(self) -> StateApps:  # type: ignore[override]  # Django's is a cached_property too
        return _PreviewApps(self.real_apps, self.models)

    def _reload(self, related_models: set[tuple[str, str]]) -> None:
        """Django's re-rendering of `related_models`, expiring afterwards only the caches that
        can have changed: the models re-rendered and those their foreign keys point at, before
        and after (their reverse relations name the re-rendered classes). Every other model's
        fields and relations are what they were; Django expires every model, twice per change."""
        apps = self.apps
        if not isinstance(apps, _PreviewApps):
            super()._reload(related_models)
            return
        expiring = set(related_models)
        for key in related_models:
            old = apps.all_models[key[0]].get(key[1]) if key[0] in apps.all_models else None
            if old is not None:
                for field in (*old._meta.local_fields, *old._meta.local_many_to_many):
                    target = field.related_model if field.is_relation else None
                    if target is not None and hasattr(target, "_meta"):
                        expiring.add((target._meta.app_label, target._meta.model_name))
            state = dict.get(self.models, key)  # dict.get: looking must not copy
            if state is not None:
                expiring |= _targets(state, key[0])
        apps.expiring = expiring
        try:
            super()._reload(related_models)
        finally:
            apps.expiring = None

    def clone(self) -> PreviewState:
        state = PreviewState(real_apps=self.real_apps)
        if not isinstance(self.models, _CopyOnAccess):
            self.models = _CopyOnAccess(self.models)
        self.models.owned.clear()  # from now on shared with the clone: each side copies before a change
        state.models = _CopyOnAccess(self.models)
        if "apps" in self.__dict__:
            state.apps = _clone_apps(self.apps)
        state.is_delayed = self.is_delayed
        state.lazily_pointed = self.lazily_pointed
        return state


def _field_target(field: models.Field[Any, Any], app_label: str) -> tuple[str, str] | None:
    """The model a state's field points at (see `_targets`), or None."""
    target = field.related_model if field.is_relation else None
    if not isinstance(target, str) or target == RECURSIVE_RELATIONSHIP_CONSTANT:
        return None
    label, _, name = target.rpartition(".")
    return (label or app_label, name.lower())


def _primary_key_name(model: ModelState) -> str:
    return next((name for name, field in model.fields.items() if getattr(field, "primary_key", False)), "id")


# Operations whose SQL stays on their own table (and the tables their new fields point at). A
# field operation does too unless another table's foreign key references the field: then the
# schema editor alters, drops or introspects that table's foreign key as well.
_OWN_TABLE = (
    migration_operations.AddField,
    migration_operations.AddIndex,
    migration_operations.RemoveIndex,
    migration_operations.RenameIndex,
    migration_operations.AddConstraint,
)
_OWN_TABLE_UNLESS_REFERENCED = (
    migration_operations.AlterField,
    migration_operations.RemoveField,
    migration_operations.RenameField,
)
# Operations that may reach every table whose foreign keys point at theirs (a dropped or renamed
# table, a dropped unique constraint a foreign key depends on, ...).
_REFERENCING_TABLES_TOO = (
    migration_operations.CreateModel,
    migration_operations.DeleteModel,
    migration_operations.AlterModelTable,
    migration_operations.AlterModelTableComment,
    migration_operations.AlterModelOptions,
    migration_operations.AlterModelManagers,
    migration_operations.AlterUniqueTogether,
    migration_operations.AlterIndexTogether,
    migration_operations.AlterOrderWithRespectTo,
)
_CONSTRAINT_CHANGES = (migration_operations.RemoveConstraint, migration_operations.AlterConstraint)


def models_reached(migration: Migration, state: ProjectState) -> set[tuple[str, str]] | None:
    """The models of `state` (the base revision's) whose tables the migration's SQL may reach:
    those its operations change, the models those point at (their foreign keys are created
    with them), the models the operations' new fields point at and, for an operation that can
    reach further (a referenced field altered, dropped or renamed; a table dropped or renamed; a
    constraint dropped), the models whose foreign keys point at the changed one. None, meaning
    all, when the migration holds an operation not listed here. The schema editor introspects
    only these tables, so creating only them gives the same SQL."""
    models = dict(dict.items(state.models))  # dict.items: looking must not copy
    referencing: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    referenced: dict[tuple[str, str], set[str]] = defaultdict(set)  # lower-case field names
    for key, model in models.items():
        for field in model.fields.values():
            target = _field_target(field, key[0])
            if target is None or target not in models:
                continue
            referencing[target].add(key)
            to_field = getattr(field.remote_field, "field_name", None) or _primary_key_name(models[target])
            referenced[target].add(to_field.lower())
    app_label = migration.app_label
    base_name: dict[str, str] = {}  # a model's name after a RenameModel -> its name in `state`

    def base_key(name_lower: str) -> tuple[str, str]:
        return (app_label, base_name.get(name_lower, name_lower))

    reached: set[tuple[str, str]] = set()
    for operation in migration.operations:
        fields: list[models.Field[Any, Any]] = []
        if isinstance(operation, migration_operations.RenameModel):
            key = base_key(operation.old_name_lower)
            base_name[operation.new_name_lower] = key[1]
            further = True
        elif isinstance(operation, _REFERENCING_TABLES_TOO):
            key = base_key(operation.name_lower)
            further = True
            if isinstance(operation, migration_operations.CreateModel):
                fields = [field for _, field in operation.fields]
        elif isinstance(operation, _CONSTRAINT_CHANGES):
            key = base_key(operation.model_name_lower)
            further = True
        elif isinstance(operation, _OWN_TABLE + _OWN_TABLE_UNLESS_REFERENCED):
            key = base_key(operation.model_name_lower)
            further = False
            if isinstance(operation, migration_operations.AddField | migration_operations.AlterField):
                fields = [operation.field]
            if isinstance(operation, migration_operations.RenameField):
                names = {operation.old_name_lower, operation.new_name_lower}
                further = bool(names & referenced[key])
                if operation.old_name_lower in referenced[key]:
                    referenced[key].add(operation.new_name_lower)
            elif isinstance(operation, _OWN_TABLE_UNLESS_REFERENCED):
                further = operation.name_lower in referenced[key]
        else:
            return None
        reached.add(key)
        for field in fields:
            target = _field_target(field, app_label)
            if target is not None:
                reached.add(base_key(target[1]) if target[0] == app_label else target)
        if key in models:
            reached |= _targets(models[key], key[0])
            if further:
                reached |= referencing[key]
    return {key for key in reached if key in models}


# Operations after which nothing follows a model's incoming foreign keys: the schema editor
# reads a model's reverse relations only to alter a primary key or unique column's type (and
# the foreign keys to it) or to rename the table (and the foreign keys to it).
_REVERSE_RELATIONS_UNREAD = (
    migration_operations.CreateModel,
    migration_operations.AddField,
    migration_operations.AddIndex,
    migration_operations.RemoveIndex,
    migration_operations.RenameIndex,
    migration_operations.AddConstraint,
    migration_operations.RemoveConstraint,
    migration_operations.AlterModelOptions,
    migration_operations.AlterModelTableComment,
)


def lazily_pointed(migration: Migration, state: ProjectState) -> frozenset[tuple[str, str]]:
    """The models of `migration` (walked from `state`) none of whose operations reads the
    foreign keys pointing at them: each operation on them is listed in
    `_REVERSE_RELATIONS_UNREAD`, or alters, removes or renames a field that is not sensitive:
    not `id`, not a primary key (or part of one), not unique, not the column a foreign key
    names, in `state` or as the operations make it. Their reverse relations may then stay those
    of an earlier class (see PreviewState.lazily_pointed). Empty when the migration holds an
    operation not considered here (a renamed model among them)."""
    app_label = migration.app_label
    sensitive: dict[tuple[str, str], set[str]] = defaultdict(lambda: {"id"})  # lower-case field names

    def mark(key: tuple[str, str], name: str, field: models.Field[Any, Any]) -> None:
        if getattr(field, "primary_key", False) or getattr(field, "unique", False):
            sensitive[key].add(name.lower())
            sensitive[key].update(n.lower() for n in getattr(field, "field_names", ()))
        target = _field_target(field, key[0])
        to_field = getattr(field.remote_field, "field_name", None) if target is not None else None
        if target is not None and to_field:
            sensitive[target].add(to_field.lower())

    for key, model in dict.items(state.models):  # dict.items: looking must not copy
        for name, field in model.fields.items():
            mark(key, name, field)
    for operation in migration.operations:
        if isinstance(operation, migration_operations.CreateModel):
            for name, field in operation.fields:
                mark((app_label, operation.name_lower), name, field)
        elif isinstance(operation, migration_operations.AddField | migration_operations.AlterField):
            mark((app_label, operation.model_name_lower), operation.name, operation.field)
    reading: set[tuple[str, str]] = set()
    changed: set[tuple[str, str]] = set()
    for operation in migration.operations:
        if isinstance(operation, _REVERSE_RELATIONS_UNREAD):
            name = getattr(operation, "model_name_lower", None) or operation.name_lower
            key = (app_label, name)
        elif isinstance(operation, migration_operations.AlterField | migration_operations.RemoveField):
            key = (app_label, operation.model_name_lower)
            if operation.name_lower in sensitive[key]:
                reading.add(key)
        elif isinstance(operation, migration_operations.RenameField):
            key = (app_label, operation.model_name_lower)
            if operation.old_name_lower in sensitive[key] or operation.new_name_lower in sensitive[key]:
                reading.add(key)
                sensitive[key].update((operation.old_name_lower, operation.new_name_lower))
        else:
            return frozenset()
        changed.add(key)
    return frozenset(changed - reading)


@dataclass(frozen=True)
class Conversion:
    state: ProjectState
    notes: tuple[str, ...]  # what Django cannot represent exactly (char(n), partial indexes, ...)


def project_state(model: DesignModel) -> Conversion:
    """The design's tables as a ProjectState of one app, `design`."""
    state = PreviewState()
    notes: list[str] = []
    names = {e.name: model_name(e.name) for e in model.entities}
    entities = {e.name: e for e in model.entities}
    for entity in model.entities:
        notes.extend(entity.left_out)
        if entity.schema:
            notes.append(
                f"{entity.schema}.{entity.name}: previewed in the sandbox's own schema, as {entity.name}: "
                "the migration names no schema (Django's db_table is one name)"
            )
        state.add_model(_model_state(_writable_comments(entity, notes), names, notes, entities))
    if any(e.foreign_keys for e in model.entities):
        notes.append(
            "Foreign keys are previewed DEFERRABLE INITIALLY DEFERRED, as Django always creates them on PostgreSQL: "
            "rows are checked at commit, not after each statement as the design's own (not deferrable) foreign keys are"
        )
    return Conversion(state=state, notes=tuple(notes))


def _on_delete(fk: ForeignKey, table: str, notes: list[str]) -> Any:
    """Django's database-level on_delete for the foreign key's ON DELETE, and a note for what
    Django cannot write (ON UPDATE, RESTRICT)."""
    shown = f"{table} ({', '.join(fk.columns)}) -> {fk.ref_table}"
    if fk.on_update != "NO ACTION":
        notes.append(
            f"{shown}: ON UPDATE {fk.on_update} is not previewed: Django writes no ON UPDATE action, "
            "so the preview's foreign key has PostgreSQL's default (NO ACTION)"
        )
    if fk.on_delete == "RESTRICT":
        notes.append(
            f"{shown}: ON DELETE RESTRICT is previewed as NO ACTION (on_delete=DO_NOTHING): Django 6.1 has no "
            "database-level RESTRICT (models.RESTRICT and PROTECT act in Python only); both refuse to delete a "
            "referenced row, NO ACTION at the end of the statement (or, deferred, of the transaction)"
        )
    return _ON_DELETE.get(fk.on_delete, models.DO_NOTHING)


def _writable_comments(entity: Entity, notes: list[str]) -> Entity:
    """The entity without the column comments holding `%`: Django's schema editor passes a
    comment among its statement's parameters, where `%` is a placeholder (noted)."""
    if not any(c.comment and "%" in c.comment for c in entity.columns):
        return entity
    for column in entity.columns:
        if column.comment and "%" in column.comment:
            notes.append(
                f"{entity.name}.{column.name}: its comment holds `%`, which Django's schema editor takes as a "
                "placeholder: the comment is left out of the preview"
            )
    columns = tuple(replace(c, comment=None) if c.comment and "%" in c.comment else c for c in entity.columns)
    return replace(entity, columns=columns)


def _single_key(entity: Entity) -> str | None:
    return entity.primary_key[0] if len(entity.primary_key) == 1 else None


def _usable_foreign_keys(
    entity: Entity, entities: dict[str, Entity], names: dict[str, str], notes: list[str]
) -> dict[str, ForeignKey]:
    """Column -> the foreign key Django can reproduce as a ForeignKey: one column, to a table of
    the design with a one-column primary key, referencing that key or a column unique on its own.
    A note says what is left out for each of the others."""
    usable: dict[str, ForeignKey] = {}
    for fk in entity.foreign_keys:
        shown = f"{entity.name} ({', '.join(fk.columns)}) -> {fk.ref_table} ({', '.join(fk.ref_columns)})"
        target = entities.get(fk.ref_table)
        why = ""
        if len(fk.columns) != 1:
            why = "Django has no multi-column foreign key constraint (ForeignObject creates none)"
        elif target is None or fk.ref_table not in names:
            why = f"{fk.ref_table} is not a table of the design"
        elif _single_key(target) is None:
            why = f"{fk.ref_table} has {'a composite' if target.primary_key else 'no'} primary key, which a Django ForeignKey cannot reference"
        elif fk.ref_columns[0] != _single_key(target) and not any(
            u.columns == fk.ref_columns and u.where is None for u in target.uniques
        ):
            why = f"{fk.ref_table}.{fk.ref_columns[0]} is neither its primary key nor unique on its own"
        elif fk.columns[0] in usable:
            why = f"{entity.name}.{fk.columns[0]} already has a foreign key; Django keeps one per column"
        if why:
            notes.append(f"{shown}: the foreign key is not previewed ({why}); its columns are plain columns")
            continue
        usable[fk.columns[0]] = fk
    return usable


def _model_state(
    entity: Entity, names: dict[str, str], notes: list[str], entities: dict[str, Entity] | None = None
) -> ModelState:
    entities = entities if entities is not None else {entity.name: entity}
    fk_by_column = _usable_foreign_keys(entity, entities, names, notes)
    single_unique = {
        u.columns[0] for u in entity.uniques if len(u.columns) == 1 and u.where is None and u.nulls_distinct
    }
    fields: list[tuple[str, models.Field[Any, Any]]] = []
    field_names: dict[str, str] = {}
    if not entity.primary_key:
        notes.append(
            f"{entity.name}: the table has no primary key; Django's model needs one, so the preview adds "
            "`id bigint` GENERATED BY DEFAULT AS IDENTITY as its primary key"
        )
    for column in entity.columns:
        primary = entity.primary_key == (column.name,)
        fk = fk_by_column.get(column.name)
        if fk is not None:
            target = entities[fk.ref_table]
            name = column.name.removesuffix("_id") if column.name.endswith("_id") else f"{column.name}_ref"
            extra: dict[str, Any] = {} if name + "_id" == column.name else {"db_column": column.name}
            if fk.ref_columns[0] != _single_key(target):
                extra["to_field"] = fk.ref_columns[0]
            default = _db_default(column)
            if default is not models.NOT_PROVIDED:
                extra["db_default"] = default
            if primary:
                extra["primary_key"] = True
            if column.comment:
                extra["db_comment"] = column.comment
            field: models.Field[Any, Any] = models.ForeignKey(
                f"{APP_LABEL}.{names[fk.ref_table]}",
                on_delete=_on_delete(fk, entity.name, notes),
                **extra,
                db_index=False,  # the design lists its indexes; Django's implicit one would hide a missing index
                null=column.nullable,
                related_name="+",
                db_constraint=True,
                unique=column.name in single_unique and not primary,
            )
        else:
            name = column.name
            field = _field(
                column,
                primary=primary,
                unique=column.name in single_unique and not primary,
                notes=notes,
                table=entity.name,
            )
        if column.type.startswith("char(") and not column.type.startswith("char(1)"):
            notes.append(
                f"{entity.name}.{column.name}: char(n) is previewed as varchar(n); Django has no fixed-width char field"
            )
        fields.append((name, field))
        field_names[column.name] = name
    if len(entity.primary_key) > 1:
        if all(c in field_names for c in entity.primary_key):
            fields.append(("pk", models.CompositePrimaryKey(*(field_names[c] for c in entity.primary_key))))
        else:
            notes.append(f"{entity.name}: the primary key names a column the table does not have; it is left out")
    constraints: list[models.BaseConstraint] = []
    for column in entity.columns:
        if column.values and column.name in field_names:
            constraints.append(
                models.CheckConstraint(
                    condition=models.Q(**{f"{field_names[column.name]}__in": list(column.values)}),
                    name=_short_name(entity.name, column.name, suffix="enum"),
                )
            )
            notes.append(
                f"{entity.name}.{column.name}: enum type {column.type} is previewed as text with a CHECK on its labels "
                f"({', '.join(column.values)}): Django has no PostgreSQL enum type"
            )
    for unique in entity.uniques:
        if len(unique.columns) > 1 or unique.where is not None or not unique.nulls_distinct:
            if not all(c in field_names for c in unique.columns):
                notes.append(f"{entity.name}: unique ({', '.join(unique.columns)}) names a missing column; left out")
                continue
            constraints.append(
                models.UniqueConstraint(
                    fields=[field_names[c] for c in unique.columns],
                    name=unique.name or _short_name(entity.name, *unique.columns, suffix="uniq"),
                    **({"condition": _condition(unique.where)} if unique.where is not None else {}),
                    **({} if unique.nulls_distinct else {"nulls_distinct": False}),
                )
            )
    for check in entity.checks:
        # The design's own SQL expression (read and re-printed by PostgreSQL's grammar and passed
        # by the parser's allow-list, never executed here); `%` travels as a mark (backend.base).
        constraints.append(
            models.CheckConstraint(
                condition=RawSQL(  # noqa: S611 - allow-listed by the parser; runs only in the sandbox
                    carry_percent(check.expression), [], output_field=models.BooleanField()
                ),
                name=check.name
                or _short_name(entity.name, re.sub(r"\W+", "_", check.expression).strip("_"), suffix="check"),
            )
        )
    indexes = []
    for index in entity.indexes:
        kind = models.Index if index.method == "btree" else _INDEX_METHODS.get(index.method)
        if kind is None:
            notes.append(
                f"{entity.name}: index on ({', '.join(index.columns)}) USING {index.method} is not previewed: "
                "Django has no index class for that method"
            )
            continue
        name = index.name or _short_name(entity.name, *index.columns, suffix="idx")
        condition = {"condition": _condition(index.where)} if index.where is not None else {}
        if index.unique:
            # An expression unique index (a plain-column one is a unique constraint).
            notes.append(
                f"{entity.name}: unique index on ({', '.join(index.columns)}) is previewed as a plain index: "
                "Django writes a unique index only on columns (UniqueConstraint)"
            )
        if all(c in field_names for c in index.columns):
            indexes.append(kind(fields=[field_names[c] for c in index.columns], name=name, **condition))
        else:
            # Expressions, allow-listed by the parser; `%` travels as a mark (backend.base).
            parts = [field_names.get(c) or RawSQL(carry_percent(c), []) for c in index.columns]  # noqa: S611 - allow-listed by the parser
            indexes.append(kind(*(models.F(p) if isinstance(p, str) else p for p in parts), name=name, **condition))
    return ModelState(
        APP_LABEL,
        names[entity.name],
        fields,
        options={"db_table": entity.name, "constraints": constraints, "indexes": indexes, "managed": True},
    )


class _Questioner(MigrationQuestioner):
    """Answers the autodetector the way a preview should: renames as configured, and NOT NULL
    additions without a default left as they are (the safety review then says what that costs)."""

    def __init__(self, *, detect_renames: bool) -> None:
        super().__init__(defaults={"ask_rename": detect_renames, "ask_rename_model": detect_renames})

    def ask_initial(self, app_label: str) -> bool:
        return True  # the previewed app has no migrations of its own: the first one is wanted

    def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
        return models.NOT_PROVIDED

    def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
        return models.NOT_PROVIDED


def migration_between(
    base: DesignModel | None, new: DesignModel, *, detect_renames: bool = True, name: str = "preview"
) -> Migration | None:
    """Django's migration from `base` (or nothing) to `new`; None when they are the same."""
    from_state = project_state(base).state if base is not None else PreviewState()
    return migration_between_states(from_state, project_state(new).state, detect_renames=detect_renames, name=name)


def migration_between_states(
    from_state: ProjectState, to_state: ProjectState, *, detect_renames: bool = True, name: str = "preview"
) -> Migration | None:
    """`migration_between` for states already converted. The autodetector is given clones (it
    pops the options of the model states it deletes or creates), so the states stay as they
    were and can serve other readers afterwards; not a migration's walk, whose state
    operations edit fields shared with the state they were cloned from."""
    changes = MigrationAutodetector(
        from_state.clone(), to_state.clone(), _Questioner(detect_renames=detect_renames)
    ).changes(graph=MigrationGraph(), migration_name=name)
    migrations = changes.get(APP_LABEL, [])
    if not migrations:
        return None
    migration = migrations[0]
    migration.operations = _same_column_kept(migration.operations, from_state)
    return migration


def _column(name: str, field: models.Field[Any, Any]) -> str:
    if field.db_column:
        return str(field.db_column)
    return f"{name}_id" if isinstance(field, models.ForeignKey) else name


def _same_column_kept(operations: list[Any], before: ProjectState) -> list[Any]:
    """A column that gains or loses a foreign key keeps its name, but its field does not (`customer`
    for the foreign key, `customer_id` for the plain column): the autodetector then removes one
    field and adds the other, and adding comes first, so the SQL adds a column that is already
    there. Such a pair becomes: the old field given its column explicitly (no SQL), renamed (the
    column stays as it is: no SQL), then altered into the new field, which adds or drops the
    constraint, as the design means."""
    from django.db.migrations import operations as ops

    removed = {
        (op.model_name_lower, op.name_lower): index
        for index, op in enumerate(operations)
        if isinstance(op, ops.RemoveField)
    }
    pairs: dict[int, int] = {}  # AddField's index -> the RemoveField's index it pairs with
    for index, op in enumerate(operations):
        if not isinstance(op, ops.AddField):
            continue
        column = _column(op.name, op.field)
        # The field that held the column before: named after the column (a plain field), or a
        # foreign key whose column it is (`customer` for customer_id, `code_ref` for code).
        for old_name in sorted({column, column.removesuffix("_id"), f"{column}_ref"} - {op.name}):
            found = removed.get((op.model_name_lower, old_name.lower()))
            if found is not None and found not in pairs.values():
                pairs[index] = found
                break
    if not pairs:
        return operations
    result: list[Any] = []
    for index, op in enumerate(operations):
        if index in pairs.values():
            continue
        if index in pairs:
            old = operations[pairs[index]]
            old_field = before.models[(APP_LABEL, op.model_name_lower)].fields[old.name]
            _, _, args, kwargs = old_field.deconstruct()
            kwargs["db_column"] = _column(old.name, old_field)
            result += [
                ops.AlterField(op.model_name, old.name, type(old_field)(*args, **kwargs)),
                ops.RenameField(op.model_name, old.name, op.name),
                ops.AlterField(op.model_name, op.name, op.field),
            ]
        else:
            result.append(op)
    return result
