"""Surrogate keys: tagged responses, purge by tag (exact, in every process sharing the
backend), soft purge (served stale while one refresh runs, RFC 5861 §3)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from flask_httpcache import HTTPCache, cache_for, cache_tags
from flask_httpcache.tag_versions import tag_key

from .helpers import FakeClock, Jobs


def tagged_app(
    clock: FakeClock | None = None, **config: object
) -> tuple[Flask, HTTPCache, dict[str, int], Jobs]:
    """An app with HTTPCache over an in-process store on a fake clock, and views tagged by
    the decorator, by their own field, and not at all; ``runs`` counts each view's runs."""
    clock = clock or FakeClock()
    jobs = Jobs()
    app = Flask(__name__)
    app.config["HTTPCACHE_HIT_LANE"] = False
    for name, value in config.items():
        app.config[f"HTTPCACHE_{name.upper()}"] = value
    ext = HTTPCache()
    ext.init_app(app)
    # the fake clock and the held background jobs of the tests
    store = app.extensions["httpcache"].store
    store.config.clock = clock
    store.config.background = jobs
    runs: dict[str, int] = {}

    def count(name: str) -> int:
        runs[name] = runs.get(name, 0) + 1
        return runs[name]

    @app.route("/product/<int:pid>")
    @cache_tags("catalog")
    @cache_for(minutes=5)
    def product(pid: int) -> str:
        return f"product {pid} v{count(f'p{pid}')}"

    @app.route("/tagged/<int:pid>")
    def tagged(pid: int) -> tuple[str, int, dict[str, str]]:
        fields = {"Cache-Control": "max-age=300", "Surrogate-Key": f"product:{pid} catalog"}
        return f"tagged {pid} v{count(f't{pid}')}", 200, fields

    @app.route("/async")
    @cache_tags("async-tag")
    @cache_for(minutes=5)
    async def async_view() -> str:
        return f"async v{count('async')}"

    @app.route("/must")
    @cache_tags("must")
    def must() -> tuple[str, int, dict[str, str]]:
        return f"must v{count('must')}", 200, {"Cache-Control": "max-age=300, must-revalidate"}

    return app, ext, runs, jobs


def status(response: Any) -> str:
    return str(response.headers["Cache-Status"])


def test_a_tagged_response_is_stored_and_the_client_never_sees_the_field() -> None:
    app, _, runs, _ = tagged_app()
    client = app.test_client()
    first, second = client.get("/tagged/3"), client.get("/tagged/3")
    assert "stored" in status(first)
    assert "hit" in status(second)
    assert "Surrogate-Key" not in first.headers
    assert "Surrogate-Key" not in second.headers
    assert runs == {"t3": 1}


def test_purge_by_tag_invalidates_every_response_with_the_tag() -> None:
    clock = FakeClock()
    app, ext, runs, _ = tagged_app(clock)
    client = app.test_client()
    for path in ("/product/1", "/product/2", "/tagged/3"):
        client.get(path)
    with app.app_context():
        assert ext.purge(tag="catalog")
    clock.advance(1)  # a request that began at the instant of the purge is not stored
    for path in ("/product/1", "/product/2", "/tagged/3"):
        assert "hit" not in status(client.get(path)), path
    assert runs == {"p1": 2, "p2": 2, "t3": 2}
    assert "hit" in status(client.get("/product/1"))


def test_purge_by_tag_is_exact() -> None:
    """``product:3`` never purges ``product:33`` nor ``product:``, nor the reverse."""
    app, ext, runs, _ = tagged_app()
    client = app.test_client()
    for path in ("/tagged/3", "/tagged/33"):
        client.get(path)
    with app.app_context():
        for tag in ("product:", "product:333", "Product:3", "product:3 "[:-1] + "*"):
            ext.purge(tag=tag)
        assert "hit" in status(client.get("/tagged/3"))
        ext.purge(tag="product:3")
    assert "hit" not in status(client.get("/tagged/3"))
    assert "hit" in status(client.get("/tagged/33"))
    assert runs == {"t3": 2, "t33": 1}


