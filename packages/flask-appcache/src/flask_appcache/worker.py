"""The service worker script and the page-side script that registers it, both rendered from
templates of the package (``templates/appcache/``) with one JSON object of settings each.

The JSON is written with sorted keys and no whitespace variation, so the same list gives the
same script bytes in every process; a browser installs a new worker exactly when a byte changed.
"""

from __future__ import annotations

import json
from typing import Any

from flask import render_template
from markupsafe import Markup

from .config import Settings
from .manifest import Listing


def _compact(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "), ensure_ascii=True)
    # also safe inside an inline <script>: nothing in it can close the element
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: Any) -> str:
    """A JSON object for a script: one key per line, and a list one item per line, so a
    thousand precache entries stay readable (and diffable) without growing much."""
    if not isinstance(value, dict):
        return _compact(value)
    lines = []
    for key in sorted(value):
        item = value[key]
        if isinstance(item, list) and item:
            inner = ",\n".join("    " + _compact(element) for element in item)
            lines.append(f"  {_compact(key)}: [\n{inner}\n  ]")
        else:
            lines.append(f"  {_compact(key)}: {_compact(item)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def precache_list(listing: Listing, settings: Settings) -> list[dict[str, str | None]]:
    """``{url, revision, integrity}`` per entry; no revision for URLs that carry a version."""
    return [
        {
            "url": entry.url,
            "revision": entry.revision,
            "integrity": entry.digest.integrity if settings.integrity else None,
        }
        for entry in listing.precache
    ]


def worker_settings(listing: Listing, settings: Settings, debug: bool) -> dict[str, Any]:
    runtime = (
        {"maxBytes": settings.runtime_max_bytes, "maxEntries": settings.runtime_max_entries}
        if settings.runtime_cache
        else None
    )
    return {
        "cacheName": settings.cache_name,
        "debug": debug,
        # in debug mode nothing is precached: every change shows at once
        "precache": [] if debug else precache_list(listing, settings),
        "fallback": [list(pair) for pair in settings.fallback],
        # AppCache's "*" means "everything else online", which a worker does anyway
        "network": [prefix for prefix in settings.network if prefix != "*"],
        "runtime": runtime,
        "version": listing.hash,
    }


def render_worker(listing: Listing, settings: Settings, debug: bool) -> str:
    """The service worker script; the kill-switch worker when ``APPCACHE_KILL_SWITCH`` is set."""
    if settings.kill_switch:
        return render_template(
            "appcache/kill-sw.js", cache_name=Markup(script_json(settings.cache_name))
        )
    return render_template(
        "appcache/sw.js", settings=Markup(script_json(worker_settings(listing, settings, debug)))
    )


def register_script(
    worker_url: str,
    settings: Settings,
    *,
    message: str,
    button: str,
    nonce: str | None = None,
) -> Markup:
    """The inline ``<script>`` of ``appcache_register()``."""
    options = {
        "button": button,
        "cacheName": settings.cache_name,
        "kill": settings.kill_switch,
        "message": message,
        "scope": settings.worker_scope,
        "update": settings.update,
        "url": worker_url,
    }
    body = render_template("appcache/register.js", options=Markup(script_json(options)))
    nonce_attribute = Markup(' nonce="{}"').format(nonce) if nonce else Markup("")
    return Markup("<script{}>\n{}</script>").format(nonce_attribute, Markup(body))
