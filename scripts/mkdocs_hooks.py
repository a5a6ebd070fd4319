"""mkdocs hook: the docstrings use Sphinx roles (:class:`RecError`, :meth:`survival`), which
mkdocstrings renders as text followed by code; keep the code and drop the role."""

import re

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const):(?=<code)")


def on_page_content(html, **kwargs):
    return _ROLE.sub("", html)
