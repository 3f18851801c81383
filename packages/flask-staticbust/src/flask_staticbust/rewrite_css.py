"""References in CSS, found with a real tokenizer (tinycss2): ``url(...)`` in either form,
``@import "..."`` and ``/*# sourceMappingURL=... */``. Comments and strings are tokens of their
own, so ``url()`` inside a comment or in ``content: "url(x)"`` is never taken for a reference
(the failing of regex rewriters). The spans point into the original text, so rewriting changes
the references and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import tinycss2  # type: ignore[import-untyped]
from tinycss2 import ast

from .references import Reference

_SOURCE_MAP = re.compile(r"#\s*sourceMappingURL=(\S+)\s*$")


def css_references(css: str) -> list[Reference]:
    """The references of ``css`` (newlines already normalized: see
    :func:`~flask_staticbust.references.normalize_newlines`)."""
    starts = [0]
    for match in re.finditer("\n", css):
        starts.append(match.end())
    found: list[Reference] = []
    nodes = tinycss2.parse_component_value_list(css, skip_comments=False)
    _walk(css, starts, nodes, found)
    return found


def _offset(starts: list[int], node: Any) -> int:
    return int(starts[node.source_line - 1] + node.source_column - 1)


def _walk(css: str, starts: list[int], nodes: Iterable[Any], found: list[Reference]) -> None:
    previous_import = False
    for node in nodes:
        if isinstance(node, ast.WhitespaceToken):
            continue
        if isinstance(node, ast.Comment):
            match = _SOURCE_MAP.match(node.value)
            if match:
                begin = _offset(starts, node) + 2 + match.start(1)
                found.append(Reference(begin, begin + len(match.group(1)), match.group(1)))
        elif isinstance(node, ast.URLToken):
            _url_token(css, _offset(starts, node), node.value, found)
        elif isinstance(node, ast.StringToken) and previous_import:
            _string_token(css, _offset(starts, node), node.value, found)
        elif isinstance(node, ast.FunctionBlock):
            if node.lower_name == "url":
                strings = [a for a in node.arguments if not isinstance(a, ast.WhitespaceToken)]
                if len(strings) >= 1 and isinstance(strings[0], ast.StringToken):
                    _string_token(css, _offset(starts, strings[0]), strings[0].value, found)
            else:
                _walk(css, starts, node.arguments, found)
        elif isinstance(
            node, ast.ParenthesesBlock | ast.SquareBracketsBlock | ast.CurlyBracketsBlock
        ):
            _walk(css, starts, node.content, found)
        previous_import = isinstance(node, ast.AtKeywordToken) and node.lower_value == "import"


def _url_token(css: str, offset: int, value: str, found: list[Reference]) -> None:
    position = offset + 4  # after "url("
    while position < len(css) and css[position] in " \t\n":
        position += 1
    if css.startswith(value, position):  # a value written with escapes is left alone
        found.append(Reference(position, position + len(value), value))


def _string_token(css: str, offset: int, value: str, found: list[Reference]) -> None:
    quote = css[offset : offset + 1]
    begin = offset + 1
    if quote in ("'", '"') and css.startswith(value + quote, begin):
        found.append(Reference(begin, begin + len(value), value))