def test_async_views_are_tagged() -> None:
    app, ext, _runs, _ = tagged_app()
    client = app.test_client()
    client.get("/async")
    assert "hit" in status(client.get("/async"))
    with app.app_context():
        ext.purge(tag="async-tag")
    assert client.get("/async").get_data(as_text=True) == "async v2"


def test_emit_surrogate_key_keeps_the_field_for_a_cdn() -> None:
    app, _, _, _ = tagged_app(emit_surrogate_key=True)
    client = app.test_client()
    first, second = client.get("/product/1"), client.get("/product/1")
    assert "hit" in status(second)
    assert first.headers["Surrogate-Key"] == second.headers["Surrogate-Key"] == "catalog"


def test_soft_purge_serves_stale_while_one_refresh_runs() -> None:
    clock = FakeClock()
    app, ext, runs, jobs = tagged_app(clock)
    client = app.test_client()
    client.get("/product/1")
    clock.advance(10)
    with app.app_context():
        ext.purge(tag="catalog", soft=True)
    clock.advance(1)
    answers = [client.get("/product/1") for _ in range(5)]
    assert all(a.get_data(as_text=True) == "product 1 v1" for a in answers)
    assert all("detail=stale-while-revalidate" in status(a) for a in answers)
    assert len(jobs.queued) == 1  # one refresh, held by its lock for the others
    assert jobs.run_all() == 1
    assert runs == {"p1": 2}
    fresh = client.get("/product/1")
    assert fresh.get_data(as_text=True) == "product 1 v2"
    assert "hit" in status(fresh)
    assert "stale" not in status(fresh)


def test_soft_purge_grace_runs_out() -> None:
    clock = FakeClock()
    app, ext, _runs, jobs = tagged_app(clock, soft_purge_grace=30)
    client = app.test_client()
    client.get("/product/1")
    with app.app_context():
        ext.purge(tag="catalog", soft=True)
    clock.advance(31)
    answer = client.get("/product/1")
    assert answer.get_data(as_text=True) == "product 1 v2"
    assert not jobs.queued


def test_soft_purge_with_grace_zero_is_a_hard_purge() -> None:
    app, ext, _runs, _jobs = tagged_app(soft_purge_grace=0)
    client = app.test_client()
    client.get("/product/1")
    with app.app_context():
        ext.purge(tag="catalog", soft=True)
    assert client.get("/product/1").get_data(as_text=True) == "product 1 v2"


def test_soft_purge_never_serves_stale_what_forbids_it() -> None:
    """must-revalidate (RFC 9111 §4.2.4): a soft-purged response is revalidated instead."""
    app, ext, _runs, jobs = tagged_app()
    client = app.test_client()
    client.get("/must")
    with app.app_context():
        ext.purge(tag="must", soft=True)
    answer = client.get("/must")
    assert answer.get_data(as_text=True) == "must v2"
    assert not jobs.queued


def test_a_hard_purge_after_a_soft_one_is_a_miss() -> None:
    app, ext, _runs, _jobs = tagged_app()
    client = app.test_client()
    client.get("/product/1")
    with app.app_context():
        ext.purge(tag="catalog", soft=True)
        ext.purge(tag="catalog")
    assert client.get("/product/1").get_data(as_text=True) == "product 1 v2"


def test_soft_purge_by_url() -> None:
    clock = FakeClock()
    app, ext, _runs, jobs = tagged_app(clock)
    client = app.test_client()
    client.get("/product/1")
    with app.app_context():
        assert ext.purge("http://localhost/product/1", soft=True)
    clock.advance(1)
    answer = client.get("/product/1")
    assert answer.get_data(as_text=True) == "product 1 v1"
    assert "detail=stale-while-revalidate" in status(answer)
    assert jobs.run_all() == 1
    assert client.get("/product/1").get_data(as_text=True) == "product 1 v2"


def test_a_response_made_before_a_purge_of_its_tag_is_not_stored() -> None:
    """The view read its data, then the tag was purged: what it made is not stored."""
    app, ext, _runs, _ = tagged_app()

    @app.route("/racy")
    @cache_tags("racy")
    @cache_for(minutes=5)
    def racy() -> str:
        ext.purge(tag="racy")  # as another process would, while this view runs
        return "racy"

    client = app.test_client()
    assert "stored" not in status(client.get("/racy"))
    assert "hit" not in status(client.get("/racy"))


