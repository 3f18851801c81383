"""The site test_browser.py opens in Chromium, served by gunicorn: ``browser_site:app``.

Its files live under ``$SITE_ROOT`` (the test changes them between two server runs); every
browser request's path is appended to ``$SITE_ROOT/requests.log``, so the test can see what
the service worker fetched. ``$SITE_KILL=1`` turns the kill switch on, ``$SITE_RUNTIME=1`` the
runtime cache (2 entries), ``$SITE_UPDATE=auto`` the automatic update.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response, render_template_string, request

from flask_appcache import Appcache

ROOT = Path(os.environ["SITE_ROOT"])

PAGE = """<!doctype html>
<html manifest="{{ url_for('manifest_appcache') }}">
<head><title>{{ title }}</title><script src="/static/app.js"></script></head>
<body>
<h1 id="title">{{ title }}</h1>
<script>
window.addEventListener("appcache:install-failed", function (event) {
  window.installFailure = event.detail;
});
</script>
{{ appcache_register() }}
</body>
</html>
"""

app = Flask(__name__, static_folder=str(ROOT / "static"))
app.config.update(
    APPCACHE_FALLBACK={"/": "/offline"},
    APPCACHE_NETWORK=["/api", "*"],
    APPCACHE_KILL_SWITCH=os.environ.get("SITE_KILL") == "1",
    APPCACHE_RUNTIME_CACHE=os.environ.get("SITE_RUNTIME") == "1",
    APPCACHE_RUNTIME_MAX_ENTRIES=2,
    APPCACHE_UPDATE=os.environ.get("SITE_UPDATE", "prompt"),
)
appcache = Appcache(app)


@app.after_request
def log_request(response: Response) -> Response:
    if request.user_agent.string.startswith("Werkzeug/"):
        return response  # finalize() rendering the listed views: not the browser
    with open(ROOT / "requests.log", "a") as log:
        log.write(request.path + "\n")
    return response


@app.get("/")
def index() -> str:
    return render_template_string(PAGE, title="home")


@app.get("/about")
def about() -> str:
    return render_template_string(PAGE, title="about")


@app.get("/unlisted")
def unlisted() -> str:
    return render_template_string(PAGE, title="unlisted")


@app.get("/offline")
def offline() -> str:
    return render_template_string(PAGE, title="offline fallback")


@app.get("/r/<int:number>")
def runtime_resource(number: int) -> str:
    return f"resource {number}"


@app.get("/api/time")
def api_time() -> dict[str, int]:
    return {"calls": sum(1 for line in open(ROOT / "requests.log") if line == "/api/time\n")}


appcache.add_urls("/", "/about")
appcache.add_folder(ROOT / "static")
appcache.finalize()
