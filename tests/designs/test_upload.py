"""Uploading a design as a file: the kind is told from the name and the content, the text goes to
its field, and a file that cannot be read is refused with a message naming it."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Workspace
from apps.designs.engine.text import InputError
from apps.designs.engine.upload import read_upload, upload_field
from apps.designs.models import Design, Revision
from tests.conftest import CORPUS, DEMO
from tests.factories import make_design

OPENAPI = """openapi: 3.1.0
info: {title: Orders, version: '1'}
paths:
  /v1/orders/{orderId}:
    get:
      operationId: getOrder
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: integer}}
      responses:
        '200': {description: the order}
"""
DBML = """Table customers [note: 'rows: 3M'] {
  id bigint [pk, increment]
  email varchar(200) [not null, unique]
}

Table orders [note: 'rows: 40M'] {
  id bigint [pk, increment]
  customer_id bigint [not null, ref: > customers.id]
  total numeric(12,2) [not null]
}
"""
DDL = """CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(200) NOT NULL UNIQUE);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  total numeric(12,2) NOT NULL
);
"""


def _post(client: Client, workspace: Workspace, name: str, data: bytes, **extra: str) -> Any:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(
        reverse("designs:new", args=[workspace.slug]), {"name": "Uploaded", "design_file": upload, **extra}
    )


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("api.yaml", OPENAPI, "openapi"),
        ("model.dbml", DBML, "data_model"),
        ("schema.sql", DDL, "data_model"),
        ("queries.sql", "-- name: recent\nSELECT id FROM orders ORDER BY id DESC LIMIT 20;\n", "queries"),
        ("design.md", "# Shop\n\n### ORD-1: x\n", "document"),
        # No telling extension: the content decides.
        ("api.txt", OPENAPI, "openapi"),
        ("schema", DDL, "data_model"),
        ("model.txt", DBML, "data_model"),
        ("spec", '{\n  "openapi": "3.0.3", "info": {}}', "openapi"),
        ("notes.txt", "## Stories\n\n### A-1: a story\n", "document"),
        ("readme.txt", "just some words\n", None),
    ],
)
def test_the_kind_of_a_file_is_told_by_its_extension_or_else_its_content(
    name: str, text: str, field: str | None
) -> None:
    assert upload_field(name, text) == field


def test_a_refused_file_is_named_with_what_is_wrong() -> None:
    with pytest.raises(InputError) as exc:
        read_upload("é".encode("latin-1"), name="C:\\Users\\me\\model.dbml", max_bytes=100)
    assert exc.value.problem.message.startswith("model.dbml is not UTF-8 text")
    with pytest.raises(InputError) as exc:
        read_upload(b"", name="big.yaml", max_bytes=100, size=101)
    assert exc.value.problem.code == "upload.too-large"


def test_a_bare_openapi_file_fills_the_openapi_field(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    response = _post(client, workspace, "orders-api.yaml", OPENAPI.encode(), document="")
    assert response.status_code == 302, response.content.decode()[:2000]
    revision = Revision.objects.get()
    assert revision.openapi == OPENAPI
    assert revision.document == ""
    assert revision.summary["endpoints"] == 1


def test_a_dbml_file_fills_the_data_model(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    response = _post(client, workspace, "model.dbml", DBML.encode())
    assert response.status_code == 302
    revision = Revision.objects.get()
    assert revision.data_model == DBML
    assert revision.summary["entities"] == 2


def test_a_ddl_file_fills_the_data_model(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    response = _post(client, workspace, "schema.sql", DDL.encode())
    assert response.status_code == 302
    revision = Revision.objects.get()
    assert revision.data_model == DDL
    assert revision.summary["entities"] == 2


def test_a_markdown_design_document_is_the_document_under_its_name(
    client: Client, owner: object, workspace: Workspace
) -> None:
    client.force_login(owner)
    text = (CORPUS / "shop" / "v1-design.md").read_bytes()
    response = _post(client, workspace, "shop-design.md", text)
    assert response.status_code == 302
    revision = Revision.objects.get()
    assert revision.document_name == "shop-design.md"
    assert revision.document.encode() == text
    assert revision.summary == {"entities": 7, "endpoints": 11, "stories": 6, "queries": 4}


def test_a_binary_file_is_refused_by_name_and_nothing_is_saved(
    client: Client, owner: object, workspace: Workspace
) -> None:
    client.force_login(owner)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    response = _post(client, workspace, "diagram.png", png)
    assert response.status_code == 422
    page = response.content.decode()
    assert "diagram.png is a binary file, not text" in page
    assert "a Markdown design document (.md)" in page  # what to upload instead
    assert not Design.objects.exists()


def test_a_file_of_no_known_kind_lists_the_kinds_accepted(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    response = _post(client, workspace, "notes.txt", b"remember the milk\n")
    assert response.status_code == 422
    page = response.content.decode()
    assert "notes.txt is not a kind of file the workbench reads" in page
    for kind in (".md", ".yaml", ".json", ".dbml", ".sql"):
        assert kind in page
    assert not Design.objects.exists()


def test_a_file_over_the_paste_size_limit_is_refused(
    client: Client, owner: object, workspace: Workspace, settings: Any
) -> None:
    settings.DESIGN_MAX_DOCUMENT_BYTES = 2000
    client.force_login(owner)
    response = _post(client, workspace, "huge.yaml", OPENAPI.encode() + b"#" * 3000)
    assert response.status_code == 422
    assert "huge.yaml is larger than the limit" in response.content.decode()
    assert not Design.objects.exists()


def test_an_uploaded_file_is_validated_like_a_paste(client: Client, owner: object, workspace: Workspace) -> None:
    client.force_login(owner)
    response = _post(client, workspace, "old.json", b'{"swagger": "2.0", "info": {"title": "t", "version": "1"}}')
    assert response.status_code == 422
    assert "Swagger 2.0" in response.content.decode()
    assert not Design.objects.exists()


def test_live_validation_reads_the_uploaded_file_and_names_a_refused_one(
    client: Client, owner: object, workspace: Workspace
) -> None:
    client.force_login(owner)
    url = reverse("designs:validate", args=[workspace.slug])
    answer = client.post(url, {"design_file": SimpleUploadedFile("model.dbml", DBML.encode())}).content.decode()
    assert "<strong>2</strong> entities" in answer
    answer = client.post(url, {"design_file": SimpleUploadedFile("model.dbml", b"Table a {\n\xff\n}")}).content.decode()
    assert "model.dbml is not UTF-8 text" in answer
    assert "line 2" in answer


def test_a_new_revision_from_an_uploaded_file_replaces_only_its_field(
    client: Client, owner: object, workspace: Workspace
) -> None:
    demo = DEMO.read_text(encoding="utf-8")
    design, _ = make_design(workspace=workspace, user=owner, document=demo)
    client.force_login(owner)
    page = client.get(reverse("designs:detail", args=[design.pk])).content.decode()
    assert 'id="design-file"' in page
    assert 'name="design_file"' in page
    response = client.post(
        reverse("designs:revision-new", args=[design.pk]),
        {
            "document": demo,
            "document_name": "v1-design.md",
            "design_file": SimpleUploadedFile("extra.sql", DDL.encode()),
        },
    )
    assert response.status_code == 302
    revision = design.revisions.get(number=2)
    assert revision.document == demo.strip()  # a pasted field is stripped, as always
    assert revision.data_model == DDL
