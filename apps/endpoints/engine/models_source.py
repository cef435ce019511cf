"""models.py and the initial migration from the migration preview's model states.

The preview's states name fields after the design's columns; a column or table whose name is
not a safe Python identifier is renamed here (the column kept through `db_column`, the table
through `db_table`), in the states both files are written from, so the two never disagree and
the database schema is the preview's. Django is imported on use: the engine module loads without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apps.designs.engine.model import DesignModel
from apps.endpoints.engine.code import INDENT, Printer, block
from apps.endpoints.engine.names import MODEL_ATTRIBUTES, Names, Renamed

APP_LABEL = "design"  # the preview's app label, which its relations name
# Names models.py imports besides the models: never given to a model class.
_IMPORTED = ("models", "Now", "RawSQL", "ArrayField", "GinIndex", "GistIndex", "BrinIndex", "HashIndex", "SpGistIndex")


@dataclass(frozen=True)
class FieldInfo:
    name: str  # the field's attribute in models.py
    column: str
    relation: str | None  # the table a foreign key points at
    primary: bool
    nullable: bool
    has_default: bool
    kind: str  # the Django field class name
    example: str | None = None  # source of a value the column accepts, for synthetic rows


@dataclass(frozen=True)
class ModelInfo:
    table: str
    class_name: str
    fields: tuple[FieldInfo, ...]

    def by_column(self, column: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.column == column), None)

    def by_name(self, name: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class ModelsSource:
    models: dict[str, ModelInfo]  # table -> model
    source: str  # models.py without its header
    migration: str  # migrations/0001_initial.py without its header
    notes: tuple[str, ...]
    renamed: tuple[Renamed, ...]


def models_source(model: DesignModel) -> ModelsSource:
    from django.db import models
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.graph import MigrationGraph
    from django.db.migrations.state import ModelState, ProjectState

    from apps.migrations_preview.engine.states import project_state
    from apps.migrations_preview.engine.writer import migration_source, percent_marks_as_sql

    conversion = project_state(model)
    states = [conversion.state.models[key] for key in conversion.state.models]
    tables = {state.name_lower: state.options.get("db_table") or state.name for state in states}
    module = Names("models.py")
    module.reserve(*_IMPORTED)
    class_names = {
        state.name_lower: module.claim(state.name, style="camel", fallback="Table", record=False) for state in states
    }
    renamed: list[Renamed] = [
        Renamed(
            "models.py",
            state.options.get("db_table") or state.name,
            class_names[state.name_lower],
            "written as a Python class name",
        )
        for state in states
        if class_names[state.name_lower] != state.name
    ]
    infos: dict[str, ModelInfo] = {}
    seen_names: set[str] = set()  # constraint and index names, which Django wants unique across models
    extra_notes: list[str] = []
    new_states = []
    for state in states:
        scope = Names(class_names[state.name_lower], module_level=False, reserved=MODEL_ATTRIBUTES)
        field_names: dict[str, str] = {}
        fields: list[tuple[str, Any]] = []
        info_fields = []
        for name, field in state.fields.items():
            is_fk = isinstance(field, models.ForeignKey)
            column = field.db_column or (f"{name}_id" if is_fk else name)
            if isinstance(field, models.CompositePrimaryKey):
                new_name = "pk"  # Django requires this name of a composite primary key
                scope.reserve("pk")
            else:
                new_name = scope.claim(name, fallback="column", keep=True)
            field_names[name] = new_name
            _, _path, args, kwargs = field.deconstruct()
            if new_name != name and not isinstance(field, models.CompositePrimaryKey):
                kwargs["db_column"] = column
            if "to" in kwargs:
                label, _, target = str(kwargs["to"]).rpartition(".")
                kwargs["to"] = f"{label}.{class_names.get(target.lower(), target)}"
            if isinstance(field, models.CompositePrimaryKey):
                args = [field_names.get(a, a) for a in args]
            if kwargs.get("primary_key"):
                # What Django sets on a model's primary key when the class is built: without it
                # `makemigrations --check` on the generated project would find a change.
                kwargs["serialize"] = False
            rebuilt = type(field)(*args, **kwargs)
            fields.append((new_name, rebuilt))
            relation = tables.get(str(field.related_model).rpartition(".")[2].lower()) if is_fk else None
            if is_fk and not isinstance(field.related_model, str):
                relation = field.related_model._meta.db_table
            info_fields.append(
                FieldInfo(
                    name=new_name,
                    column=column,
                    relation=relation,
                    primary=bool(getattr(field, "primary_key", False)),
                    nullable=bool(getattr(field, "null", False)),
                    has_default=field.has_db_default() or field.has_default(),
                    kind=type(field).__name__,
                    example=_example(field),
                )
            )
        renamed += scope.renamed
        # `managed` is Django's default: written in the migration only, it would differ from models.py.
        options = {k: v for k, v in state.options.items() if k != "managed"}
        options["constraints"] = [
            _unique_name(_renamed(c, field_names), tables[state.name_lower], seen_names, extra_notes)
            for c in options.get("constraints", [])
        ]
        options["indexes"] = [
            _unique_name(_renamed(i, field_names), tables[state.name_lower], seen_names, extra_notes)
            for i in options.get("indexes", [])
        ]
        new_states.append(ModelState(APP_LABEL, class_names[state.name_lower], fields, options=options))
        table = tables[state.name_lower]
        infos[table] = ModelInfo(table, class_names[state.name_lower], tuple(info_fields))

    printer = Printer()
    classes = [_model_class(state, printer) for state in new_states]
    imports = sorted(["from django.db import models", *printer.import_lines()], key=lambda line: line.split()[1])
    source = percent_marks_as_sql("\n".join(imports) + "\n\n\n" + "\n\n\n".join(classes) + "\n") if classes else ""

    to_state = ProjectState()
    for state in new_states:
        to_state.add_model(state)
    questioner = _initial_questioner(defaults={"ask_rename": False, "ask_rename_model": False})
    changes = MigrationAutodetector(ProjectState(), to_state, questioner).changes(
        graph=MigrationGraph(), migration_name="initial"
    )
    migrations = changes.get(APP_LABEL, [])
    migration = ""
    if migrations:
        written = migration_source(migrations[0])
        migration = "\n".join(line for line in written.split("\n") if not line.startswith("# Generated by Django"))
        migration = migration.lstrip("\n")
    return ModelsSource(infos, source, migration, (*conversion.notes, *extra_notes), tuple(renamed))


_EXAMPLES = {
    "CharField": '"x"',
    "TextField": '"x"',
    "EmailField": '"row@example.com"',
    "SlugField": '"x"',
    "URLField": '"https://example.com/"',
    "IntegerField": "1",
    "BigIntegerField": "1",
    "SmallIntegerField": "1",
    "PositiveIntegerField": "1",
    "BooleanField": "False",
    "FloatField": "1.0",
    "DecimalField": 'decimal.Decimal("1")',
    "DateField": "datetime.date(2026, 1, 1)",
    "DateTimeField": "datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)",
    "TimeField": "datetime.time(0, 0)",
    "DurationField": "datetime.timedelta(0)",
    "UUIDField": "uuid.UUID(int=1)",
    "JSONField": "{}",
    "ArrayField": "[]",
    "BinaryField": 'b""',
    "GenericIPAddressField": '"127.0.0.1"',
}


def _example(field: Any) -> str | None:
    """Source of a value `field` accepts (its first choice when it has choices), or None."""
    from apps.endpoints.engine.names import literal

    choices = getattr(field, "choices", None)
    if choices:
        first = choices[0][0]
        return literal(first) if isinstance(first, str) else repr(first) if isinstance(first, int) else None
    return _EXAMPLES.get(type(field).__name__)


_MAX_INDEX_NAME = 30  # Django's models.E034


def _unique_name(item: Any, table: str, seen: set[str], notes: list[str]) -> Any:
    """The constraint or index, renamed when another table's already has its name: PostgreSQL
    scopes a CHECK's name to its table, Django wants every name unique (models.E032/E030)."""
    import hashlib

    from django.db import models
    from django.utils.module_loading import import_string

    name = item.name
    too_long = isinstance(item, models.Index) and len(name) > _MAX_INDEX_NAME
    if name not in seen and not too_long:
        seen.add(name)
        return item
    digest = hashlib.sha256(f"{table}\x1f{name}".encode("utf-8", errors="surrogatepass")).hexdigest()[:6]
    new = f"{name[:22]}_{digest}"
    while new in seen:
        digest = hashlib.sha256(new.encode()).hexdigest()[:6]
        new = f"{name[:22]}_{digest}"
    seen.add(new)
    why = (
        f"Django's index names are at most {_MAX_INDEX_NAME} characters"
        if too_long
        else "Django wants constraint and index names unique"
    )
    notes.append(f"{table}: {name} is named {new} in the generated app: {why}")
    path, args, kwargs = item.deconstruct()
    kwargs["name"] = new
    return import_string(path)(*args, **kwargs)


