"""``flask leaderboard rebuild [BOARD]``: recompute boards from the database."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.errors import NotFound
from leaderboard import service
from leaderboard.sources import all_boards

leaderboard_cli = AppGroup("leaderboard", help="Live leaderboards.")


@leaderboard_cli.command("rebuild")
@click.argument("board", required=False)
def rebuild(board: str | None) -> None:
    """Rebuild BOARD (e.g. round:42:teams), or every board of every source, from the database."""
    names = [board] if board else all_boards()
    for name in names:
        try:
            count = service.rebuild(name)
        except NotFound:
            raise click.ClickException(f"no such board: {name}") from None
        click.echo(f"{name}: {count} rows")
