"""``flask viewcache clear`` and ``flask viewcache stats``."""

from __future__ import annotations

import json
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from flask_cachecore.compat import redis_write_client

from .store import Store


def _stores() -> list[tuple[Any, Store]]:
    states: dict[Any, Store] = current_app.extensions.get("viewcache", {})
    return list(states.items())


def _describe(store: Store) -> str:
    raw = getattr(store.direct, "backend", store.direct)
    return f"{type(raw).__name__} (key prefix {store.key_prefix!r})"


def _is_redis(raw: Any) -> bool:
    return redis_write_client(raw) is not None


def _is_memcached(raw: Any) -> bool:
    return type(raw).__name__ in ("PymemcacheCache", "MemcachedCache")


@click.group("viewcache")
def viewcache_cli() -> None:
    """Inspect and clear this app's flask-viewcache entries."""


@viewcache_cli.command("clear")
@click.option(
    "--flush-all",
    is_flag=True,
    help="Memcached only: flush every key of the servers (they cannot delete by prefix).",
)
@with_appcontext
def clear_command(flush_all: bool) -> None:
    """Delete this app's entries: only the keys under CACHE_KEY_PREFIX, never a whole Redis."""
    failed = False
    for _cache, store in _stores():
        raw = getattr(store.direct, "backend", store.direct)
        if _is_redis(raw) and not getattr(raw, "key_prefix", ""):
            click.echo(
                f"refused: {_describe(store)} has no CACHE_KEY_PREFIX, so clearing it would"
                " flush the whole Redis database; set CACHE_KEY_PREFIX",
                err=True,
            )
            failed = True
            continue
        if _is_memcached(raw) and not flush_all:
            click.echo(
                f"refused: {_describe(store)}: memcached cannot delete by prefix; pass"
                " --flush-all to flush every key of its servers",
                err=True,
            )
            failed = True
            continue
        if store.local_versions is not None:
            click.echo(
                f"{_describe(store)} lives inside each app process: restart them to clear it"
            )
            continue
        if store.direct.clear():
            click.echo(f"cleared {_describe(store)}")
        else:
            click.echo(f"could not clear {_describe(store)}: the backend failed", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


@viewcache_cli.command("stats")
@with_appcontext
def stats_command() -> None:
    """Show each cache's backend, its state and, for Redis, the number of keys under the
    prefix. Hit counters are per process: read them with ``cache.stats()`` in the app."""
    report = []
    for cache, store in _stores():
        raw = getattr(store.direct, "backend", store.direct)
        entry: dict[str, Any] = {"cache": _describe(store), **cache.stats()}
        if _is_redis(raw) and hasattr(raw, "_scan_prefix"):
            try:
                entry["keys"] = sum(1 for _ in raw._scan_prefix())
            except Exception as exc:  # a backend that is down: say so, do not crash
                entry["keys"] = f"unavailable ({type(exc).__name__})"
        elif hasattr(raw, "__len__"):
            entry["keys"] = len(raw)
        report.append(entry)
    click.echo(json.dumps(report, indent=2, sort_keys=True, default=str))
