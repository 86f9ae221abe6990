"""Settings, read once from environment variables (documented in README.md)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


class Config:
    """Defaults for a single-machine install; every value can be overridden from the environment."""

    def __init__(self, **overrides: object) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY") or _dev_secret_key()
        self.SQLALCHEMY_DATABASE_URI = env.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'thidua.sqlite3'}"
        )
        self.REDIS_URL = env.get("REDIS_URL") or None
        self.REDIS_MAX_CONNECTIONS = _int("REDIS_MAX_CONNECTIONS", 200)
        self.TIMEZONE = env.get("TIMEZONE", "Asia/Ho_Chi_Minh")
        self.TEAM_MAX_MEMBERS = _int("TEAM_MAX_MEMBERS", 10)
        self.TEAM_MIN_MEMBERS = _int("TEAM_MIN_MEMBERS", 3)
        # a month's activity report is due by this day of the following month (Kiên Giang: 20, elsewhere 25)
        self.REPORT_DEADLINE_DAY = _int("REPORT_DEADLINE_DAY", 20)
        if not 1 <= self.REPORT_DEADLINE_DAY <= 28:
            raise RuntimeError("REPORT_DEADLINE_DAY must be a day from 1 to 28 (every month has it)")
        # report evidence photos are stored here (a volume shared by all servers at scale)
        self.EVIDENCE_DIR = env.get("EVIDENCE_DIR") or str(INSTANCE_DIR / "evidence")
        self.IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 20_000)
        self.MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 10) * 1024 * 1024
        # item statistics: below this many answers no question is flagged; flag p below/above these
        self.ITEM_STATS_MIN_SAMPLE = _int("ITEM_STATS_MIN_SAMPLE", 20)
        self.ITEM_STATS_LOW_P = float(env.get("ITEM_STATS_LOW_P", "0.10"))
        self.ITEM_STATS_HIGH_P = float(env.get("ITEM_STATS_HIGH_P", "0.95"))
        self.ATTEMPT_GRACE_SECONDS = _int("ATTEMPT_GRACE_SECONDS", 3)
        # how long a process draws from the approved questions it read (quiz.pool)
        self.POOL_CACHE_SECONDS = _int("POOL_CACHE_SECONDS", 30)
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.BABEL_DEFAULT_LOCALE = env.get("DEFAULT_LOCALE", "vi")
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.LANGUAGES = ("vi", "en")
        # "threading" for the development server; "gevent" under gunicorn's gevent worker.
        self.SOCKETIO_ASYNC_MODE = env.get("SOCKETIO_ASYNC_MODE", "threading")
        self.SOCKETIO_CORS_ORIGINS = env.get("SOCKETIO_CORS_ORIGINS") or None
        # Redis pub/sub ignores the database number: installs sharing a Redis need their own channel
        self.SOCKETIO_CHANNEL = env.get("SOCKETIO_CHANNEL", "flask-socketio")
        # live boards: at most one update per board per interval, carrying the top N rows
        self.BOARD_UPDATE_INTERVAL_MS = _int("BOARD_UPDATE_INTERVAL_MS", 500)
        self.BOARD_INFO_CACHE_SECONDS = _int("BOARD_INFO_CACHE_SECONDS", 2)
        self.BOARD_TOP_N = _int("BOARD_TOP_N", 20)
        # team and unit boards are recomputed from all of a round's results: not more often than this
        self.BOARD_AGGREGATE_INTERVAL_MS = _int("BOARD_AGGREGATE_INTERVAL_MS", 2000)
        self.BOARD_BROADCASTER = env.get("BOARD_BROADCASTER", "1") == "1"
        # live contests reveal questions from background tasks, at time-up (tests: by hand, in line)
        self.LIVE_TIMERS = True
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {"pool_pre_ping": True}
        if not self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            # A gevent worker serves many requests at once; each holds a connection briefly.
            self.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] = _int("DB_POOL_SIZE", 10)
            self.SQLALCHEMY_ENGINE_OPTIONS["max_overflow"] = _int("DB_MAX_OVERFLOW", 20)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = env.get("SESSION_COOKIE_SECURE", "0") == "1"
        self.WTF_CSRF_TIME_LIMIT = None  # a slow phone form must not expire mid-way
        #: packages above core, in dependency order; each exposes init_app(app)
        self.PACKAGES = ("quiz", "leaderboard", "competitions")
        self.TESTING = False
        for key, value in overrides.items():
            setattr(self, key, value)


def _dev_secret_key() -> str:
    """A per-install random key kept under instance/, so sessions survive restarts in development."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
