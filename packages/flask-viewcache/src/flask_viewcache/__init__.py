"""flask-viewcache: caching of Flask views, memoized functions and Jinja fragments, with the
API of Flask-Caching 2.x."""

from .decorated import CachedFunction, MemoizedFunction
from .extension import DEFAULTS, Cache
from .jinja import CacheExtension
from .keys import SUPPORTED_HASH_FUNCTIONS, function_namespace, make_template_fragment_key
from .response import CachedResponse
from .signals import cache_memoize_hit, cache_memoize_miss, cache_view_hit, cache_view_miss

__version__ = "0.2.0"

__all__ = [
    "DEFAULTS",
    "SUPPORTED_HASH_FUNCTIONS",
    "Cache",
    "CacheExtension",
    "CachedFunction",
    "CachedResponse",
    "MemoizedFunction",
    "cache_memoize_hit",
    "cache_memoize_miss",
    "cache_view_hit",
    "cache_view_miss",
    "function_namespace",
    "make_template_fragment_key",
]
