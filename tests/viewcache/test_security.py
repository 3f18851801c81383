"""What one user's request makes never reaches another user through a cached view.

Regression tests of the attack run of issue 8: lock waiters of a result that is not stored,
cookies set in every way Flask allows, the session read outside the view, conditional and
partial answers, and the scheme in the key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import (
    Blueprint,
    Flask,
    Response,
    after_this_request,
    g,
    make_response,
    render_template_string,
    request,
    session,
    url_for,
)
from flask.testing import FlaskClient

from flask_cachecore import DistributedLock, claim_refresh, stampede
from flask_viewcache import Cache
from flask_viewcache import store as store_module
from flask_viewcache.engine import lock_key
from flask_viewcache.storable import RESPONSE_MARK
from flask_viewcache.store import MARK


def new_app(**config: Any) -> tuple[Flask, Cache]:
    app = Flask(__name__)
    app.config.update({"SECRET_KEY": "test", "CACHE_TYPE": "SimpleCache", **config})
    cache = Cache(app)

    @app.post("/login/<name>")
    def login(name: str) -> str:
        session["user"] = name
        return "ok"

    return app, cache


def client_of(app: Flask, user: str | None) -> FlaskClient:
    client = app.test_client()
    if user is not None:
        client.post(f"/login/{user}")
    return client


def stats_of(app: Flask, cache: Cache, view: str) -> dict[str, int]:
    with app.app_context():
        functions = cache.stats()["functions"]
    return next(v for k, v in functions.items() if k.endswith(view))


def token_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie("token")
    return None if cookie is None else cookie.value


# -- 1. lock waiters -------------------------------------------------------------------------


def answer_of_session_user() -> Response:
    user = session["user"]
    response = make_response(f"user={user}")
    response.set_cookie("token", f"token-of-{user}")
    return response


def answer_of_header_user() -> Any:
    user = request.headers["X-User"]
    return f"user={user}", 200, {"Set-Cookie": f"token=token-of-{user}"}


def signal_waiters(monkeypatch: pytest.MonkeyPatch, event: threading.Event, count: int) -> None:
    """Set ``event`` once ``count`` callers have joined a flight led by another: they are
    waiting (or about to wait) for its result."""
    join = stampede._process_flights.join
    waiters: list[str] = []

    def counting_join(key: str) -> Any:
        flight, leader = join(key)
        if not leader:
            waiters.append(key)
            if len(waiters) == count:
                event.set()
        return flight, leader

    monkeypatch.setattr(stampede._process_flights, "join", counting_join)


@pytest.mark.parametrize(
    "answer", [answer_of_session_user, answer_of_header_user], ids=["session", "tuple-cookie"]
)
def test_lock_waiters_of_a_result_that_is_not_stored_run_the_view_themselves(
    monkeypatch: pytest.MonkeyPatch, answer: Callable[[], Any]
) -> None:
    app, cache = new_app()
    leader_in, release, waiters_in = threading.Event(), threading.Event(), threading.Event()
    runs: list[str] = []

    @app.get("/me")
    @cache.cached(timeout=60, lock=True)
    def me() -> Any:
        user = request.headers["X-User"]
        runs.append(user)
        if user == "alice":
            leader_in.set()
            assert release.wait(10)
        return answer()

    # set once the two other requests have joined alice's flight: they wait for her result
    signal_waiters(monkeypatch, waiters_in, count=2)
    clients = {name: client_of(app, name) for name in ("alice", "bob", "carol")}
    results: dict[str, tuple[str, str | None]] = {}

    def get(name: str) -> None:
        client = clients[name]
        body = client.get("/me", headers={"X-User": name}).get_data(as_text=True)
        results[name] = (body, token_cookie(client))

    threads = {name: threading.Thread(target=get, args=(name,)) for name in clients}
    threads["alice"].start()
    assert leader_in.wait(10)
    threads["bob"].start()
    threads["carol"].start()
    assert waiters_in.wait(10)
    release.set()
    for thread in threads.values():
        thread.join(20)
    assert results == {name: (f"user={name}", f"token-of-{name}") for name in clients}
    assert sorted(runs) == ["alice", "bob", "carol"]


def test_lock_waiters_of_a_stored_result_get_it_without_running_the_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, cache = new_app()
    leader_in, release, waiter_in = threading.Event(), threading.Event(), threading.Event()
    runs: list[int] = []

    @app.get("/news")
    @cache.cached(timeout=60, lock=True)
    def news() -> str:
        runs.append(1)
        leader_in.set()
        assert release.wait(10)
        return "the news"

    signal_waiters(monkeypatch, waiter_in, count=1)
    bodies: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: bodies.append(app.test_client().get("/news").data))
        for _ in range(2)
    ]
    threads[0].start()
    assert leader_in.wait(10)
    threads[1].start()
    assert waiter_in.wait(10)
    release.set()
    for thread in threads:
        thread.join(20)
    assert bodies == [b"the news", b"the news"]
    assert len(runs) == 1


def test_a_lock_waiter_of_another_scheme_never_gets_the_holders_answer() -> None:
    """Flask-Caching's key has no scheme: the entry records it, and the lock is per
    scheme too, so an https request never waits for (and is handed) an http answer."""
    app, cache = new_app()
    http_in, release, https_ran = threading.Event(), threading.Event(), threading.Event()

    @app.get("/links")
    @cache.cached(timeout=60, lock=True)
    def links() -> str:
        if request.scheme == "http":
            http_in.set()
            assert release.wait(10)
        else:
            https_ran.set()
        return f"<a href='{request.scheme}://localhost/next'>"

    bodies: dict[str, str] = {}

    def get(scheme: str) -> None:
        client = app.test_client()
        response = client.get("/links", base_url=f"{scheme}://localhost")
        bodies[scheme] = response.get_data(as_text=True)

    http = threading.Thread(target=get, args=("http",))
    http.start()
    assert http_in.wait(10)
    https = threading.Thread(target=get, args=("https",))
    https.start()
    # the https request runs its own view while the http one still holds its lock
    ran_alone = https_ran.wait(10)
    release.set()
    http.join(20)
    https.join(20)
    assert ran_alone
    assert bodies == {
        "http": "<a href='http://localhost/next'>",
        "https": "<a href='https://localhost/next'>",
    }


# -- 2. cookies, whatever the view returned --------------------------------------------------


def tuple_with_headers(user: str) -> Any:
    return f"page of {user}", 200, {"Set-Cookie": f"token={user}"}


def tuple_with_headers_no_status(user: str) -> Any:
    return f"page of {user}", {"Set-Cookie": f"token={user}"}


def response_and_status(user: str) -> Any:
    response = make_response(f"page of {user}")
    response.set_cookie("token", user)
    return response, 200


def response_with_cookie(user: str) -> Any:
    response = make_response(f"page of {user}")
    response.set_cookie("token", user)
    return response


def cookie_after_this_request(user: str) -> Any:
    @after_this_request
    def set_token(response: Response) -> Response:
        response.set_cookie("token", user)
        return response

    return f"page of {user}"


def cookie_header_list(user: str) -> Any:
    return f"page of {user}", 200, [("Set-Cookie", f"token={user}")]


@pytest.mark.parametrize(
    "answer",
    [
        tuple_with_headers,
        tuple_with_headers_no_status,
        response_and_status,
        response_with_cookie,
        cookie_after_this_request,
        cookie_header_list,
    ],
)
@pytest.mark.parametrize("lock", [False, True])
def test_a_response_that_sets_a_cookie_is_never_stored(
    answer: Callable[[str], Any], lock: bool
) -> None:
    app, cache = new_app()

    @app.get("/page")
    @cache.cached(timeout=60, lock=lock)
    def page() -> Any:
        return answer(request.headers["X-User"])

    for user in ("alice", "bob", "alice"):
        client = app.test_client()
        response = client.get("/page", headers={"X-User": user})
        assert response.get_data(as_text=True) == f"page of {user}"
        assert token_cookie(client) == user
    assert stats_of(app, cache, "page")["hits"] == 0


def test_a_cached_helper_returning_a_tuple_keeps_it_and_is_cached() -> None:
    app, cache = new_app()
    calls: list[int] = []

    @cache.cached(timeout=60, key_prefix="pair")
    def pair() -> tuple[int, dict[str, int]]:
        calls.append(1)
        return 1, {"a": 2}

    @app.get("/")
    def index() -> str:
        return repr(pair())

    client = app.test_client()
    assert client.get("/").data == b"(1, {'a': 2})"
    assert client.get("/").data == b"(1, {'a': 2})"
    assert len(calls) == 1


def test_a_tuple_answer_without_a_cookie_is_stored_with_its_status_and_headers() -> None:
    app, cache = new_app()

    @app.get("/made")
    @cache.cached(timeout=60)
    def made() -> Any:
        return "created", 201, {"X-Kind": "made"}

    client = app.test_client()
    client.get("/made")
    response = client.get("/made")
    assert (response.status_code, response.headers["X-Kind"], response.data) == (
        201,
        "made",
        b"created",
    )
    assert stats_of(app, cache, "made")["hits"] == 1


# -- 3. the session read anywhere in the request ---------------------------------------------


def app_with_session_outside_the_view(where: str) -> tuple[Flask, Cache]:
    app, cache = new_app()
    bp = Blueprint("bp", __name__)

    if where == "before_request":

        @app.before_request
        def load_logged_in_user() -> None:  # the Flask tutorial's hook
            g.user = session.get("user")

    elif where == "blueprint_before_request":

        @bp.before_request
        def load_user_of_blueprint() -> None:
            g.user = session.get("user")

    elif where == "context_processor":

        @app.context_processor
        def inject_user() -> dict[str, Any]:
            return {"user": session.get("user")}

    @bp.get("/profile")
    @cache.cached(timeout=60)
    def profile() -> str:
        if where == "template":
            return render_template_string("profile of {{ session.get('user') }}")
        if where == "context_processor":
            return render_template_string("profile of {{ user }}")
        return f"profile of {g.get('user')}"

    app.register_blueprint(bp)
    return app, cache


@pytest.mark.parametrize(
    "where", ["before_request", "blueprint_before_request", "template", "context_processor"]
)
def test_a_session_read_outside_the_view_keeps_the_page_out_of_the_cache(where: str) -> None:
    app, cache = app_with_session_outside_the_view(where)
    for user in ("alice", "bob", None, "alice"):
        body = client_of(app, user).get("/profile").get_data(as_text=True)
        assert body == f"profile of {user}"
    assert stats_of(app, cache, "profile")["hits"] == 0


def test_a_key_by_user_is_still_cached_when_a_hook_reads_the_session() -> None:
    app, cache = new_app()
    runs: list[int] = []

    @app.before_request
    def load_logged_in_user() -> None:
        g.user = session.get("user")

    @app.get("/mine")
    @cache.cached(timeout=60, make_cache_key=lambda: f"mine-of-{session.get('user')}")
    def mine() -> str:
        runs.append(1)
        return f"page of {g.user}"

    alice, bob = client_of(app, "alice"), client_of(app, "bob")
    assert alice.get("/mine").data == b"page of alice"
    assert bob.get("/mine").data == b"page of bob"
    assert alice.get("/mine").data == b"page of alice"
    assert len(runs) == 2


# -- 4. conditional and partial answers ------------------------------------------------------


def app_with_conditional_view() -> tuple[Flask, Cache]:
    app, cache = new_app()

    @app.get("/file")
    @cache.cached(timeout=60)
    def file() -> Response:
        response = make_response("0123456789")
        response.set_etag("v1")
        return response.make_conditional(request, accept_ranges=True, complete_length=10)

    return app, cache


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"If-None-Match": "*"}, 304),
        ({"If-None-Match": '"v1"'}, 304),
        ({"Range": "bytes=0-3"}, 206),
        ({"If-Match": '"other"'}, 412),
        ({"Range": "bytes=50-60"}, 416),
    ],
)
def test_a_conditional_answer_is_never_stored(headers: dict[str, str], status: int) -> None:
    app, _ = app_with_conditional_view()
    client = app.test_client()
    assert client.get("/file", headers=headers).status_code == status
    full = app.test_client().get("/file")
    assert (full.status_code, full.data) == (200, b"0123456789")


def test_a_stored_partial_is_never_served() -> None:
    app, cache = app_with_conditional_view()
    with app.test_request_context("/file"):
        key = app.view_functions["file"].make_cache_key()
        cache.set(key, (MARK, (RESPONSE_MARK, 206, [], "0123"), (), 0))
    for headers in ({}, {"If-None-Match": '"other"'}, {"If-Range": '"other"'}):
        response = app.test_client().get("/file", headers=headers)
        assert (response.status_code, response.data) == (200, b"0123456789")


# -- 8. the scheme -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "https_hits"),
    [({}, 0), ({"CACHE_VIEW_KEY_REQUEST_PARTS": True}, 1)],
    ids=["entry-records-the-scheme", "scheme-in-the-key"],
)
def test_an_https_page_is_never_served_to_an_http_client(
    config: dict[str, Any], https_hits: int
) -> None:
    # by default the entry records its scheme (the http answer replaces the https one); with
    # the request's parts in the key each scheme keeps an entry of its own
    app, cache = new_app(**config)

    @app.get("/links")
    @cache.cached(timeout=60)
    def links() -> str:
        return url_for("links", _external=True)

    client = app.test_client()
    assert client.get("/links", base_url="https://localhost").data == b"https://localhost/links"
    assert client.get("/links", base_url="http://localhost").data == b"http://localhost/links"
    assert client.get("/links", base_url="https://localhost").data == b"https://localhost/links"
    assert stats_of(app, cache, "links")["hits"] == https_hits


def test_make_cache_key_takes_the_scheme() -> None:
    app, _ = new_app(CACHE_VIEW_KEY_REQUEST_PARTS=True)

    @app.get("/links")
    @cache_of(app).cached(timeout=60)
    def links() -> str:
        return "x"

    with app.test_request_context("/links", base_url="https://example.com"):
        in_request = links.make_cache_key()  # type: ignore[attr-defined]
    with app.app_context():
        assert links.make_cache_key(path="/links", host="example.com", scheme="https") == (  # type: ignore[attr-defined]
            in_request
        )
        assert links.make_cache_key(path="/links", host="example.com") != in_request  # type: ignore[attr-defined]


def cache_of(app: Flask) -> Cache:
    return next(iter(app.extensions["viewcache"]))


# -- 1. under a real gunicorn with threads ---------------------------------------------------

LOCKED_SESSION_APP = """
import threading

