"""The generator's pointer resolver answers what resolve_pointer answers, once per pointer."""

from apps.designs.engine.structured import resolve_pointer
from apps.endpoints.engine.schemas import Pointers, deref_local

DOCUMENT = {
    "paths": {
        "/a/{id}": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/x"}}}}}}},
    },
    "x": {"$ref": "#/y~1z"},
    "y/z": {"type": "object", "properties": {"n": None}},
    "t~n": [{"k": 1}, None, [2]],
    "%25": "percent",
    "%": "bare",
}
POINTERS = [
    "",
    "#",
    "/",
    "#/",
    "abc",
    "abc/x",
    "#/paths/~1a~1{id}/get/responses/200/content/application~1json/schema",
    "#/paths/~1a~1{id}/get/responses/404/content",
    "#/x",
    "#/x/$ref",
    "#/y~1z/properties/n",
    "#/y~1z/properties/n/deeper",
    "#/t~0n/0/k",
    "#/t~0n/1",
    "#/t~0n/2/0",
    "#/t~0n/3",
    "#/t~0n/01",
    "#/t~0n/-1",
    "#/t~0n/k",
    "#/%25",
    "#/%2525",
    "#/%",
    "#/x/type",
    "##/x",
]


def test_it_resolves_each_pointer_as_resolve_pointer_does():
    pointers = Pointers(DOCUMENT)
    for _ in range(2):  # resolved, then kept
        for pointer in POINTERS:
            assert pointers.resolve(pointer) is resolve_pointer(DOCUMENT, pointer), pointer


def test_it_follows_local_references_as_deref_local_does():
    pointers = Pointers(DOCUMENT)
    for schema in ({"$ref": "#/x"}, {"$ref": "#/missing"}, {"$ref": "other.yaml#/x"}, {"type": "string"}, None):
        assert pointers.deref(schema) is deref_local(DOCUMENT, schema)
