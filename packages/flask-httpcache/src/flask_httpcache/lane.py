"""The request handler's hit lane: a fresh hit served before Flask builds a request context,
when nothing but the cache would have seen the request.

On a hit, the ``before_request`` hook of :class:`~flask_httpcache.RequestHandler` answers, and
Flask then runs the ``after_request`` hooks, saves the session, sends its signals and tears
the contexts down. When the app has none of those that could act (no other hook, teardown
function or URL value preprocessor, no receiver of Flask's request signals, no session to
save, Flask's own request pipeline, request and response classes) the answer is the same
without any of it, so the lane gives it straight from WSGI, as
:class:`~flask_httpcache.HTTPCacheMiddleware` does (both through :mod:`.fresh`). As soon as
any of that is there, or the request is anything but a plain GET or HEAD of a fresh
response that Werkzeug would write as stored, every request takes the hook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, has_app_context
from flask import signals as flask_signals
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Request, Response

from flask_cachecore.compat import has_handled_a_request

from .fresh import FreshHits
from .query_rules import apply_query_rules, has_query_rules
from .store import Store

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

#: Flask's methods that a hit passes through; an app class that overrides one gets no lane
_PIPELINE = (
    "wsgi_app",
    "request_context",
    "app_context",
    "full_dispatch_request",
    "preprocess_request",
    "finalize_request",
    "make_response",
    "process_response",
    "do_teardown_request",
    "do_teardown_appcontext",
    "ensure_sync",
    "handle_user_exception",
)
#: Flask's signals of a request's life; a receiver of any, for this app or for every sender,
#: turns the lane off while connected
_SIGNALS = (
    flask_signals.request_started,
    flask_signals.request_finished,
    flask_signals.request_tearing_down,
    flask_signals.got_request_exception,
    flask_signals.appcontext_pushed,
    flask_signals.appcontext_tearing_down,
    flask_signals.appcontext_popped,
)
#: environ key of Werkzeug's test client when it keeps the request context after a request
_PRESERVE_CONTEXT = "werkzeug.debug.preserve_context"


def is_response_hook(func: Callable[..., Any]) -> bool:
    """Whether ``func`` is a :class:`~flask_httpcache.ResponseHandler` hook, which leaves a
    response served from the cache as it is."""
    return getattr(func, "httpcache_response_hook", False) is True


class HitLane:
    """Wraps Flask's own ``wsgi_app``: fresh hits from WSGI while the app is as described in
    the module's docstring, everything else to Flask.

    Installed by :class:`~flask_httpcache.RequestHandler` when ``app.wsgi_app`` is still
    Flask's own (middleware installed later wraps the lane, and runs before it as it runs
    before Flask); ``Config(hit_lane=False)`` turns it off.
    """

    def __init__(
        self,
        app: Flask,
        wsgi_app: WSGIApplication,
        store: Store,
        request_hook: Callable[[], Any],
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.request_hook = request_hook
        self.fresh = FreshHits(store)
        self.query_rules = has_query_rules(store.config)
        #: whether the app's hooks allow the lane: decided once Flask refuses new hooks
        self._layout_allows: bool | None = None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self.query_rules:
            apply_query_rules(environ, self.fresh.config)
        method = environ.get("REQUEST_METHOD")
        if (method == "GET" or method == "HEAD") and self.open_for(environ):
            try:
                answer = self.fresh.answer(environ, method)
            except Exception:  # the hook's own path then answers, or reports the error
                logger.debug("hit lane failed, the request goes to Flask", exc_info=True)
                answer = None
            if answer is not None:
                return self.fresh.write(answer, start_response)
        return self.wsgi_app(environ, start_response)

    def open_for(self, environ: WSGIEnvironment) -> bool:
        """Whether nothing but the request hook would act on this request if it were a hit."""
        if self._layout_allows is None:
            # Flask refuses new hooks once it handled a request; before that, decide nothing
            if not has_handled_a_request(self.app):
                return False
            self._layout_allows = self.layout_allows()
        app = self.app
        if (
            not self._layout_allows
            or _PRESERVE_CONTEXT in environ
            # attributes Flask lets change at any time: checked on every request
            or app.request_class is not Request
            or app.response_class is not Response
            or type(app.session_interface) is not SecureCookieSessionInterface
            # Flask would reuse an app context of this app that is already pushed
            or has_app_context()
        ):
            return False
        for signal in _SIGNALS:
            # Flask sends them with the app as sender: receivers for other apps don't count
            if signal.has_receivers_for(app):
                return False
        # a session cookie may be refreshed on every request (SESSION_REFRESH_EACH_REQUEST)
        return "HTTP_COOKIE" not in environ or not app.secret_key

    def layout_allows(self) -> bool:
        """The app's hooks, classes and session interface allow the lane (see module doc)."""
        app = self.app
        cls = type(app)
        if any(getattr(cls, name) is not getattr(Flask, name) for name in _PIPELINE):
            return False
        if not self.fresh.config.hit_lane or self.fresh.config.resource_exemptions:
            return False
        if any(app.url_value_preprocessors.values()):
            return False
        if any(app.teardown_request_funcs.values()) or app.teardown_appcontext_funcs:
            return False
        before = {scope: funcs for scope, funcs in app.before_request_funcs.items() if funcs}
        if list(before) != [None] or before[None][0] is not self.request_hook:
            return False
        return all(
            is_response_hook(func) for funcs in app.after_request_funcs.values() for func in funcs
        )
