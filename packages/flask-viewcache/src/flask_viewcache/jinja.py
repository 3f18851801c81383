"""The ``{% cache %}`` tag for Jinja templates.

``{% cache timeout[, name[, vary, ...]] %}...{% endcache %}`` caches what the block renders;
``timeout`` may be ``None`` (the default timeout), ``0`` (forever) or ``'del'`` (delete the
entry and render the block). Without a name the template's file and line name the fragment,
as in Flask-Caching.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import has_app_context
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

from .calls import timeout_seconds
from .keys import make_template_fragment_key

logger = logging.getLogger(__name__)

#: attribute of ``app.jinja_env`` that holds the :class:`~flask_viewcache.Cache`
JINJA_CACHE_ATTR_NAME = "_template_fragment_cache"


class CacheExtension(Extension):
    """Adds ``{% cache %}``; ``init_app`` installs it unless ``with_jinja2_ext=False``."""

    tags = {"cache"}

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        args: list[nodes.Expr] = [parser.parse_expression()]
        if parser.stream.skip_if("comma"):
            args.append(parser.parse_expression())
        else:
            args.append(nodes.Const(f"{parser.filename}{lineno}"))
        vary_on: list[nodes.Expr] = []
        while parser.stream.skip_if("comma"):
            vary_on.append(parser.parse_expression())
        args.append(nodes.List(vary_on))
        body = parser.parse_statements(("name:endcache",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_cache", args), [], [], body).set_lineno(lineno)

    def _cache(
        self, timeout: Any, fragment_name: Any, vary_on: list[Any], caller: Callable[[], str]
    ) -> str:
        cache = getattr(self.environment, JINJA_CACHE_ATTR_NAME, None)
        store = cache.store_or_none() if cache is not None and has_app_context() else None
        if store is None:
            return caller()
        try:
            key = make_template_fragment_key(str(fragment_name), vary_on)
        except TypeError as exc:  # an unkeyable vary value: render, do not cache
            logger.warning("{%% cache %%} fragment %r is rendered uncached: %s", fragment_name, exc)
            return caller()
        stats = store.function_stats(f"fragment:{fragment_name}")
        if timeout == "del":
            store.backend.delete(key)
            stats.bypassed += 1
            return caller()
        envelope, current = store.read(key, ())
        if store.valid(envelope, current):
            text, is_markup = envelope[1]
            stats.hits += 1
            return Markup(text) if is_markup else str(text)
        stats.misses += 1
        rendered = caller()
        store.store(
            key,
            [str(rendered), isinstance(rendered, Markup)],
            (),
            timeout_seconds(timeout),
            None,
        )
        return rendered
