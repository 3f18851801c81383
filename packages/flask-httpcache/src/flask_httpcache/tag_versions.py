"""Purge by surrogate key without an index: one version per tag, recorded in each entry.

A backend of cachelib has only get/set/add/delete (memcached has no sets), so no list of the
responses of a tag is kept. Each tag has a version in the backend, under
``httpcache:<salt>:tag:<digest of the tag>``: ``<epoch>.<soft>.<purged at>``. A stored
response records, per tag, the ``<epoch>.<soft>`` it saw when it was stored. On a hit the
versions of its tags are read in one ``get_many``:

- the same for every tag: the response is valid;
- another epoch, or no version at all (a purge, or the version was evicted): a miss;
- the same epoch but another ``soft``: soft-purged, served stale while one refresh runs.

A hard purge writes a new epoch, a soft purge a new ``soft`` under the same epoch; both
write the time of the purge, and a response whose view started before the last purge of one
of its tags is not stored (it may hold what the purge was meant to remove). The tags are
exact: the key is a digest of the whole tag, so ``product:3`` never touches ``product:33``.
Every process sharing the backend sees a purge on its next read. A response without tags
costs nothing; one with tags costs one ``get_many`` per hit.

Two purges of one tag at the same instant, one soft and one hard, may leave the soft one's
version (a hard purge then acts as a soft one); purges by several hosts compare times of
their clocks.
"""

from __future__ import annotations

import copy
import math
import secrets
from collections.abc import Sequence
from typing import Protocol, TypeVar

from cachelib import BaseCache

from flask_cachecore import KeyNamespace
from flask_cachecore.keys import digest

from .config import Config


class TaggedEntry(Protocol):
    """What this module reads and changes of a stored response (a
    :class:`~flask_httpcache.store.StoredResponse`; this module sits below the store)."""

    tags: tuple[str, ...]
    tag_versions: tuple[str, ...]
    request_time: float
    lifetime: int
    directives: dict[str, str | None]

    def current_age(self, now: float) -> float: ...

    def stale_allowance(self, name: str) -> int: ...


E = TypeVar("E", bound=TaggedEntry)

NAMESPACE = KeyNamespace("httpcache")
#: how long a tag's version is kept: a response that outlives it is a miss, never stale data
VERSION_TIMEOUT = 30 * 24 * 3600
#: most tag keys remembered per process (tags are the app's, but bounded all the same)
KEY_MEMO_SIZE = 4096

_keys: dict[tuple[str, str], str] = {}


def tag_key(salt: str, tag: str) -> str:
    """The backend key of a tag's version (a digest: exact, and fit for memcached)."""
    memo = (salt, tag)
    key = _keys.get(memo)
    if key is None:
        if len(_keys) >= KEY_MEMO_SIZE:
            _keys.clear()
        key = _keys[memo] = NAMESPACE.key(salt, "tag", digest(tag))
    return key


def parse_version(value: object) -> tuple[str, str, float] | None:
    """``(epoch, soft, purged_at)`` of a version read back; None for anything else."""
    if not isinstance(value, str):
        return None
    parts = value.split(".", 2)
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    try:
        purged_at = float(parts[2]) / 1000
    except ValueError:
        return None
    return parts[0], parts[1], purged_at


def format_version(epoch: str, soft: str, purged_at: float) -> str:
    return f"{epoch}.{soft}.{math.ceil(purged_at * 1000)}"


def versions_to_record(
    cache: BaseCache, salt: str, tags: Sequence[str], request_time: float
) -> tuple[str, ...] | None:
    """The ``<epoch>.<soft>`` of each tag for a response about to be stored, creating a
    version where a tag has none; None when the response must not be stored: a tag was
    purged after its request began, or the backend keeps no version."""
    keys = [tag_key(salt, tag) for tag in tags]
    recorded = []
    for key, value in zip(keys, cache.get_many(*keys), strict=True):
        version = parse_version(value)
        if version is None:
            token = secrets.token_hex(8)
            if not cache.add(key, format_version(token, token, 0.0), timeout=VERSION_TIMEOUT):
                version = parse_version(cache.get(key))  # someone else created it just now
            else:
                version = parse_version(cache.get(key))
            if version is None:
                return None
        epoch, soft, purged_at = version
        if purged_at >= request_time:
            return None
        recorded.append(f"{epoch}.{soft}")
    return tuple(recorded)


