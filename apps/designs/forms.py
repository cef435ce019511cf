from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator

from apps.designs.engine.model import Problem, SourceRef
from apps.designs.engine.text import InputError
from apps.designs.engine.upload import ACCEPT_ATTRIBUTE, ACCEPTED_KINDS, Upload, read_upload, upload_name


class DocumentField(forms.CharField):
    """A pasted text. NUL is not refused here, without a place, but by the parsers, which name
    its line (and refuse the paste, so it is never saved)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


def _text_area(rows: int) -> DocumentField:
    return DocumentField(required=False, widget=forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}))


class PasteForm(forms.Form):
    """One design document, or the parts pasted separately. Any non-empty combination works.

    An uploaded file (a design document, or a bare OpenAPI, DBML or DDL file) replaces the text of
    the field its kind belongs in; `upload` holds it once the form is valid, `upload_problem` says
    why it was refused otherwise (shown where the paste's problems are)."""

    document = _text_area(18)
    design_file = forms.FileField(
        required=False,
        label="Or upload a file",
        help_text=f"Accepted: {ACCEPTED_KINDS}; UTF-8 text.",
        widget=forms.FileInput(attrs={"id": "design-file", "accept": ACCEPT_ATTRIBUTE}),
    )
    document_name = forms.CharField(required=False, max_length=200, initial="design.md")
    stories = _text_area(8)
    openapi = _text_area(8)
    data_model = _text_area(8)
    queries = _text_area(8)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload: Upload | None = None
        self.upload_problem: Problem | None = None

    def clean_design_file(self) -> object:
        upload = self.cleaned_data.get("design_file")
        if not upload:
            return upload
        name = upload_name(upload.name or "")
        limit = settings.DESIGN_MAX_DOCUMENT_BYTES
        try:
            # The size is known before reading: a file over the limit is never read into memory.
            data = b"" if upload.size > limit else upload.read()
            self.upload = read_upload(data, name=name, max_bytes=limit, size=upload.size)
        except InputError as exc:
            self.upload_problem = exc.problem
            raise forms.ValidationError(f"{exc.problem.message}. {exc.problem.fix}") from None
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        errors = self.errors.get("design_file")
        if errors and self.upload_problem is None:  # Django's own refusals: an empty file, no file
            name = upload_name(getattr(self.files.get(self.add_prefix("design_file")), "name", "") or "")
            self.upload_problem = Problem(
                code="upload.refused",
                message=f"{name}: {' '.join(errors)}",
                source=SourceRef(name),
                fix=f"Upload {ACCEPTED_KINDS}.",
                fatal=True,
            )
        return cleaned


class DesignForm(PasteForm):
    name = forms.CharField(max_length=200)

    field_order = [
        "name",
        "document",
        "design_file",
        "document_name",
        "stories",
        "openapi",
        "data_model",
        "queries",
    ]
