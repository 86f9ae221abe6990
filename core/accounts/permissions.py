"""The permission check, written once.

Every view declares who may open it with ``@access(...)``; a ``before_request`` hook enforces it
and refuses any endpoint that declares nothing (fail closed). Object-level rules (scope, own team)
live in the services and raise ``PermissionDenied``, which renders as 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, request
from flask_login import current_user

from core.accounts.roles import RoleCode
from core.extensions import login_manager

PUBLIC = "public"
SIGNED_IN = "signed_in"
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
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if SIGNED_IN in policy or current_user.role_code in policy:
        return None
    abort(403)