def purge_state(
    cache: BaseCache, salt: str, tags: Sequence[str], recorded: Sequence[str]
) -> tuple[str, float]:
    """``("valid", 0)``, ``("gone", 0)`` (a hard purge, or a version lost) or
    ``("soft", purged_at)`` (the earliest soft purge) for an entry's tags and the versions it
    recorded."""
    keys = [tag_key(salt, tag) for tag in tags]
    soft_at = 0.0
    for seen, value in zip(recorded, cache.get_many(*keys), strict=True):
        version = parse_version(value)
        if version is None:
            return "gone", 0.0
        epoch, soft, purged_at = version
        seen_epoch, _, seen_soft = seen.partition(".")
        if epoch != seen_epoch:
            return "gone", 0.0
        if soft != seen_soft and (not soft_at or purged_at < soft_at):
            soft_at = purged_at
    return ("soft", soft_at) if soft_at else ("valid", 0.0)


def purge_tag(cache: BaseCache, salt: str, tag: str, now: float, soft: bool = False) -> bool:
    """Invalidate every response tagged ``tag`` (``soft``: mark them stale) in every process
    sharing ``cache``; False when the backend did not take the new version."""
    key = tag_key(salt, tag)
    epoch = secrets.token_hex(8)
    if soft:
        current = parse_version(cache.get(key))
        if current is not None:
            epoch = current[0]
    return bool(cache.set(key, format_version(epoch, secrets.token_hex(8), now), VERSION_TIMEOUT))


def with_tag_versions(cache: BaseCache, salt: str, entry: E) -> E | None:
    """A copy of ``entry`` with the versions of its tags recorded, or None when it must not
    be stored (see :func:`versions_to_record`); an untagged ``entry`` as it is."""
    if not entry.tags:
        return entry
    versions = versions_to_record(cache, salt, entry.tags, entry.request_time)
    if versions is None:
        return None
    recorded = copy.copy(entry)
    recorded.tag_versions = versions
    return recorded


def checked_tags(cache: BaseCache, config: Config, entry: E) -> tuple[E | None, str]:
    """``entry`` as the versions of its tags leave it (an untagged one: valid, at once):
    valid, purged (a ``miss``), or
    soft-purged: stale since the purge, with :attr:`Config.soft_purge_grace` seconds of
    ``stale-while-revalidate`` (RFC 5861 §3), so that one refresh runs while the others are
    served the stale copy (unless the response forbids serving it stale, RFC 9111 §4.2.4)."""
    if not entry.tags:
        return entry, ""
    state, purged_at = purge_state(cache, config.master_salt, entry.tags, entry.tag_versions)
    if state == "valid":
        return entry, ""
    grace = config.soft_purge_grace
    if state == "gone" or not grace:
        return None, "miss"
    return soft_purged(entry, purged_at, grace), ""


def soft_purged(entry: E, purged_at: float, grace: int) -> E:
    """A copy of ``entry`` stale since ``purged_at``, allowed ``grace`` seconds of
    ``stale-while-revalidate`` from then (or its own window if longer)."""
    stale = copy.copy(entry)
    stale.lifetime = min(entry.lifetime, max(0, math.floor(entry.current_age(purged_at))))
    window = max(grace, entry.stale_allowance("stale-while-revalidate"))
    stale.directives = {**entry.directives, "stale-while-revalidate": str(window)}
    return stale


def well_formed_tags(entry: TaggedEntry) -> bool:
    """Whether the tags and versions of an entry read back are tuples of strings, one
    version per tag."""
    tags, versions = entry.tags, entry.tag_versions
    return (
        type(tags) is tuple
        and type(versions) is tuple
        and len(tags) == len(versions)
        and all(isinstance(item, str) for item in (*tags, *versions))
    )
