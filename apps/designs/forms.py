from django import forms
from django.conf import settings


class PasteForm(forms.Form):
    """One design document, or the parts pasted separately. Any non-empty combination works."""

    document = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}))
    document_file = forms.FileField(required=False, help_text="Or upload the design document (UTF-8).")
    document_name = forms.CharField(required=False, max_length=200, initial="design.md")
    stories = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))
    openapi = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))
    data_model = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))
    queries = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}))

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
