"""The list of URLs to cache, and the Application Cache manifest made from it.

``UrlList`` keeps what the app added, in the order it added it (a list, not a set: every process
lists the same URLs in the same order), and the excluded prefixes apart, so an exclusion applies
to URLs added before it as well as after. ``resolve`` turns the list into entries with their
content digests; ``render_manifest`` writes the manifest text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask, current_app, render_template
from jinja2 import TemplateNotFound

from .config import Settings
from .errors import AppcacheError
from .hashing import Digest, FileDigests, combined_hash, digest_bytes
from .sources import FileSource, Source, ViewSource, render_view, versioned_url


def excluded_by(url: str, prefix: str) -> bool:
    """Whether ``prefix`` excludes ``url``, by whole path segments: ``/static/ignored`` excludes
    ``/static/ignored`` and ``/static/ignored/a.css``, not ``/static/ignored_x``."""
    path = url.split("?", 1)[0]
    stem = prefix.rstrip("/")
    return path in (prefix, stem) or path.startswith(stem + "/")


class UrlList:
    """The URLs added to one ``Appcache``, and the prefixes excluded from them."""

    def __init__(self) -> None:
        self._sources: dict[str, Source] = {}
        self._excluded: list[str] = []

    def add(self, source: Source) -> None:
        # a URL added twice keeps its first place (and its latest source)
        self._sources[source.url] = source

    def exclude(self, prefix: str) -> None:
        if prefix not in self._excluded:
            self._excluded.append(prefix)

    def listed(self) -> list[Source]:
        """The sources in the order added, less the excluded ones."""
        return [
            source
            for url, source in self._sources.items()
            if not any(excluded_by(url, prefix) for prefix in self._excluded)
        ]


@dataclass(frozen=True)
class Entry:
    """One URL to cache, with its body's digest. ``versioned`` when the URL itself carries a
    version (``url_for`` built another URL than the bare path), so it needs no revision."""

    url: str
    digest: Digest
    versioned: bool = False

    @property
    def revision(self) -> str | None:
        return None if self.versioned else self.digest.revision


@dataclass(frozen=True)
class Listing:
    """The resolved list: ``entries`` for the manifest's CACHE section, ``extra`` the fallback
    pages (the manifest's FALLBACK names them; the service worker precaches them too), ``hash``
    over both."""

    entries: tuple[Entry, ...]
    extra: tuple[Entry, ...]
    hash: str
    updated: str | None

    @property
    def precache(self) -> tuple[Entry, ...]:
        return self.entries + self.extra


def _entry(app: Flask, source: Source, settings: Settings, files: FileDigests) -> Entry:
    if isinstance(source, FileSource):
        try:
            digest = files.digest(source.path)
        except OSError as error:
            raise AppcacheError(f"{source.url} cannot be cached: {error}") from error
        built = versioned_url(app, source)
        if built is not None:
            return Entry(built, digest, versioned=True)
        return Entry(source.url, digest)
    return Entry(source.url, digest_bytes(render_view(app, source.url, settings.url_base)))


def resolve(
    app: Flask, sources: Iterable[Source], settings: Settings, files: FileDigests
) -> Listing:
    """Digest every listed URL. Needs an active request context of ``app`` (``url_for``)."""
    entries = tuple(_entry(app, source, settings, files) for source in sources)
    listed = {entry.url for entry in entries}
    pages = dict.fromkeys(page for _, page in settings.fallback if page not in listed)
    extra = tuple(_entry(app, ViewSource(page), settings, files) for page in pages)
    total = combined_hash((entry.url, entry.digest) for entry in entries + extra)
    return Listing(entries, extra, total, settings.updated)


def render_manifest(listing: Listing, settings: Settings) -> str:
    """The manifest text from the app's ``APPCACHE_TEMPLATE`` (or the package's default one),
    given ``urls``, ``hash`` and ``updated`` as Flask-Appcache did, plus ``fallback`` and
    ``network``. Needs an active request context."""
    try:
        template = current_app.jinja_env.get_or_select_template(settings.template)
    except TemplateNotFound as error:
        raise AppcacheError(f"APPCACHE_TEMPLATE={settings.template!r}: no such template") from error
    return render_template(
        template,
        urls=[entry.url for entry in listing.entries],
        hash=listing.hash,
        updated=listing.updated,
        fallback=settings.fallback,
        network=settings.network,
    )
