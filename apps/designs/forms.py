from django import forms
from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator


class DocumentField(forms.CharField):
    """A pasted text. NUL is not refused here, without a place, but by the parsers, which name
    its line (and refuse the paste, so it is never saved)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]


def _text_area(rows: int) -> DocumentField:
    return DocumentField(required=False, widget=forms.Textarea(attrs={"rows": rows, "spellcheck": "false"}))


class PasteForm(forms.Form):
    """One design document, or the parts pasted separately. Any non-empty combination works."""

    document = _text_area(18)
    document_file = forms.FileField(required=False, help_text="Or upload the design document (UTF-8).")
    document_name = forms.CharField(required=False, max_length=200, initial="design.md")
    stories = _text_area(8)
    openapi = _text_area(8)
    data_model = _text_area(8)
    queries = _text_area(8)

    def clean_document_file(self) -> object:
        upload = self.cleaned_data.get("document_file")
        if upload and upload.size > settings.DESIGN_MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(
                f"The file is larger than the limit of {settings.DESIGN_MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."
            )
        return upload


class DesignForm(PasteForm):
    name = forms.CharField(max_length=200)

    field_order = [
        "name",
        "document",
        "document_file",
        "document_name",
        "stories",
        "openapi",
        "data_model",
        "queries",
    ]
