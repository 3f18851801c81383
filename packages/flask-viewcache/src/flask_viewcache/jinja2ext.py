"""The ``{% cache %}`` tag under Flask-Caching's import path (``flask_caching.jinja2ext``)."""

from .jinja import JINJA_CACHE_ATTR_NAME, CacheExtension

__all__ = ["JINJA_CACHE_ATTR_NAME", "CacheExtension"]