def _renamed(item: Any, field_names: dict[str, str]) -> Any:
    """A constraint or index naming fields by their new names (unchanged when none was renamed)."""
    if all(old == new for old, new in field_names.items()):
        return item
    from django.db import models
    from django.utils.module_loading import import_string

    path, args, kwargs = item.deconstruct()
    if "fields" in kwargs:
        kwargs["fields"] = [field_names.get(f, f) for f in kwargs["fields"]]
    args = [models.F(field_names.get(a.name, a.name)) if isinstance(a, models.F) else a for a in args]
    if isinstance(kwargs.get("condition"), models.Q):
        kwargs["condition"] = _renamed_q(kwargs["condition"], field_names)
    return import_string(path)(*args, **kwargs)


def _renamed_q(q: Any, field_names: dict[str, str]) -> Any:
    from django.db import models

    children = []
    for child in q.children:
        if isinstance(child, models.Q):
            children.append(_renamed_q(child, field_names))
        elif isinstance(child, tuple):
            head, sep, rest = child[0].partition("__")
            children.append((field_names.get(head, head) + sep + rest, child[1]))
        else:
            children.append(child)
    copy = models.Q(*children, _connector=q.connector, _negated=q.negated)
    return copy


def _model_class(state: Any, printer: Printer) -> str:
    lines = [f"class {state.name}(models.Model):"]
    for name, field in state.fields.items():
        lines.append(f"{INDENT}{name} = {block(printer.value(field), 1)}")
    meta = [f"{INDENT * 2}db_table = {printer.value(state.options.get('db_table') or state.name_lower)}"]
    for option in ("constraints", "indexes"):
        if state.options.get(option):
            meta.append(f"{INDENT * 2}{option} = {block(printer.value(list(state.options[option])), 2)}")
    lines += ["", f"{INDENT}class Meta:", *meta, "", f"{INDENT}def __str__(self):", f"{INDENT * 2}return str(self.pk)"]
    return "\n".join(lines)


def _initial_questioner(**kwargs: Any) -> Any:
    """The autodetector's questioner for a first migration (no question is ever asked)."""
    from django.db.migrations.questioner import MigrationQuestioner

    class Questioner(MigrationQuestioner):
        def ask_initial(self, app_label: str) -> bool:
            return True

    return Questioner(**kwargs)
