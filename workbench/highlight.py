"""Code shown on the pages, highlighted by Pygments: one helper for every tab that shows SQL,
Python or a diff, so the size limit and the markup are the same everywhere."""

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PostgresLexer, PythonLexer

LEXERS = {"python": PythonLexer, "sql": PostgresLexer, "diff": DiffLexer}


def highlighted(text: str, language: str) -> SafeString:
    """Pygments' HTML with classes only (static/css/highlight.css styles them: the CSP allows no
    inline style); beyond MIGRATION_HIGHLIGHT_MAX_CHARS, the text escaped and plain."""
    if len(text) > settings.MIGRATION_HIGHLIGHT_MAX_CHARS:
        return mark_safe(f'<div class="highlight"><pre>{escape(text)}</pre></div>')  # noqa: S308 - escaped above
    return mark_safe(highlight(text, LEXERS[language](), HtmlFormatter(cssclass="highlight")))  # noqa: S308 - Pygments escapes
