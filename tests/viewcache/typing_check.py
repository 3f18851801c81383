"""A user's code that must type-check under ``mypy --strict`` (run by ``test_typing.py``):
decorated functions keep their parameters and return types, and carry Flask-Caching's
attributes. It also runs, so every attribute it names exists."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import assert_type

from flask import Flask

from flask_viewcache import Cache, CachedFunction, MemoizedFunction

app = Flask(__name__)
cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})


@cache.memoize(timeout=60)
def total(user_id: int, rate: float = 1.0) -> float:
    return user_id * rate


assert_type(total(1), float)
assert_type(total(1, rate=2.0), float)
assert_type(total.uncached(1), float)
assert_type(total.make_cache_key(total.uncached, 1), str)
total.cache_timeout = 120
total.cache_timeout = dt.timedelta(minutes=5)
total.delete_memoized()
cache.delete_memoized(total, 1)
as_plain_function: Callable[[int], float] = total
as_memoized: MemoizedFunction[[int, float], float] = total


@app.get("/")
@cache.cached(timeout=50, query_string=True)
def index() -> str:
    return "hello"


assert_type(index.uncached(), str)
index.cache_timeout = None
as_cached: CachedFunction[[], str] = index
with app.test_request_context("/"):
    assert_type(index(), str)
    assert_type(index.make_cache_key(), str)


class Report:
    @cache.memoize()
    def rows(self, page: int) -> list[str]:
        return [f"row {page}"]

    @cache.cached(key_prefix="summary")
    def summary(self) -> str:
        return "summary"


report = Report()
assert_type(report.rows(1), list[str])
assert_type(Report.rows(report, 1), list[str])
assert_type(report.summary(), str)
report.rows.delete_memoized()
cache.delete_memoized(report.rows)
cache.delete_memoized(Report.rows, report, 1)


@cache.memoize()
async def fetch(n: int) -> bytes:
    return bytes([n])


async def use_fetch() -> bytes:
    return assert_type(await fetch(1), bytes)


with app.app_context():
    assert asyncio.run(use_fetch()) == b"\x01"
