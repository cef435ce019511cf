"""tests/test_contract.py of the generated app: one test per operation, calling it through DRF's
test client and checking the status code and the response's shape against the spec."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apps.endpoints.engine.code import INDENT, call, mapping, sequence, tuple_of
from apps.endpoints.engine.names import Names, literal
from apps.endpoints.engine.schemas import Pointers, ref_name, types_of

_EXAMPLE_DEPTH = 3  # nested objects deeper than this are left out of an example body


_AUTO = {"AutoField", "BigAutoField", "SmallAutoField", "CompositePrimaryKey"}
# Lines and literals every test may write, written once.
_NOT_IMPLEMENTED_XFAIL = (
    "@pytest.mark.xfail(reason="
    + literal("no table backs this operation: it answers 501 until written")
    + ", strict=True)"
)
_JSON = literal("json")
_ARRAY, _OBJECT = literal("array"), literal("object")


def contract_tests(
    planned: list[tuple[Any, str]],
    data: Mapping[str, Any],
    app: str,
    models: Mapping[str, Any] | None = None,
    owner_table: str | None = None,
    names: list[str] | None = None,
    pointers: Pointers | None = None,
) -> str:
    """The test module: helpers, the synthetic rows' values, and one test per operation (`names`:
    contract_test_names(planned), when the caller has them already; `pointers`: the generation's
    resolver of `data`'s pointers, when it has one)."""
    from apps.endpoints.engine.generate import enforces_object_level

    models = models or {}
    pointers = pointers or Pointers(data)
    examples: dict[str, str] = {}
    example_of = _Examples(pointers)
    # Lines many tests share, written once: the shape check of a (status, shape), the client of a
    # (public, roles).
    shape_checks: dict[tuple[int, tuple[str, str]], str] = {}
    shape_of: dict[int, tuple[str, str] | None] = {}  # id(a schema of `data`) -> _shape(it)
    urls: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    requests: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}  # the call's source by its arguments
    status_checks: dict[tuple[int, ...], str] = {}
    clients: dict[tuple[bool, tuple[str, ...]], str] = {}
    tests = []
    main_names = names if names is not None else contract_test_names(planned)
    extra_names = Names("test_contract.py cross-caller")
    extra_names.reserve(*main_names, *_MODULE_NAMES)
    for (op, _label), name in zip(planned, main_names, strict=True):
        endpoint = op.endpoint
        rows: list[str] = []  # statements making the synthetic rows the call needs
        row_of = _rows_for_kwargs(op, models, owner_table)
        values = _path_values(op, row_of, "user", example_of.literal)
        url_key = (endpoint.full_path, tuple(values))  # the operations on one path share it
        if url_key not in urls:
            urls[url_key] = (
                call("fill", (literal(endpoint.full_path), mapping(values))) if values else literal(endpoint.full_path)
            )
        url = urls[url_key]
        if op.model is not None and op.action == "list":
            rows.append(f"    make_rows(user, {literal(op.model.class_name)}, made, ITEMS)")
        elif op.model is not None and op.action in {"retrieve", "update", "partial_update", "destroy"}:
            rows.append(f"    make_row(user, {literal(op.model.class_name)}, made)")
        # The documented statuses, whether `default` is one, and each status's shape: one pass.
        codes: set[int] = set()
        documented_default = False
        shapes: dict[int, tuple[str, str] | None] = {}
        for response in endpoint.responses:
            if not response.status.isdigit():
                documented_default = documented_default or response.status == "default"
                continue
            code = int(response.status)
            codes.add(code)
            if response.body and response.body.schema_pointer:
                schema = pointers.deref(pointers.resolve(response.body.schema_pointer))
                if id(schema) not in shape_of:  # many responses return the same component schema
                    shape_of[id(schema)] = _shape(schema)
                shapes[code] = shape_of[id(schema)]
        statuses = sorted(codes)
        body: str | None = None
        if endpoint.request_body and endpoint.request_body.schema_pointer:
            written = pointers.resolve(endpoint.request_body.schema_pointer)
            shared = ref_name(written)
            if shared is not None:
                # One example per component schema, shared by the operations sending it.
                if shared not in examples:
                    examples[shared] = example_of.body(written)
                body = f"EXAMPLES[{literal(shared)}]"
            else:
                body = example_of.body(written)
        # Header names from the paste are string literals (Django's `headers=`), never keyword names.
        headers = {
            param.name: "contract-test-1"
            for param in endpoint.parameters
            if param.location == "header" and param.required
        }
        if op.action == "receive":
            tests += _receiver_tests(op, name, url, body or "{}", headers, statuses, extra_names)
            continue
        lines = []
        if op.action == "not_implemented":
            lines.append(_NOT_IMPLEMENTED_XFAIL)
        elif op.action == "create" and op.server_set:
            why = f"the view's server_values() must set {', '.join(op.server_set)}: it answers 501 until written"
            lines.append(f"@pytest.mark.xfail(\n    reason={literal(why)},\n    strict=True,\n)")
        lines.append(f"def {name}(django_user_model):")
        uses_rows = bool(rows) or "make_row(" in url
        client = (bool(op.public), tuple(op.roles))
        if client not in clients:
            clients[client] = _nest(
                call(
                    "client_for",
                    ("django_user_model",),
                    [("public", repr(client[0])), ("roles", _tuple(literal(r) for r in op.roles))],
                )
            )
        lines.append(("    user, client = " if uses_rows else "    _, client = ") + clients[client])
        request_kwargs = [("format", _JSON)]
        if body is not None:
            request_kwargs.insert(0, ("data", body))
        if headers:
            request_kwargs.append(("headers", mapping((literal(k), literal(v)) for k, v in headers.items())))
        method = endpoint.method.lower()
        if uses_rows:
            lines.append("    made = {}")
        lines += rows
        lines.append(f"    url = {_nest(url)}")
        request_key = (method, tuple(request_kwargs))
        if request_key not in requests:
            requests[request_key] = _nest(call(f"client.{method}", ("url",), request_kwargs))
        request = requests[request_key]
        lines.append(f"    response = {request}")
        # The call is a valid request on existing rows: it must succeed as documented (an error
        # status the spec also lists, a 400 for the example, is no pass).
        success = [status for status in statuses if 200 <= status < 300]
        expected = success or (statuses if statuses and not documented_default else [])
        if expected:
            if tuple(expected) not in status_checks:
                status_checks[tuple(expected)] = (
                    f"    assert response.status_code in {_nest(_tuple(str(s) for s in expected))}"
                )
            lines.append(status_checks[tuple(expected)])
        else:  # any status is documented (`default`): at least no server error
            lines.append("    assert response.status_code < 500")
        for status, shape in sorted(shapes.items()):
            if shape is not None:
                if (status, shape) not in shape_checks:
                    shape_checks[status, shape] = f"    if response.status_code == {status}:\n        " + _nest(
                        _nest(call("check_shape", ("response.json()", *shape)))
                    )
                lines.append(shape_checks[status, shape])
        tests.append("\n".join(lines))
        if row_of and enforces_object_level(op) and op.action != "not_implemented" and not op.server_set:
            # The same call on another caller's rows: the object-level check, proved.
            other = extra_names.claim(f"{name} of another caller", record=False)
            foreign_url = call("fill", (literal(endpoint.full_path), mapping(_path_values(op, row_of, "other"))))
            tests.append(
                "\n".join(
                    [
                        f"def {other}(django_user_model):",
                        '    """Another caller\'s rows are not found: the object-level check."""',
                        "    _, client = "
                        + _nest(
                            call(
                                "client_for",
                                ("django_user_model",),
                                [("public", "False"), ("roles", _tuple(literal(r) for r in op.roles))],
                            )
                        ),
                        '    other = django_user_model.objects.create_user(username="other")',
                        "    made = {}",
                        f"    url = {_nest(foreign_url)}",
                        f"    response = {request}",
                        "    assert response.status_code == 404",
                    ]
                )
            )
    head = '''import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import DatabaseError, transaction
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with no throttle counts and no remembered idempotency keys."""
    cache.clear()


def client_for(user_model, *, public, roles):
    """(user, client) as the operation's caller: anonymous for a public one, else a user in `roles`."""
    client = APIClient()
    user = None
    if not public:
        # No password: the client is authenticated directly, and hashing one costs most of a test.
        user = user_model.objects.create_user(username="contract")
        for role in roles:
            user.groups.add(Group.objects.get_or_create(name=role)[0])
        client.force_authenticate(user=user)
    return user, client


def fill(template, values):
    """The path with each `{parameter}` replaced by its value."""
    for name, value in values.items():
        template = template.replace(name, str(value))
    return template


def make_row(user, name, made):
    """A row of the model `name` with its required columns and parents, each made once per test;
    the owner's row is the caller's own (its id is the user's)."""
    if name not in made:
        made[name] = None  # a cycle of required foreign keys stops here
        values = dict(REQUIRED.get(name, {}))
        for field, parent in PARENTS.get(name, {}).items():
            values[field] = make_row(user, parent, made)
        if name == OWNER and user is not None:
            values["pk"] = user.pk
        made[name] = apps.get_model("design", name).objects.create(**values)
    return made[name]


def make_rows(user, name, made, count):
    """Up to `count` rows of the model `name` for a list to show: make_row's, and copies of it with
    their unique columns changed (the proof counts a list's queries for one row and for several).
    Copies stop at the first the table refuses (a unique key of foreign keys only, an expression
    index): the list then shows fewer rows, which the proof sees."""
    first = make_row(user, name, made)
    model = apps.get_model("design", name)
    unique = {f.name for f in model._meta.concrete_fields if f.unique and not f.auto_created}
    for constraint in model._meta.total_unique_constraints:
        plain = [f for f in constraint.fields if not model._meta.get_field(f).is_relation]
        if not plain:
            return  # only foreign keys to vary: copies would need parents of their own
        unique.add(plain[0])
    if any(model._meta.get_field(f).is_relation for f in unique):
        return  # a one-to-one key: a copy would need a parent of its own
    for copy in range(1, count):
        values = {}
        for field in model._meta.concrete_fields:
            if field.auto_created or (field.primary_key and field.name not in unique):
                continue
            value = getattr(first, field.attname)
            values[field.attname] = varied(value, copy) if field.name in unique else value
        if any(values.get(model._meta.get_field(f).attname) is None for f in unique):
            return  # a unique column this cannot vary
        try:
            with transaction.atomic():
                model.objects.create(**values)
        except DatabaseError:
            return


def varied(value, copy):
    """Another value of the same type (None when there is none to make)."""
    if isinstance(value, str):
        return f"{copy}{value}"[: max(len(value), 1)] if len(value) > 1 else f"{copy}"
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | decimal.Decimal):
        return value + copy
    if isinstance(value, uuid.UUID):
        return uuid.UUID(int=(value.int + copy) % (1 << 128))
    if isinstance(value, datetime.date):
        return value + datetime.timedelta(days=copy)
    return None


def check_shape(body, kind, keys):
    """The response's JSON has the spec's shape: an array, or an object with only the documented keys."""
    if kind == "array":
        assert isinstance(body, list)
    elif kind == "object":
        assert isinstance(body, dict)
        if keys is not None:
            assert set(body) <= set(keys), sorted(set(body) - set(keys))
'''
    standard = ["datetime", "decimal", "uuid"]
    if any(op.action == "receive" for op, _ in planned):
        standard += ["hashlib", "hmac", "json"]
        head += _RECEIVER_HELPERS
    rows = _row_values(models, owner_table)
    if examples:
        rows += (
            "# A request body each component schema accepts.\nEXAMPLES = "
            + mapping((literal(name), value) for name, value in examples.items())
            + "\n"
        )
    head = "".join(f"import {module}\n" for module in sorted(standard)) + "\n" + head
    rows += (
        "# How many rows a list operation's test makes for the list to show (the workbench's proof\n"
        "# runs the tests again with more, to count the queries each listed row adds).\nITEMS = 1\n"
    )
    marks = "pytestmark = pytest.mark.django_db\n"
    # Joined in one copy more than the tests': the tests of a large API are megabytes.
    return "".join([head, "\n\n", marks, "\n", rows, "\n\n" if tests else "", "\n\n\n".join(tests), "\n"])


