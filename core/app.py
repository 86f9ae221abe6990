"""The application factory."""

from __future__ import annotations

import importlib

from flask import Flask, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import lazyload
from werkzeug.exceptions import HTTPException

from core import models as _models  # noqa: F401 - every table registered before migrations run
from core import sqlite as _sqlite  # noqa: F401 - registers the SQLite connection hooks
from core.accounts.models import User
from core.accounts.permissions import enforce_access
from core.config import INSTANCE_DIR, ROOT, Config
from core.errors import NotFound, PermissionDenied
from core.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio
from core.frames import WithoutWebSocketCompression, share_websocket_frames
from core.realtime import client_manager


def create_app(config: Config | None = None, **overrides: object) -> Flask:
    """Build the app. ``config`` defaults to ``Config()`` (environment variables); keyword
    overrides replace single settings, e.g. ``create_app(SQLALCHEMY_DATABASE_URI=...)``."""
    config = config or Config()
    for key, value in overrides.items():
        setattr(config, key, value)
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(config)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "thidua-limits")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(ROOT / "translations"))
    INSTANCE_DIR.mkdir(exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None  # the sign-in page says why by itself
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    socketio.init_app(
        app,
        client_manager=client_manager(app.config["REDIS_URL"], app.config["SOCKETIO_CHANNEL"]),
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config["SOCKETIO_CORS_ORIGINS"],
    )
    share_websocket_frames(socketio.server.eio)
    app.wsgi_app = WithoutWebSocketCompression(app.wsgi_app)  # type: ignore[method-assign]
    # Vietnamese text as UTF-8 in JSON and Socket.IO messages, not \u escapes (half the bytes).
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    _register_blueprints(app)
    _register_cli(app)
    _init_packages(app)
    _register_errors(app)
    app.before_request(enforce_access)
    app.jinja_env.globals["current_locale"] = lambda: select_locale()
    return app


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    # Every request loads the signed-in user; the busiest ones (saving an answer) need neither the
    # role row nor the unit, which load on first use where a page needs them.
    return db.session.get(User, int(user_id), options=[lazyload(User.role), lazyload(User.unit)])


def select_locale() -> str:
    languages = ("vi", "en")
    chosen = session.get("locale") if request else None
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return "vi"


def _register_blueprints(app: Flask) -> None:
    from core.accounts.views import bp as accounts_bp
    from core.imports.views import bp as imports_bp
    from core.org.views import bp as org_bp
    from core.teams.views import bp as teams_bp
    from core.users.views import bp as users_bp
    from core.views import bp as main_bp

    for blueprint in (main_bp, accounts_bp, users_bp, org_bp, teams_bp, imports_bp):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from core.demo import demo_cli
    from core.imports.cli import import_cli
    from core.users.cli import users_cli

    for group in (demo_cli, import_cli, users_cli):
        app.cli.add_command(group)


def _init_packages(app: Flask) -> None:
    """The packages above core, imported by name: core never imports them (the layers contract),
    yet each registers its blueprints, commands, Socket.IO handlers and demo part explicitly."""
    for name in app.config["PACKAGES"]:
        importlib.import_module(name).init_app(app)


def _register_errors(app: Flask) -> None:
    messages = {
        400: lambda: _("Yêu cầu không hợp lệ."),
        403: lambda: _("Bạn không có quyền thực hiện thao tác này."),
        404: lambda: _("Không tìm thấy trang."),
        413: lambda: _("Tệp tải lên quá lớn (tối đa %(mb)d MB).", mb=app.config["MAX_CONTENT_LENGTH"] // 1048576),
        429: lambda: _("Bạn thao tác quá nhiều lần. Vui lòng chờ một phút rồi thử lại."),
        500: lambda: _("Hệ thống gặp lỗi. Vui lòng thử lại sau."),
    }

    def render_error(code: int, message: str) -> tuple[str, int]:
        if request.accept_mimetypes.best == "application/json" or request.is_json:
            return {"error": message}, code  # type: ignore[return-value]
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        return render_error(code, messages.get(code, lambda: exc.description or "")())

    @app.errorhandler(PermissionDenied)
    def _denied(_exc: PermissionDenied) -> tuple[str, int]:
        return render_error(403, messages[403]())

    @app.errorhandler(NotFound)
    def _not_found(_exc: NotFound) -> tuple[str, int]:
        return render_error(404, messages[404]())

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> tuple[str, int]:
        message = _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại.")
        return render_error(400, message)
