"""flask-httpcache: an RFC 9111 shared HTTP cache inside Flask, as request and response
handlers you order yourself, with validation, Vary, stale-* and a WSGI fast path."""

from .collapse import collapse_requests
from .config import Config
from .decorators import cache_control, cache_for, dont_cache, vary
from .extension import HTTPCache, easy_setup
from .handlers import RequestHandler, ResponseHandler
from .middleware import HTTPCacheMiddleware
from .store import Store, StoredResponse
from .tags import cache_tags

__version__ = "0.2.0"

__all__ = [
    "Config",
    "HTTPCache",
    "HTTPCacheMiddleware",
    "RequestHandler",
    "ResponseHandler",
    "Store",
    "StoredResponse",
    "cache_control",
    "cache_for",
    "cache_tags",
    "collapse_requests",
    "dont_cache",
    "easy_setup",
    "vary",
]