_RECEIVER_HELPERS = '''

WEBHOOK_SECRET = "contract-test-secret"  # noqa: S105 - the tests' own


def post_signed(client, url, body, header, headers=None):
    """POST `body` as JSON with the hex HMAC-SHA256 of its bytes under WEBHOOK_SECRET in `header`."""
    raw = json.dumps(body).encode()
    signature = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post(url, data=raw, content_type="application/json", headers={header: signature, **(headers or {})})


def received(operation):
    """How many calls of the receiving operation the inbox kept."""
    return apps.get_model("inbox", "ReceivedEvent").objects.filter(operation=operation).count()
'''


def _receiver_tests(
    op: Any, name: str, url: str, body: str, headers: dict[str, str], statuses: list[int], extra_names: Names
) -> list[str]:
    """A receiver's contract tests: a signed call, kept in the inbox once; the same call unsigned,
    refused with nothing kept."""
    received_as = literal(op.endpoint.operation_id or op.endpoint.key)
    success = [status for status in statuses if 200 <= status < 300] or [op.status]
    client = "    _, client = " + _nest(
        call(
            "client_for",
            ("django_user_model",),
            [("public", repr(bool(op.public))), ("roles", _tuple(literal(r) for r in op.roles))],
        )
    )
    extra = mapping((literal(k), literal(v)) for k, v in headers.items()) if headers else None
    signed = call("post_signed", ("client", "url", body, literal(op.signature_header), *([extra] if extra else [])))
    unsigned = call(
        "client.post", ("url",), [("data", body), ("format", literal("json")), *([("headers", extra)] if extra else [])]
    )
    calls = (
        (name, signed, "in " + _tuple(str(s) for s in success), 1, ""),
        (
            extra_names.claim(f"{name} unsigned", record=False),
            unsigned,
            "== 403",
            0,
            '    """A call without the signature of its body is refused, and nothing is kept."""',
        ),
    )
    return [
        "\n".join(
            [
                f"def {test}(django_user_model, settings):",
                *([doc] if doc else []),
                "    settings.WEBHOOK_SECRET = WEBHOOK_SECRET",
                client,
                f"    url = {_nest(url)}",
                f"    response = {_nest(send)}",
                f"    assert response.status_code {_nest(expected)}",
                f"    assert received({received_as}) == {kept}",
            ]
        )
        for test, send, expected, kept, doc in calls
    ]


