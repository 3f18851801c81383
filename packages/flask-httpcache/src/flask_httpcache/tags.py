"""Surrogate keys: the tags a view gives its response, by which stored responses are purged.

A view tags its response with :func:`cache_tags` or a ``Surrogate-Key`` field of its own
(keys separated by spaces, as Fastly reads it). Keys are compared exactly, case included:
``product:3`` never matches ``product:33``. The field is removed before the client sees it,
unless :attr:`~flask_httpcache.Config.emit_surrogate_key` keeps it for a CDN in front.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from flask.wrappers import Response

from .decorators import F, _after_view

logger = logging.getLogger(__name__)

SURROGATE_KEY = "Surrogate-Key"
#: the most keys one response may carry (a response with more is not stored)
MAX_TAGS = 64
#: the longest key, in characters (Fastly's limit)
MAX_TAG_LENGTH = 1024


def valid_tag(tag: str) -> bool:
    """Whether ``tag`` can be a surrogate key: 1 to 1024 visible ASCII characters."""
    return 0 < len(tag) <= MAX_TAG_LENGTH and tag.isascii() and tag.isprintable() and " " not in tag


def parse_surrogate_keys(values: Iterable[str]) -> tuple[str, ...] | None:
    """The keys of the ``Surrogate-Key`` fields of a response, each once, in their order;
    None when one is not a valid key or there are more than :data:`MAX_TAGS`: such a
    response is not stored, since a key left out could not purge it.

    >>> parse_surrogate_keys(["product:3 catalog", "product:3"])
    ('product:3', 'catalog')
    """
    tags: dict[str, None] = {}
    for value in values:
        for tag in value.split():
            if not valid_tag(tag):
                logger.warning("a Surrogate-Key that is not a key (%r): not stored", tag[:80])
                return None
            tags[tag] = None
    if len(tags) > MAX_TAGS:
        logger.warning("%d surrogate keys, more than %d: not stored", len(tags), MAX_TAGS)
        return None
    return tuple(tags)


def add_tags(response: Response, tags: Sequence[str]) -> None:
    """Add ``tags`` to the response's ``Surrogate-Key`` (one field, each key once)."""
    present = response.headers.getlist(SURROGATE_KEY)
    merged = dict.fromkeys(" ".join(present).split())
    merged.update(dict.fromkeys(tags))
    response.headers[SURROGATE_KEY] = " ".join(merged)


def cache_tags(*tags: str) -> Callable[[F], F]:
    """Tag the view's responses with surrogate keys, for
    :meth:`HTTPCache.purge(tag=...) <flask_httpcache.HTTPCache.purge>` (sync and async views).

    >>> @cache_tags("product:3", "catalog")  # doctest: +SKIP
    ... def product(): ...

    :raises ValueError: for a tag with spaces or control characters, empty, non-ASCII or
        longer than 1024 characters, or more than 64 tags.
    """
    for tag in tags:
        if not isinstance(tag, str) or not valid_tag(tag):
            raise ValueError(
                f"cache_tags: {tag!r} is not a surrogate key (1 to {MAX_TAG_LENGTH} visible"
                " ASCII characters, no spaces)"
            )
    if len(set(tags)) > MAX_TAGS:
        raise ValueError(f"cache_tags: at most {MAX_TAGS} tags, not {len(set(tags))}")
    chosen = tuple(dict.fromkeys(tags))

    def change(response: Response) -> None:
        add_tags(response, chosen)

    return _after_view(change)
