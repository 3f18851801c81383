"""Misuses of decorated functions that ``mypy --strict`` must report (``test_typing.py``):
each line that ends with an error comment must get that error code, and no other line any."""

from __future__ import annotations

from flask_viewcache import Cache

cache = Cache(config={"CACHE_TYPE": "SimpleCache"})


@cache.memoize(timeout=60)
def total(user_id: int) -> float:
    return float(user_id)


@cache.cached()
def index() -> str:
    return "hello"


class Report:
    @cache.memoize()
    def rows(self, page: int) -> list[str]:
        return []


total("one")  # error: arg-type
total.uncached(1, 2)  # error: call-arg
as_text: str = total(1)  # error: assignment
total.cache_timeout = "soon"  # error: assignment
index.delete_memoized()  # error: attr-defined
Report().rows("first")  # error: arg-type
