"""References in JavaScript: the ``sourceMappingURL`` comment always, and (opt-in,
``STATICBUST_JS_MODULES``) relative ES-module specifiers of ``import ... from "./x.js"``,
``import "./x.js"``, ``export ... from "./x.js"`` and ``import("./x.js")``.

Found with patterns, not a JavaScript parser: only specifiers starting with ``./`` or ``../``
are taken, so bare package names and URLs are never touched; a string in a comment that looks
exactly like an import would be rewritten too, which is why this is opt-in.
"""

from __future__ import annotations

import re

from .references import Reference

_SOURCE_MAP = re.compile(r"^[ \t]*//[#@][ \t]*sourceMappingURL=(\S+)[ \t]*$", re.MULTILINE)
_SPECIFIER = r"""(?P<q>["'])(?P<spec>\.{1,2}/[^"'\n\r]*)(?P=q)"""
_MODULE = re.compile(
    r"(?:\bimport\s*(?:[\w$*{}\s,]+?\s*from\s*)?"
    r"|\bexport\s*(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*"
    r"|\bimport\s*\(\s*)" + _SPECIFIER
)


def js_references(js: str, modules: bool) -> list[Reference]:
    found = [Reference(m.start(1), m.end(1), m.group(1)) for m in _SOURCE_MAP.finditer(js)]
    if modules:
        found += [
            Reference(m.start("spec"), m.end("spec"), m.group("spec")) for m in _MODULE.finditer(js)
        ]
    return found
