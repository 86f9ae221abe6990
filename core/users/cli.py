"""`flask users ...`: the first admin account, and a password reset when nobody can sign in."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.accounts import service as accounts
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.option("--username", required=True, help="Login name (lower case, digits, . _ -).")
@click.option("--name", "full_name", required=True, help="Full name shown in the app.")
@click.password_option(help="Prompted for (hidden, asked twice) when not given.")
def create_admin(username: str, full_name: str, password: str) -> None:
    """Create an admin (Department staff) account."""
    try:
        user = accounts.create_user(full_name, role=RoleCode.ADMIN, username=username, password=password)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Admin account created: {user.username}")


@users_cli.command("reset-password")
@click.argument("login")
@click.password_option(help="Prompted for (hidden, asked twice) when not given.")
def reset_password(login: str, password: str) -> None:
    """Set a new password for the account with this phone number or username."""
    user = accounts.find_by_login(login)
    if user is None:
        raise click.ClickException(f"No account with phone number or username {login!r}.")
    try:
        accounts.reset_password(user, password)
    except ValidationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Password changed for {user.full_name} ({user.login_name}).")