# What the test module defines or imports: never a test's name.
_MODULE_NAMES = (
    "pytest",
    "APIClient",
    "User",
    "Group",
    "client_for",
    "check_shape",
    "make_row",
    "apps",
    "fill",
    "datetime",
    "decimal",
    "uuid",
    "REQUIRED",
    "PARENTS",
    "OWNER",
    "EXAMPLES",
    "ITEMS",
    "make_rows",
    "varied",
    "dataclasses",
    "transaction",
    "DatabaseError",
    "cache",
    "fresh_cache",
    "hashlib",
    "hmac",
    "json",
    "WEBHOOK_SECRET",
    "post_signed",
    "received",
    "settings",
)


def contract_test_names(planned: list[tuple[Any, str]]) -> list[str]:
    """Each planned operation's test function name, in order (the report ties the proof's
    calls to operations by them)."""
    names = Names("test_contract.py")
    names.reserve(*_MODULE_NAMES)
    found = []
    for _op, label in planned:
        # Composed names: nothing reads what was renamed (record=False).
        name = names.claim(f"test {label}", fallback="test_operation", record=False)
        if not name.startswith("test_"):
            name = names.claim(f"test operation {name}", record=False)
        found.append(name)
    return found


def _rows_for_kwargs(op: Any, models: Mapping[str, Any], owner_table: str | None) -> dict[str, str]:
    """URL keyword -> the model whose synthetic row's id it takes."""
    found: dict[str, str] = {}
    if op.model is None:
        return found
    if op.lookup:
        found[op.lookup] = op.model.class_name
    for column, kwarg in op.parents.items():
        field = op.model.by_name(column.removesuffix("_id"))
        if field is not None and field.relation in models:
            found[kwarg] = models[field.relation].class_name
    if op.owner_kwarg and owner_table in models:
        found[op.owner_kwarg] = models[owner_table].class_name
    return found


