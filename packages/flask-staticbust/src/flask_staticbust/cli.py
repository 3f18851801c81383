"""``flask staticbust version|build|clean|check``, over the app's static folder and every
blueprint's."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from .errors import StaticBustError
from .extension import State, get_state
from .folders import Folder


def folders(state: State) -> Iterator[tuple[str, Folder]]:
    endpoints = ["static"] + [
        f"{name}.static" for name, bp in sorted(state.app.blueprints.items()) if bp.static_folder
    ]
    for endpoint in endpoints:
        folder = state.folder(endpoint)
        if folder is not None:
            yield endpoint, folder


@click.group("staticbust")
def staticbust_cli() -> None:
    """Versioned static files (flask-staticbust)."""


@staticbust_cli.command("version")
@with_appcontext
def version_command() -> None:
    """Print each static folder's version (digest mode: its number of digested files)."""
    state = get_state(current_app)
    for endpoint, folder in folders(state):
        folder.ensure()
        if state.settings.mode == "digest":
            click.echo(f"{endpoint}\t{len(folder.table.names)} digested files")
        else:
            click.echo(f"{endpoint}\t{folder.version}")


class Progress:
    """click's progress bar on a terminal, nothing otherwise."""

    def __init__(self, stack: ExitStack) -> None:
        self.stack = stack
        self.bar: Any = None
        self.tty = sys.stderr.isatty()

    def start(self, label: str, total: int) -> None:
        if self.tty and total:
            self.bar = self.stack.enter_context(
                click.progressbar(length=total, label=label, file=sys.stderr)
            )

    def step(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)


@staticbust_cli.command("build")
@with_appcontext
def build_command() -> None:
    """Digest (digest mode) and precompress the static files."""
    from .build import build_folder  # the builders' modules are not loaded in a web server

    state = get_state(current_app)
    for endpoint, folder in folders(state):
        try:
            with ExitStack() as stack:
                progress = Progress(stack)
                summary = build_folder(folder.root, state.settings, progress.start, progress.step)
        except StaticBustError as error:
            raise click.ClickException(f"{endpoint}: {error}") from None
        for warning in summary.warnings:
            click.echo(f"warning: {warning}", err=True)
        click.echo(f"{endpoint}: {summary.line()}")
        folder.stale = True


@staticbust_cli.command("clean")
@click.option("--keep", default=3, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def clean_command(keep: int) -> None:
    """Remove all but the newest KEEP digests of each file."""
    from .clean import clean_folder

    state = get_state(current_app)
    for endpoint, folder in folders(state):
        removed = clean_folder(folder.root, state.settings, keep)
        click.echo(f"{endpoint}: removed {len(removed)} files")


@staticbust_cli.command("check")
@with_appcontext
def check_command() -> None:
    """Check that the manifest matches the files; exit status 1 if not."""
    from .check import check_folder

    state = get_state(current_app)
    problems = [
        f"{e}: {p}"
        for e, folder in folders(state)
        for p in check_folder(folder.root, state.settings)
    ]
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("ok")
