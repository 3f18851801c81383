"""``flask staticbust version|build|clean|check``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .extension import get_state


@click.group("staticbust")
def staticbust_cli() -> None:
    """Versioned static files (flask-staticbust)."""


@staticbust_cli.command("version")
@with_appcontext
def version_command() -> None:
    """Print the version (or, in digest mode, the manifest's file count) of each static folder."""
    state = get_state(current_app)
    folder = state.folder("static")
    if folder is None:
        raise click.ClickException("the app has no static folder")
    folder.ensure()
    if state.settings.mode == "digest":
        click.echo(f"{len(folder.table.names)} digested files")
    else:
        click.echo(folder.version)
