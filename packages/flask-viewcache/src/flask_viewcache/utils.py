"""Flask-Caching's public helpers under its import path (``flask_caching.utils``)."""

from .calls import join_generator
from .keys import FRAGMENT_PREFIX, function_namespace, make_template_fragment_key

#: the start of every ``{% cache %}`` fragment's key, as in Flask-Caching
TEMPLATE_FRAGMENT_KEY_TEMPLATE = FRAGMENT_PREFIX + "%s%s"

__all__ = [
    "TEMPLATE_FRAGMENT_KEY_TEMPLATE",
    "function_namespace",
    "join_generator",
    "make_template_fragment_key",
]