def test_a_lost_tag_version_is_a_miss() -> None:
    """An evicted version (memcached, Redis maxmemory) must not revive purged responses."""
    app, _, _runs, _ = tagged_app()
    client = app.test_client()
    client.get("/product/1")
    store = app.extensions["httpcache"].store
    store.cache.delete(tag_key("", "catalog"))
    assert "hit" not in status(client.get("/product/1"))


def test_revalidation_keeps_the_tags() -> None:
    """A 304 without Surrogate-Key freshens the stored response; its tags stay."""
    clock = FakeClock()
    app, ext, _runs, _ = tagged_app(clock)

    @app.route("/validated")
    @cache_tags("validated")
    def validated() -> Any:
        from flask import request

        if request.headers.get("If-None-Match") == '"v1"':
            return "", 304, {"ETag": '"v1"', "Cache-Control": "max-age=10"}
        return "body", 200, {"ETag": '"v1"', "Cache-Control": "max-age=10"}

    client = app.test_client()
    client.get("/validated")
    clock.advance(20)
    assert "fwd-status=304" in status(client.get("/validated"))
    assert "hit" in status(client.get("/validated"))
    with app.app_context():
        ext.purge(tag="validated")
    assert "hit" not in status(client.get("/validated"))


@pytest.mark.parametrize("bad", ["", "two words", "tab\tkey", "é", "x" * 1025, "nul\x00"])
def test_cache_tags_refuses_what_is_not_a_key(bad: str) -> None:
    with pytest.raises(ValueError, match="surrogate key"):
        cache_tags(bad)


