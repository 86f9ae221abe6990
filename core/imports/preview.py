"""Keeping a checked file between the preview and the confirm step.

The rows go to ``instance/imports/<token>.json``; the token goes into the Flask session, so only the
person who uploaded can confirm, and only within an hour. Confirming re-checks the rows against the
database as it is then (someone may have changed it meanwhile) before anything is written.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app, session
from flask_babel import gettext as _

from core.errors import ValidationError
from core.imports.plan import ImportPlan, RowStatus
from core.spreadsheet import Row

PLAN_TTL_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_SESSION_KEY = "imports"


@dataclass
class StoredPlan:
    filename: str
    rows: list[Row]
    params: dict[str, Any]


def _directory() -> Path:
    return Path(current_app.instance_path) / "imports"


def _purge(directory: Path, now: float) -> None:
    """Drop previews nobody confirmed (the directory must not grow forever)."""
    for path in directory.glob("*.json"):
        try:
            if now - path.stat().st_mtime > PLAN_TTL_SECONDS:
                path.unlink()
        except FileNotFoundError:
            pass  # removed by another worker meanwhile


def save_plan(kind: str, user_id: int, filename: str, rows: list[Row], params: dict[str, Any] | None = None) -> str:
    """Store checked rows for ``kind`` ("units", "members"); returns the token the confirm form carries."""
    directory = _directory()
    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    _purge(directory, now)
    discard_plan(kind)  # one pending preview per kind and person
    token = secrets.token_urlsafe(24)
    payload = {
        "kind": kind, "user_id": user_id, "created": now, "filename": filename, "params": params or {},
        "rows": [[row.number, row.values] for row in rows],
    }
    (directory / f"{token}.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    session[_SESSION_KEY] = {**session.get(_SESSION_KEY, {}), kind: token}
    return token


def keep_for_confirm(kind: str, user_id: int, filename: str, plan: ImportPlan, rows: list[Row],
                     params: dict[str, Any]) -> str | None:
    """Store the checked rows (``save_plan``) if the plan is worth a confirm step: clean, and
    something new to write. Returns the token the confirm form carries, else None."""
    if not plan.ok or plan.count(RowStatus.NEW) == 0:
        return None
    return save_plan(kind, user_id, filename, rows, params)


def load_plan(kind: str, token: str | None, user_id: int) -> StoredPlan:
    """The rows stored by ``save_plan``; ValidationError when gone, expired or not this person's."""
    expired = ValidationError(
        _("Bản xem trước không còn hiệu lực (quá 1 giờ hoặc đã được dùng). Hãy tải tệp lên lại."), field="file"
    )
    if not token or not _TOKEN.fullmatch(token) or session.get(_SESSION_KEY, {}).get(kind) != token:
        raise expired
    path = _directory() / f"{token}.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError) as exc:
        raise expired from exc
    too_old = time.time() - payload.get("created", 0) > PLAN_TTL_SECONDS
    if payload.get("kind") != kind or payload.get("user_id") != user_id or too_old:
        raise expired
    rows = [Row(number, values) for number, values in payload["rows"]]
    return StoredPlan(payload["filename"], rows, payload["params"])


def discard_plan(kind: str) -> None:
    tokens = dict(session.get(_SESSION_KEY, {}))
    token = tokens.pop(kind, None)
    if token and _TOKEN.fullmatch(token):
        (_directory() / f"{token}.json").unlink(missing_ok=True)
    session[_SESSION_KEY] = tokens
