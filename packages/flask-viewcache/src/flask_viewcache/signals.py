"""Blinker signals, sent when ``CACHE_ENABLE_SIGNALS`` is true (as in Flask-Caching).

Each is sent with the keyword arguments ``cache`` (the :class:`~flask_viewcache.Cache`),
``cache_key``, ``args`` and ``kwargs``; the memoize signals also carry ``f``, the undecorated
function. Receivers connected for Flask-Caching's signals work unchanged.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: a view decorated with ``cached`` was answered from the cache
cache_view_hit = _signals.signal("viewcache-view-hit")
#: a view decorated with ``cached`` was not in the cache and was called
cache_view_miss = _signals.signal("viewcache-view-miss")
#: a function decorated with ``memoize`` was answered from the cache
cache_memoize_hit = _signals.signal("viewcache-memoize-hit")
#: a function decorated with ``memoize`` was not in the cache and was called
cache_memoize_miss = _signals.signal("viewcache-memoize-miss")
