"""flask-appcache: an Application Cache manifest and a service worker from one list of URLs."""

from .errors import AppcacheError
from .extension import Appcache
from .manifest import Entry, Listing

__version__ = "0.1.0"

__all__ = ["Appcache", "AppcacheError", "Entry", "Listing"]
