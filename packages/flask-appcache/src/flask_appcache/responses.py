"""The answers of the routes: the manifest, the service worker, the web app manifest, and the
headers hook of the listed URLs.

Each view gets its app's state bound (``functools.partial``), so a finalized manifest is sent
with no lookup of the extension, no hashing and no rendering: prepared bytes and three headers.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from flask import Response, request

from .config import Settings
from .errors import AppcacheError

if TYPE_CHECKING:
    from .extension import AppState, Served

logger = logging.getLogger(__name__)


def _served_or_503(state: AppState) -> Served | Response:
    served = state.prepared()
    if served is not None:
        return served
    try:
        return state.compute()
    except AppcacheError as error:
        # A broken list must not become a broken cache: the browser keeps its old version.
        logger.error("flask-appcache cannot serve the offline cache: %s", error)
        return Response(
            "the offline cache cannot be updated now\n",
            503,
            mimetype="text/plain",
            headers={"Cache-Control": "no-store"},
        )


def _send(body: bytes, etag: str, content_type: str) -> Response:
    """``body`` with ``no-cache`` (every use revalidates) and its ETag; 304 when it matches."""
    quoted = f'"{etag}"'
    if "HTTP_IF_NONE_MATCH" in request.environ and request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["ETag"] = quoted
    return response


def manifest(state: AppState) -> Response:
    if state.settings.kill_switch:
        # 404 or 410 marks an Application Cache obsolete: the browser deletes it (HTML, the
        # application cache download process)
        return Response("gone\n", 410, mimetype="text/plain", headers={"Cache-Control": "no-cache"})
    served = _served_or_503(state)
    if isinstance(served, Response):
        return served
    return _send(served.manifest, served.manifest_etag, "text/cache-manifest; charset=utf-8")


def worker(state: AppState) -> Response:
    served = _served_or_503(state)
    if isinstance(served, Response):
        return served
    response = _send(served.worker, served.worker_etag, "text/javascript; charset=utf-8")
    if state.settings.worker_scope is not None:
        response.headers["Service-Worker-Allowed"] = state.settings.worker_scope
    return response


def webmanifest(settings: Settings) -> Response:
    body = json.dumps(settings.webmanifest, sort_keys=True, indent=1)
    return Response(
        body, mimetype="application/manifest+json", headers={"Cache-Control": "no-cache"}
    )


def revalidate_listed(state: AppState, response: Response) -> Response:
    """A listed URL without caching headers of its own gets ``no-cache``: it is checked again
    on every use, so an update never copies a stale body from the browser's HTTP cache into
    the offline cache. Every other response is left as the app made it."""
    if (
        response.status_code == 200
        and "Cache-Control" not in response.headers  # the manifest and the worker have one
        and request.path in state.paths()
    ):
        response.headers["Cache-Control"] = "no-cache"
        response.headers.pop("Expires", None)
    return response
