"""The migrations tab of a run: the previewed migration, both SQL scripts and the safe variant,
highlighted, with copy and download; the statement review; for a revision pair, the diff."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.accounts.models import Role
from apps.analysis.models import RenameMode
from apps.analysis.selectors import run_get
from workbench.highlight import highlighted

# What can be downloaded: (the report's text, the file name's suffix, its media type).
FILES = {
    "migration": (lambda m: m["source"], ".py", "text/x-python"),
    "forward": (lambda m: m["forward_sql"], "_forward.sql", "application/sql"),
    "rollback": (lambda m: m["rollback_sql"], "_rollback.sql", "application/sql"),
    "safe": (lambda m: (m.get("safe_migration") or {}).get("source", ""), "_safe.py", "text/x-python"),
    "diff": (lambda m: m.get("schema_diff", ""), "_schema.diff", "text/x-diff"),
    "advised": (lambda m: (m.get("advised_indexes") or {}).get("source", ""), "_advised_indexes.py", "text/x-python"),
}


def _section(run: Any) -> dict[str, Any]:
    migrations = (run.report or {}).get("migrations")
    if not migrations:
        raise Http404("This run has no migration preview.")
    return migrations


@login_required
def migrations_tab(request: HttpRequest, run_id: int) -> HttpResponse:
    run, membership = run_get(user=request.user, run_id=run_id)
    context: dict[str, Any] = {
        "run": run,
        "revision": run.revision,
        "design": run.revision.design,
        "workspace": run.revision.design.workspace,
        "can_edit": membership.can(Role.EDITOR),
        "tab": "migrations",
        "mig": None,
    }
    migrations = (run.report or {}).get("migrations") if run.is_finished else None
    if migrations:
        safe = migrations.get("safe_migration")
        total = [s["estimate_seconds"] for s in migrations["statements"] if s["estimate_seconds"] is not None]
        context.update(
            mig=migrations,
            source_html=highlighted(migrations["source"], "python"),
            forward_html=highlighted(migrations["forward_sql"], "sql"),
            rollback_html=highlighted(migrations["rollback_sql"], "sql"),
            safe_html=highlighted(safe["source"], "python") if safe else "",
            advised_html=(
                highlighted(migrations["advised_indexes"]["source"], "python")
                if migrations.get("advised_indexes")
                else ""
            ),
            diff_html=highlighted(migrations.get("schema_diff", ""), "diff") if migrations.get("schema_diff") else "",
            total_seconds=sum(total) if total else None,
            renames=migrations.get("renames") or {"mode": RenameMode.DETECT, "detected": []},
            other_mode=RenameMode.DROP_ADD if run.renames == RenameMode.DETECT else RenameMode.DETECT,
        )
    return TemplateResponse(request, "migrations_preview/tab.html", context)


@login_required
def migration_download(request: HttpRequest, run_id: int, kind: str) -> HttpResponse:
    run, _ = run_get(user=request.user, run_id=run_id)
    if kind not in FILES:
        raise Http404
    migrations = _section(run)
    text_of, suffix, media_type = FILES[kind]
    text = text_of(migrations)
    if not text:
        raise Http404("Nothing of that kind in this run.")
    name = (migrations.get("safe_migration") or {}).get("name") if kind == "safe" else migrations["name"]
    filename = f"{name or 'migration'}{'.py' if kind == 'safe' else suffix}"
    response = HttpResponse(text + ("" if text.endswith("\n") else "\n"), content_type=f"{media_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
