"""``flask appcache manifest`` and ``flask appcache urls``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

appcache_cli = AppGroup("appcache", help="The offline cache: the manifest and its URLs.")


@appcache_cli.command("manifest")
def print_manifest() -> None:
    """Print the Application Cache manifest the app serves."""
    from .extension import _state

    click.echo(_state(current_app).extension.manifest(), nl=False)


@appcache_cli.command("urls")
def print_urls() -> None:
    """List every precached URL with its revision ("-" for URLs that carry their version)."""
    from .extension import _state

    listing = _state(current_app).extension.listing()
    for entry in listing.precache:
        click.echo(f"{entry.url}\t{entry.revision or '-'}")
    click.echo(f"# {len(listing.precache)} URLs, hash {listing.hash}", err=True)
