"""The background refresh of stale-while-revalidate (RFC 5861 §3): the view runs again for a
stored response while the stale one is served."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from werkzeug.test import run_wsgi_app

from flask_cachecore import claim_refresh

from .environ import refresh_environ
from .store import Store

logger = logging.getLogger(__name__)


def refresh_in_background(store: Store, uri_key: str, environ: dict[str, Any]) -> None:
    """Run the view again for ``uri_key`` in the background (``Config.background``), once
    across every process sharing the backend: the first to take the refresh lease of
    flask-cachecore's stampede model refreshes (a lease with a token, so a refresher whose
    claim expired never releases the next one's)."""
    lease = claim_refresh(uri_key, lock_cache=store.cache, lock_timeout=60)
    if lease is None:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    copy = refresh_environ(environ)

    def refresh() -> None:
        try:
            # buffered: the whole answer is read and the app's iterable closed
            run_wsgi_app(app.wsgi_app, copy, buffered=True)
        except Exception:
            logger.exception("background refresh of %s failed", uri_key)
        finally:
            lease.release()

    store.config.background(refresh)
