"""``flask appcache manifest`` and ``flask appcache urls``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .errors import AppcacheError

appcache_cli = AppGroup("appcache", help="The offline cache: the manifest and its URLs.")


@appcache_cli.command("manifest")
def print_manifest() -> None:
    """Print the Application Cache manifest the app serves."""
    from .extension import _state

    try:
        text = _state(current_app).extension.manifest()
    except AppcacheError as error:
        raise click.ClickException(str(error)) from error
    click.echo(text, nl=False)


@appcache_cli.command("urls")
def print_urls() -> None:
    """List every precached URL with its revision ("-" for URLs that carry their version)."""
    from .extension import _state

    try:
        listing = _state(current_app).extension.listing()
    except AppcacheError as error:
        raise click.ClickException(str(error)) from error
    for entry in listing.precache:
        click.echo(f"{entry.url}\t{entry.revision or '-'}")
    click.echo(f"# {len(listing.precache)} URLs, hash {listing.hash}", err=True)
