"""``CachedResponse``: a view's answer that chooses its own cache timeout.

No ``from __future__ import annotations`` here: the annotations of ``__init__`` stay real
objects, so tools that read them with ``inspect.signature`` (as Flask-Caching's own tests do)
see ``None`` and the types, not strings.
"""

from flask import Response

from .calls import Timeout, timeout_seconds


class CachedResponse(Response):
    """A response that a ``cached`` view returns to choose its own cache timeout.

    >>> CachedResponse(Response("hi"), timeout=60).timeout
    60
    """

    timeout: int | None = None

    def __init__(self, response: Response, timeout: Timeout) -> None:
        # take over the state of the finished response rather than rebuilding it
        self.__dict__ = response.__dict__
        self.timeout = timeout_seconds(timeout)