def _row_values(models: Mapping[str, Any], owner_table: str | None) -> str:
    """REQUIRED, PARENTS and OWNER: what make_row needs of each model."""
    required = []
    parents = []
    for info in models.values():
        values = []
        links = []
        for field in info.fields:
            if field.nullable or field.has_default or field.kind in _AUTO:
                continue
            if field.relation is not None:
                if field.relation in models:
                    links.append((literal(field.name), literal(models[field.relation].class_name)))
            elif field.example is not None:
                values.append((literal(field.name), field.example))
        if values:
            required.append((literal(info.class_name), mapping(values)))
        if links:
            parents.append((literal(info.class_name), mapping(links)))
    owner = literal(models[owner_table].class_name) if owner_table in models else "None"
    return (
        "# Synthetic rows: the values of each model's required columns, the models its required\n"
        "# foreign keys point at, and the model whose row is the caller's.\n"
        f"REQUIRED = {mapping(required)}\nPARENTS = {mapping(parents)}\nOWNER = {owner}\n"
    )


def _path_values(
    op: Any, row_of: Mapping[str, str], owner: str, write: Callable[[str], str] = literal
) -> list[tuple[str, str]]:
    """Each path parameter's `{name}` and the source of its value: the id of a synthetic row made
    for the user named `owner` where the parameter names a row, else a plain value of its type
    (`write`: literal, or a caller's memo of it)."""
    values = []
    types: dict[str, str | None] | None = None  # path parameter -> its type (the first so named)
    for raw, safe in op.kwargs.items():
        model_name = row_of.get(safe)
        if model_name is not None:
            value = f"make_row({owner}, {literal(model_name)}, made).pk"
        else:
            if types is None:
                types = {}
                for p in op.endpoint.parameters:
                    if p.location == "path":
                        types.setdefault(p.name, p.schema_type)
            value = '"1"' if types.get(raw) == "integer" else '"x"'  # literal("1"), literal("x")
        values.append((write("{" + raw + "}"), value))
    return values


