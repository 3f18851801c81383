"""The header decorators on ``async def`` views, through Flask (which awaits them)."""

from __future__ import annotations

import asyncio
import inspect

from flask import Flask

from flask_httpcache import cache_control, cache_for, dont_cache, easy_setup, vary


def async_app() -> Flask:
    app = Flask(__name__)

    @app.get("/for")
    @cache_for(minutes=5)
    async def for_view() -> str:
        await asyncio.sleep(0)
        return "five minutes"

    @app.get("/control")
    @cache_control(public=True, s_maxage=60)
    async def control_view() -> tuple[str, int]:
        return "shared for a minute", 200

    @app.get("/never")
    @dont_cache()
    async def never_view() -> str:
        return "never stored"

    @app.get("/vary")
    @vary("Accept-Language")
    @cache_for(seconds=30)
    async def vary_view() -> str:
        return "by language"

    return app


def test_decorated_async_views_stay_coroutine_functions() -> None:
    app = async_app()
    for endpoint in ("for_view", "control_view", "never_view", "vary_view"):
        assert inspect.iscoroutinefunction(app.view_functions[endpoint]), endpoint


def test_cache_for_on_an_async_view_sets_max_age_and_expires() -> None:
    response = async_app().test_client().get("/for")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "five minutes"
    assert response.cache_control.max_age == 300
    assert response.expires is not None


def test_cache_control_dont_cache_and_vary_on_async_views() -> None:
    client = async_app().test_client()
    control = client.get("/control")
    assert (control.status_code, control.cache_control.public) == (200, True)
    assert control.cache_control.s_maxage == 60
    assert client.get("/never").cache_control.no_store is True
    varied = client.get("/vary")
    assert "Accept-Language" in varied.vary
    assert varied.cache_control.max_age == 30


def test_an_async_view_with_cache_for_is_stored_by_the_shared_cache() -> None:
    app = async_app()
    easy_setup(app)
    client = app.test_client()
    assert "stored" in client.get("/for").headers["Cache-Status"]
    assert "hit" in client.get("/for").headers["Cache-Status"]
