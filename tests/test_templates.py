"""Django's `{# #}` comment ends at the end of its line: one spanning lines is not a comment but
text printed on the page (once per inclusion when the template is included in a loop)."""

import re

from tests.conftest import ROOT

MULTILINE_COMMENT = re.compile(r"\{#(?:(?!#\}).)*\n")


def test_no_template_has_a_brace_hash_comment_spanning_lines() -> None:
    templates = [
        p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts and "staticfiles" not in p.parts
    ]
    assert templates
    spanning = [str(p.relative_to(ROOT)) for p in templates if MULTILINE_COMMENT.search(p.read_text(encoding="utf-8"))]
    assert spanning == [], "use {% comment %}…{% endcomment %} for comments over several lines"