def _shape(schema: Any) -> tuple[str, str] | None:
    """(kind, documented keys or None) as source, for check_shape."""
    if not isinstance(schema, dict):
        return None
    kind, _ = types_of(schema)
    if kind == "array":
        return _ARRAY, "None"
    props = schema.get("properties")
    if kind == "object" or isinstance(props, dict):
        closed = isinstance(props, dict) and schema.get("additionalProperties") is False
        keys = sequence(literal(str(k)) for k in props) if closed and isinstance(props, dict) else "None"
        return _OBJECT, keys
    return None


# An example as source: (members, text). `text` is the value written as Python; `members` is an
# object's members' texts by key (an allOf merges them), None for any other value. None itself
# stands for no value (a schema that is not one, or nested too deep).
Example = tuple[dict[Any, str] | None, str] | None
_FORMAT_EXAMPLES = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "email": "contract@example.com",
    "uri": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000001",
}


# The keywords an example is read from before the schema's type.
_FIRST_READ = frozenset({"oneOf", "anyOf", "enum", "allOf"})


class _Examples:
    """The request bodies' examples of one test module, written as source.

    Each (schema, depth)'s example is worked out and written once: a shared schema's text is
    reused wherever it is nested (`block` indents it where it sits, so its text does not depend
    on the place). The memo lives only as long as the module's writing: nothing of one design is
    kept for another."""

    def __init__(self, pointers: Pointers) -> None:
        self.deref = pointers.deref
        # By depth, then by id(schema): no key tuple to make for every schema met.
        self.memos: list[dict[int, Example]] = [{} for _ in range(_EXAMPLE_DEPTH + 1)]
        self.literals: dict[str, str] = {}  # a key or a string value -> literal(it)
        self.strings: dict[str, Example] = {}  # a string value -> its example, made once

    def body(self, schema: Any) -> str:
        """The source of a value the request body's schema accepts (`None` when there is none)."""
        example = self.example(schema, 0)
        return "None" if example is None else example[1]

    def example(self, schema: Any, depth: int) -> Example:
        """A value the schema accepts (readOnly properties left out), or None past _EXAMPLE_DEPTH."""
        if isinstance(schema, dict) and "$ref" in schema:
            schema = self.deref(schema)
        if not isinstance(schema, dict) or depth > _EXAMPLE_DEPTH:
            return None
        memo = self.memos[depth]
        key = id(schema)
        if key in memo:
            return memo[key]
        example = memo[key] = self._example_of(schema, depth)
        return example

    def _example_of(self, schema: dict[str, Any], depth: int) -> Example:
        get = schema.get
        members: dict[Any, str] | None = None  # made only for an object: most values are not one
        if not _FIRST_READ.isdisjoint(schema):  # most schemas are a plain value's, with none of them
            members = {}
            for part in ("oneOf", "anyOf"):
                union = get(part)
                if isinstance(union, list) and union:
                    return self.example(union[0], depth + 1)
            enum = get("enum")
            if isinstance(enum, list) and enum:
                first = enum[0]
                # A string (the usual enum) through the module's literals: the same values recur.
                return self.string(first) if isinstance(first, str) else _written(first)
            for part in get("allOf") or ():
                merged = self.example(part, depth + 1)
                if merged is not None and merged[0] is not None:
                    members.update(merged[0])
        kind = get("type")
        if not isinstance(kind, str):  # a list of types (3.1), or none: types_of's reading
            kind, _ = types_of(schema)
        properties = get("properties")
        if kind == "object" or isinstance(properties, dict):
            if members is None:
                members = {}
            deref, below = self.deref, depth + 1
            # Past _EXAMPLE_DEPTH a member has no example: only whether it is readOnly is asked.
            example_of = self.example if below <= _EXAMPLE_DEPTH else None
            for key, sub in (properties or {}).items():
                if isinstance(sub, dict):
                    if "$ref" in sub:
                        sub = deref(sub)
                    if isinstance(sub, dict) and sub.get("readOnly") is True:
                        continue
                example = example_of(sub, below) if example_of is not None else None
                members[str(key)] = "None" if example is None else example[1]
            return members, self.members_text(members)
        if members:
            return members, self.members_text(members)
        if kind == "string":
            fmt = get("format")
            text = _FORMAT_EXAMPLES.get(fmt) if isinstance(fmt, str) else None
            if text is None:
                least = get("minLength")
                text = "x" if least is None else "x" * max(1, min(_whole(least, 1), 64))
            return self.string(text)
        if kind == "integer":
            least = get("minimum")
            return None, "1" if least is None else repr(_whole(least, 1))
        if kind == "number":
            return None, "1.0"
        if kind == "boolean":
            return None, "False"
        if kind == "array":
            item = self.example(get("items"), depth + 1)
            return None, (sequence((item[1],)) if item is not None else "[]")
        return None

    def literal(self, text: str) -> str:
        """literal(text), each text written once per module (the same keys recur in every body)."""
        literals = self.literals
        if text not in literals:
            literals[text] = literal(text)
        return literals[text]

    def string(self, text: str) -> Example:
        """A string value's example, one per text: most values are the same few strings, and each
        example kept is one more object for the collector to look at."""
        strings = self.strings
        if text not in strings:
            strings[text] = None, self.literal(text)
        return strings[text]

    def members_text(self, members: dict[Any, str]) -> str:
        """_members_text(members), the keys' literals written once per module."""
        if not members:
            return "{}"
        literals = self.literals
        key_text = self.literal
        # Like `mapping`, in one pass: a key is one line and no member's text has an empty line
        # (every text here is a literal, a number, or a list or object written like this one).
        joined = ",\n".join([f"{literals.get(k) or key_text(str(k))}: {text}" for k, text in members.items()])
        return "{\n" + INDENT + joined.replace("\n", "\n" + INDENT) + ",\n}"


def _written(value: Any) -> Example:
    """An example given as a JSON value (an enum's first): an object keeps its members' texts."""
    if value is None:
        return None
    if isinstance(value, dict):
        members = {k: _value(v) for k, v in value.items()}
        return members, _members_text(members)
    return None, _value(value)


def _members_text(members: dict[Any, str]) -> str:
    """An object's source from its members' texts (keys written as strings, as JSON has them)."""
    return mapping((literal(str(k)), text) for k, text in members.items())


def _whole(value: Any, default: int) -> int:
    """An integer a schema keyword gives, within 64 bits; `default` for anything else (a string,
    infinity, NaN, a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return default
    if abs(value) > 2**63 - 1:
        return default
    return int(value)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return mapping((literal(str(k)), _value(v)) for k, v in value.items())
    if isinstance(value, list):
        return sequence(_value(v) for v in value)
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "0.0"
    return "None"


def _tuple(items: Any) -> str:
    return tuple_of(items)


def _nest(expr: str) -> str:
    return expr.replace("\n", "\n    ")