def test_a_response_with_a_bad_surrogate_key_is_not_stored() -> None:
    app, _, _, _ = tagged_app()

    @app.route("/bad")
    def bad() -> tuple[str, int, dict[str, str]]:
        return "bad", 200, {"Cache-Control": "max-age=60", "Surrogate-Key": "ok \x7f"}

    @app.route("/many")
    def many() -> tuple[str, int, dict[str, str]]:
        keys = " ".join(f"k{i}" for i in range(65))
        return "many", 200, {"Cache-Control": "max-age=60", "Surrogate-Key": keys}

    client = app.test_client()
    for path in ("/bad", "/many"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "stored" not in status(answer)


def test_purge_needs_a_url_or_a_tag() -> None:
    app, ext, _, _ = tagged_app()
    with app.app_context():
        with pytest.raises(ValueError, match="give the URL or the tag"):
            ext.purge()
        with pytest.raises(ValueError, match="absolute URL"):
            ext.purge("/relative")
        with pytest.raises(ValueError, match="surrogate key"):
            ext.purge(tag="two words")


def test_cli_purges_by_tag_and_by_url() -> None:
    app, _, _runs, _ = tagged_app()
    client = app.test_client()
    client.get("/product/1")
    client.get("/tagged/3")
    cli = app.test_cli_runner()
    result = cli.invoke(args=["httpcache", "purge", "--tag", "product:3"])
    assert result.exit_code == 0, result.output
    assert result.output == "purged tag product:3\n"
    result = cli.invoke(args=["httpcache", "purge", "--url", "http://localhost/product/1"])
    assert result.output == "purged http://localhost/product/1\n"
    assert "hit" not in status(client.get("/product/1"))
    assert "hit" not in status(client.get("/tagged/3"))
    bad = cli.invoke(args=["httpcache", "purge", "--tag", "a\tb"])
    assert bad.exit_code == 2
    assert "not a surrogate key" in bad.output
    assert cli.invoke(args=["httpcache", "purge"]).exit_code == 2


def test_concurrent_requests_after_a_soft_purge_run_the_view_once() -> None:
    """Eight requests released together by a barrier after a soft purge: all get the stale
    copy, one refresh runs, the view runs once (no stampede on the origin)."""
    clock = FakeClock()
    app, ext, runs, jobs = tagged_app(clock)
    client = app.test_client()
    client.get("/product/1")
    with app.app_context():
        ext.purge(tag="catalog", soft=True)
    clock.advance(1)
    barrier = threading.Barrier(8)
    bodies: list[str] = []

    def one() -> None:
        barrier.wait()
        bodies.append(app.test_client().get("/product/1").get_data(as_text=True))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bodies == ["product 1 v1"] * 8
    assert jobs.run_all() == 1
    assert runs == {"p1": 2}


def _two_apps(
    redis_url: str, prefix: str, clock: FakeClock
) -> list[tuple[Flask, HTTPCache, dict[str, int], Jobs]]:
    return [
        tagged_app(clock, type="RedisCache", redis_url=redis_url, key_prefix=prefix)
        for _ in range(2)
    ]


def test_purge_reaches_every_app_on_one_redis(redis_url: str, unique_prefix: str) -> None:
    clock = FakeClock()
    (app_a, _, _runs_a, _), (app_b, ext_b, _runs_b, _) = _two_apps(redis_url, unique_prefix, clock)
    app_a.test_client().get("/tagged/3")
    assert "hit" in status(app_b.test_client().get("/tagged/3"))
    app_a.test_client().get("/tagged/33")
    with app_b.app_context():
        assert ext_b.purge(tag="product:3")
    clock.advance(1)
    assert "hit" not in status(app_a.test_client().get("/tagged/3"))
    assert "hit" in status(app_a.test_client().get("/tagged/33"))


def test_soft_purge_on_redis_refreshes_once_for_two_apps(
    redis_url: str, unique_prefix: str
) -> None:
    clock = FakeClock()
    (app_a, ext_a, runs_a, jobs_a), (app_b, _, runs_b, jobs_b) = _two_apps(
        redis_url, unique_prefix, clock
    )
    app_a.test_client().get("/product/1")
    with app_a.app_context():
        ext_a.purge(tag="catalog", soft=True)
    clock.advance(1)
    for app in (app_a, app_b, app_a, app_b):
        assert app.test_client().get("/product/1").get_data(as_text=True) == "product 1 v1"
    assert len(jobs_a.queued) + len(jobs_b.queued) == 1  # the refresh lock is in Redis
    jobs_a.run_all()
    jobs_b.run_all()
    assert runs_a.get("p1", 0) + runs_b.get("p1", 0) == 2
    assert app_b.test_client().get("/product/1").get_data(as_text=True) == "product 1 v2"


CLI_APP = """
import os

from flask import Flask

from flask_httpcache import HTTPCache

app = Flask(__name__)
app.config["HTTPCACHE_TYPE"] = "RedisCache"
app.config["HTTPCACHE_REDIS_URL"] = os.environ["TEST_REDIS_URL"]
app.config["HTTPCACHE_KEY_PREFIX"] = os.environ["TEST_PREFIX"]
HTTPCache(app)
"""


@pytest.mark.slow
def test_flask_httpcache_purge_in_another_process_reaches_this_one(
    redis_url: str, unique_prefix: str, tmp_path: Any
) -> None:
    """``flask httpcache purge --tag`` run as its own process, on the app's Redis."""
    import os
    import subprocess
    import sys
    import time

    (tmp_path / "cli_app.py").write_text(CLI_APP)
    # the purge is dated by the other process's wall clock: this app's starts at it
    clock = FakeClock(time.time())
    app, _, runs, _ = tagged_app(
        clock, type="RedisCache", redis_url=redis_url, key_prefix=unique_prefix
    )
    client = app.test_client()
    client.get("/tagged/3")
    client.get("/tagged/33")
    env = {**os.environ, "TEST_REDIS_URL": redis_url, "TEST_PREFIX": unique_prefix}
    command = [sys.executable, "-m", "flask", "--app", "cli_app", "httpcache", "purge"]
    done = subprocess.run(
        [*command, "--tag", "product:3"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "purged tag product:3\n"
    clock.now = time.time() + 1  # requests after the purge
    assert "hit" not in status(client.get("/tagged/3"))
    assert "hit" in status(client.get("/tagged/33"))
    assert runs == {"t3": 2, "t33": 1}
