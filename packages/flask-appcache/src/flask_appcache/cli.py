"""``flask appcache manifest`` and ``flask appcache urls``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click
from flask import current_app
from flask.cli import AppGroup

from .errors import AppcacheError

if TYPE_CHECKING:
    from .extension import Appcache

T = TypeVar("T")

appcache_cli = AppGroup("appcache", help="The offline cache: the manifest and its URLs.")


def _computed(get: Callable[[Appcache], T]) -> T:
    """``get(extension)`` for the current app; a URL that cannot be cached is a plain error."""
    from .extension import _state

    try:
        return get(_state(current_app).extension)
    except AppcacheError as error:
        raise click.ClickException(str(error)) from error


@appcache_cli.command("manifest")
def print_manifest() -> None:
    """Print the Application Cache manifest the app serves."""
    click.echo(_computed(lambda extension: extension.manifest()), nl=False)


@appcache_cli.command("urls")
def print_urls() -> None:
    """List every precached URL with its revision ("-" for URLs that carry their version)."""
    listing = _computed(lambda extension: extension.listing())
    for entry in listing.precache:
        click.echo(f"{entry.url}\t{entry.revision or '-'}")
    click.echo(f"# {len(listing.precache)} URLs, hash {listing.hash}", err=True)
