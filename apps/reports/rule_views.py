"""The rule documentation pages (`/rules/<rule_id>/`), linked from every finding."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.reports.rules import rule_page_get


@login_required
def rule_doc(request: HttpRequest, rule_id: str) -> HttpResponse:
    return TemplateResponse(request, "reports/rule.html", rule_page_get(user=request.user, rule_id=rule_id))