from flask import Flask, make_response, session

from flask_cachecore import stampede
from flask_viewcache import Cache

app = Flask(__name__)
app.config.update(SECRET_KEY="test", CACHE_TYPE="SimpleCache", CACHE_LOCK=True)
cache = Cache(app)
waiters = threading.Semaphore(0)
leader_in = threading.Event()
join = stampede._process_flights.join


def counting_join(key):
    flight, leader = join(key)
    if not leader:
        waiters.release()
    return flight, leader


stampede._process_flights.join = counting_join


@app.post("/login/<name>")
def login(name):
    session["user"] = name
    return "ok"


@app.get("/leader-in")
def leader_is_in():
    return "yes" if leader_in.wait(10) else "no"


@app.get("/me")
@cache.cached(timeout=60)
def me():
    user = session["user"]
    if user == "alice":  # the lock holder: answer once the two others wait on its flight
        leader_in.set()
        for _ in range(2):
            waiters.acquire(timeout=10)
    response = make_response(f"user={user}")
    response.set_cookie("token", f"token-of-{user}")
    return response
"""


@pytest.mark.slow
def test_lock_waiters_under_gunicorn_get_their_own_answer(gunicorn: Any) -> None:
    import requests

    server = gunicorn(LOCKED_SESSION_APP, threads=4)
    sessions = {name: requests.Session() for name in ("alice", "bob", "carol")}
    for name, http in sessions.items():
        assert http.post(f"{server.url}/login/{name}", timeout=10).ok
    results: dict[str, tuple[str, str | None]] = {}

    def get(name: str) -> None:
        response = sessions[name].get(f"{server.url}/me", timeout=30)
        results[name] = (response.text, response.cookies.get("token"))

    threads = [threading.Thread(target=get, args=(name,)) for name in sessions]
    threads[0].start()
    assert requests.get(f"{server.url}/leader-in", timeout=15).text == "yes"
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert results == {name: (f"user={name}", f"token-of-{name}") for name in sessions}


# -- refresh claims ----------------------------------------------------------------------------


def test_a_refresh_claim_is_released_only_by_its_holder() -> None:
    app, cache = new_app()
    with app.app_context():
        backend = cache.store().backend
    first = claim_refresh("page", lock_cache=backend, lock_timeout=10)
    assert first is not None
    assert first.token is not None
    assert claim_refresh("page", lock_cache=backend) is None  # held in this process
    # the first claim's timeout passes, and a worker of another process claims the refresh
    assert backend.delete("lock:refresh:page")
    newer = DistributedLock(backend, "refresh:page", timeout=10)
    assert newer.acquire()
    first.release()  # the slow first holder is done: the newer claim is not its to delete
    assert backend.get("lock:refresh:page") == newer.token
    assert claim_refresh("page", lock_cache=backend) is None
    newer.release()
    third = claim_refresh("page", lock_cache=backend)
    assert third is not None
    third.release()


@pytest.mark.parametrize("backend", ["SimpleCache", "RedisCache"])
def test_a_slow_refresher_never_releases_the_claim_of_the_next_one(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    config: dict[str, Any] = {"CACHE_STATUS_HEADER": True}
    if backend == "RedisCache":
        config.update(request.getfixturevalue("redis_config"))
    app, cache = new_app(**config)
    now = [1000.0]
    monkeypatch.setattr(store_module, "wall_clock", lambda: now[0])
    entered, may_finish = threading.Event(), threading.Event()
    runs: list[int] = []

    @app.get("/report")
    @cache.cached(timeout=3600, soft_timeout=10)
    def report() -> str:
        runs.append(1)
        if len(runs) == 2:  # the refresher that is slow
            entered.set()
            assert may_finish.wait(10)
        return f"v{len(runs)}"

    client = app.test_client()
    assert client.get("/report").data == b"v1"
    now[0] += 11  # past the soft timeout
    answers: list[Any] = []
    slow = threading.Thread(target=lambda: answers.append(app.test_client().get("/report")))
    slow.start()
    assert entered.wait(10)
    with app.test_request_context("/report"):
        store = cache.store()
        claim = "lock:refresh:" + lock_key(report._viewcache_view.locate(store, (), {}))  # type: ignore[attr-defined]
    # the slow refresher's claim times out; a worker of another process claims the refresh
    assert store.backend.delete(claim)
    newer = DistributedLock(store.backend, claim.removeprefix("lock:"), timeout=60)
    assert newer.acquire()
    may_finish.set()
    slow.join(10)
    assert answers[0].data == b"v2"
    assert answers[0].headers["Cache-Status"] == "flask-viewcache; fwd=stale"
    assert store.backend.get(claim) == newer.token  # the slow one left the newer claim alone
    now[0] += 11  # stale again: while the newer claim is held, nobody here refreshes
    stale = client.get("/report")
    assert (stale.data, stale.headers["Cache-Status"]) == (b"v2", "flask-viewcache; hit")
    assert len(runs) == 2
    assert newer.release()
    refreshed = client.get("/report")
    assert (refreshed.data, refreshed.headers["Cache-Status"]) == (
        b"v3",
        "flask-viewcache; fwd=stale",
    )


def test_a_lease_whose_response_never_comes_is_released_with_the_request() -> None:
    app, cache = new_app()
    runs: list[int] = []

    @app.get("/direct")
    @cache.cached(timeout=60, lock=True)
    def direct() -> str:
        runs.append(1)
        return "made"

    with app.test_request_context("/direct"):
        assert direct() == "made"  # the view called by hand: no response is made
    assert not stampede._process_flights._flights  # the flight landed with the context
    assert app.test_client().get("/direct").data == b"made"
    assert app.test_client().get("/direct").data == b"made"
    assert len(runs) == 2  # the request stored it, the second was a hit


def test_the_store_after_the_response_adds_no_hook_or_signal_receiver() -> None:
    from flask import signals

    app, cache = new_app()

    @app.get("/plain")
    @cache.cached(timeout=60, lock=True)
    def plain() -> str:
        return "plain"

    app.test_client().get("/plain")
    assert not app.teardown_request_funcs
    assert not app.teardown_appcontext_funcs
    assert not signals.request_tearing_down.receivers
    assert not signals.request_finished.receivers
