"""What the load benchmarks share: a database of their own, servers started as in production
(gunicorn, one gevent worker per process), their CPU and memory read from /proc, signed session
cookies, percentiles."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-key"


def postgres_missing() -> str | None:
    """Why the benchmark cannot run (None when PostgreSQL answers)."""
    try:
        sa.create_engine(ADMIN_URL).connect().close()
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL not reachable ({exc.__class__.__name__} at {ADMIN_URL})"
    return None


def recreate_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    peak_rss_kib: int = 0

    def pids(self) -> list[int]:
        """The gunicorn master and its worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [self.process.pid, *(int(p) for p in children.read_text().split())]
        return [self.process.pid]


def start_servers(count: int, base_port: int, env: dict[str, str], logdir: Path, tag: str,
                  connections: int = 20000) -> list[Server]:
    """``count`` gunicorn processes, one gevent worker each, on consecutive ports; their output
    goes to ``logdir`` (read it when something fails)."""
    environment = {**os.environ, "SECRET_KEY": SECRET, "SOCKETIO_ASYNC_MODE": "gevent", **env}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    logdir.mkdir(parents=True, exist_ok=True)
    servers = []
    for n in range(count):
        port = base_port + n
        log = logdir / f"{tag}-server{n}.log"
        with log.open("wb") as out:  # the child keeps its own descriptor
            process = subprocess.Popen(
                [gunicorn, "-k", "gevent", "-w", "1", "--worker-connections", str(connections),
                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", "core.wsgi:app"],
                cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
            )
        servers.append(Server(process, port, log))
    for server in servers:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=1)
                break
            except OSError:
                if server.process.poll() is not None or time.monotonic() > deadline:
                    stop_servers(servers)
                    raise RuntimeError(f"gunicorn did not start: {server.log.read_text()[-2000:]}") from None
                time.sleep(0.2)
    return servers


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far, from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def servers_cpu(servers: list[Server]) -> float:
    return sum(cpu_seconds(server.pids()) for server in servers)


def programs_cpu(*names: str) -> float:
    """User + system CPU so far of every running process of these programs (e.g. "postgres",
    "redis-server"): read before and after a phase, the difference is what they spent on it (a
    database connection opened meanwhile counts from zero)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if stat.read_text().split("(", 1)[1].split(")", 1)[0] in names:
                pids.append(int(stat.parent.name))
    return cpu_seconds(pids)


def machine_cpu_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat): with the benchmark's own share taken
    out, what PostgreSQL, Redis and anything else running on the machine took."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """Peak resident memory of each server's worker, sampled from /proc."""

    def __init__(self, servers: list[Server]) -> None:
        super().__init__(daemon=True)
        self.servers = servers
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.25):
            for server in self.servers:
                for pid in server.pids()[1:]:
                    with contextlib.suppress(OSError, ValueError):
                        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                            if line.startswith("VmRSS:"):
                                server.peak_rss_kib = max(server.peak_rss_kib, int(line.split()[1]))


def signed_in(app: object, user_id: int) -> tuple[str, str]:
    """The signed Flask session cookie of a signed-in user (what the sign-in page would set) and
    the CSRF token that goes with it (the page's X-CSRFToken for the JSON API)."""
    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    with app.test_request_context():  # type: ignore[attr-defined]
        g.pop("csrf_token", None)  # Flask-WTF caches the token in g, which an app context shares
        session["_user_id"] = str(user_id)
        session["_fresh"] = True
        token = generate_csrf()  # also stored in the session
        return serializer.dumps(dict(session)), token


def percentile(values: list[float] | list[int], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))])


@dataclass(frozen=True)
class Member:
    user_id: int
    team_id: int
    unit_id: int


def build_province(members: int, questions: int) -> tuple[int, list[Member]]:
    """Inside an app context on an empty migrated database: a province, one commune with a hamlet
    and a team per ten members, and approved questions. Returns the province id and the members
    (bulk inserts: tens of thousands of members in seconds)."""
    from datetime import timedelta

    from core.accounts.models import User
    from core.db_types import utcnow
    from core.extensions import db
    from core.org import service as org
    from core.org.models import UnitKind
    from core.teams.models import Membership, Team
    from quiz import bank
    from quiz.models import QuestionStatus

    province = org.create_unit("Tỉnh Thử Tải", UnitKind.PROVINCE, None)
    commune = org.create_unit("Xã Thử Tải", UnitKind.COMMUNE, province)
    categories = bank.categories()
    for n in range(questions):
        bank.create_question(bank.QuestionInput(
            text=f"Câu hỏi thử tải số {n}?", choices=["Phương án một", "Phương án hai", "Phương án ba", "Bốn"],
            correct=[n % 4], category_id=categories[n % len(categories)].id, difficulty="easy",
        ), None, status=QuestionStatus.APPROVED)
    now = utcnow()
    hamlets = [org.create_unit(f"Ấp {n}", UnitKind.HAMLET, commune) for n in range((members + 9) // 10)]
    db.session.execute(sa.insert(Team), [{"name": f"Tổ {h.name}", "unit_id": h.id, "created_at": now} for h in hamlets])
    teams = db.session.execute(sa.select(Team.id, Team.unit_id).order_by(Team.id)).all()
    db.session.execute(sa.insert(User), [
        {"full_name": f"Thành viên {n}", "username": f"tv{n}", "role_code": "member",
         "unit_id": teams[n // 10].unit_id, "created_at": now, "active": True}
        for n in range(members)
    ])
    user_ids = list(db.session.scalars(sa.select(User.id).where(User.username.like("tv%")).order_by(User.id)))
    db.session.execute(sa.insert(Membership), [
        {"team_id": teams[i // 10].id, "user_id": uid, "role": "member", "status": "active",
         "requested_at": now - timedelta(days=30), "joined_at": now - timedelta(days=30)}
        for i, uid in enumerate(user_ids)
    ])
    db.session.commit()
    return province.id, [Member(uid, teams[i // 10].id, teams[i // 10].unit_id) for i, uid in enumerate(user_ids)]


def analyse() -> None:
    """Planner statistics for the tables just bulk-loaded (app context), as a database in service
    has them: without, PostgreSQL plans as if the 9,000 members were none."""
    from core.extensions import db

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))


def open_round(scope_unit_id: int, title: str) -> int:
    """A published round open now for two hours: 10 questions in 10 minutes, once (app context)."""
    from datetime import timedelta

    from competitions.models import AttemptPolicy, Round, RoundStatus
    from core.db_types import utcnow
    from core.extensions import db

    now = utcnow()
    round_ = Round(
        title=title, opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2),
        scope_unit_id=scope_unit_id, draw_plan=[{"count": 10, "category_id": None, "difficulty": None}],
        time_limit_seconds=600, attempt_policy=AttemptPolicy.ONCE, status=RoundStatus.PUBLISHED, published_at=now,
    )
    db.session.add(round_)
    db.session.commit()
    return round_.id
