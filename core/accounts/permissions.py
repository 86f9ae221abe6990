"""The permission check, written once.

Every view declares who may open it with ``@access(...)``; a ``before_request`` hook enforces it
and refuses any endpoint that declares nothing (fail closed). Object-level rules (scope, own team)
live in the services and raise ``PermissionDenied``, which renders as 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, request, session
from flask_login import current_user

from core.accounts.roles import RoleCode
from core.extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed_in"
# Signed in as the signed session cookie says, without loading the account: for the hot JSON
# routes (saving an answer) whose service checks by user id that the object is the caller's.
SIGNED_SESSION = "signed_session"
STAFF = (RoleCode.ADMIN, RoleCode.ORGANISER, RoleCode.OFFICER)

F = TypeVar("F", bound=Callable[..., object])


def access(*who: str) -> Callable[[F], F]:
    """``@access(PUBLIC)``, ``@access(SIGNED_IN)`` or ``@access(RoleCode.ADMIN, ...)``."""
    if not who:
        raise ValueError("access() needs at least one audience")

    def mark(view: F) -> F:
        view.access_policy = frozenset(str(w) for w in who)  # type: ignore[attr-defined]
        return view

    return mark


def policy_of(endpoint: str) -> frozenset[str] | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_policy", None)


def enforce_access() -> object | None:
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static":
        return None  # 404s and static files
    policy = policy_of(endpoint)
    if policy is None:
        current_app.logger.error("endpoint %s declares no access policy; refused", endpoint)
        abort(403)
    if PUBLIC in policy:
        return None
    if SIGNED_SESSION in policy:
        return None if session_user_id() is not None else login_manager.unauthorized()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if SIGNED_IN in policy or current_user.role_code in policy:
        return None
    abort(403)


def session_user_id() -> int | None:
    """The signed-in user's id from the session cookie (Flask-Login's key), unverified against
    the accounts table: a signed cookie is proof enough for the routes marked SIGNED_SESSION."""
    value = session.get("_user_id")
    return int(value) if value is not None else None
