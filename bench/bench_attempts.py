"""Load benchmark: members start, answer and submit 10-question attempts through the JSON API
against servers started as in production (gunicorn + gevent, PostgreSQL, Redis).

Prints sustained complete attempts per second, answer-save latency p50/p95/p99, and the CPU the
servers and this load generator used (they share the machine's cores). Then two shorter phases for
scale: answer saves alone (members with an attempt open re-answering, the hot path of a deadline
rush), and /healthz (the same stack doing one database statement: the floor of any request).

Settings (environment): BENCH_DATABASE_URL (default: database bench_attempts on the local
PostgreSQL, dropped and rebuilt), BENCH_REDIS_URL (redis://127.0.0.1:6379/14), BENCH_SECONDS (30),
BENCH_USERS (concurrent members, 150), BENCH_WORKERS (gunicorn processes, 2), BENCH_MEMBERS (9000),
BENCH_PHASE_SECONDS (the two shorter phases, 10).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_attempts")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
USERS = int(os.environ.get("BENCH_USERS", "150"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "9000"))
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "10"))
SECRET = "bench-secret-key"
BASE_PORT = 18300


def recreate_database() -> None:
    name = sa.engine.make_url(DB_URL).database
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def prepare() -> tuple[int, list[tuple[str, str]]]:
    """Schema, a province with teams and members, 200 approved questions and an open round.
    Returns the round id and one (session cookie, CSRF token) per member."""
    from flask import g, session
    from flask_migrate import upgrade
    from flask_wtf.csrf import generate_csrf

    from competitions.models import AttemptPolicy, Round, RoundStatus
    from core.accounts.models import User
    from core.app import create_app
    from core.config import Config
    from core.db_types import utcnow
    from core.extensions import db
    from core.org import service as org
    from core.org.models import UnitKind
    from core.teams.models import Membership, Team
    from quiz import bank
    from quiz.models import QuestionStatus

    redis.Redis.from_url(REDIS_URL).flushdb()  # live answers of a previous run's attempts
    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=None))
    with app.app_context():
        upgrade()
        province = org.create_unit("Tỉnh Thử Tải", UnitKind.PROVINCE, None)
        commune = org.create_unit("Xã Thử Tải", UnitKind.COMMUNE, province)
        categories = bank.categories()
        for n in range(200):
            bank.create_question(bank.QuestionInput(
                text=f"Câu hỏi thử tải số {n}?", choices=["Phương án một", "Phương án hai", "Phương án ba", "Bốn"],
                correct=[n % 4], category_id=categories[n % len(categories)].id, difficulty="easy",
            ), None, status=QuestionStatus.APPROVED)
        now = utcnow()
        hamlets = [org.create_unit(f"Ấp {n}", UnitKind.HAMLET, commune) for n in range(MEMBERS // 10)]
        teams = [{"name": f"Tổ {h.name}", "unit_id": h.id, "created_at": now} for h in hamlets]
        db.session.execute(sa.insert(Team), teams)
        team_ids = list(db.session.scalars(sa.select(Team.id).order_by(Team.id)))
        db.session.execute(sa.insert(User), [
            {"full_name": f"Thành viên {n}", "username": f"tv{n}", "role_code": "member",
             "unit_id": hamlets[n // 10].id, "created_at": now, "active": True}
            for n in range(MEMBERS)
        ])
        user_ids = list(db.session.scalars(sa.select(User.id).where(User.username.like("tv%")).order_by(User.id)))
        db.session.execute(sa.insert(Membership), [
            {"team_id": team_ids[i // 10], "user_id": uid, "role": "member", "status": "active",
             "requested_at": now - timedelta(days=30), "joined_at": now - timedelta(days=30)}
            for i, uid in enumerate(user_ids)
        ])
        round_ = Round(
            title="Đợt thi thử tải", opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=2),
            scope_unit_id=province.id, draw_plan=[{"count": 10, "category_id": None, "difficulty": None}],
            time_limit_seconds=600, attempt_policy=AttemptPolicy.ONCE, status=RoundStatus.PUBLISHED, published_at=now,
        )
        db.session.add(round_)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        credentials = []
        for uid in user_ids:
            with app.test_request_context():
                g.pop("csrf_token", None)  # Flask-WTF caches the token in g, shared by this app context
                session["_user_id"] = str(uid)
                session["_fresh"] = True
                token = generate_csrf()
                credentials.append((serializer.dumps(dict(session)), token))
        return round_.id, credentials


def start_servers() -> list[subprocess.Popen]:
    env = {**os.environ, "DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET,
           "SOCKETIO_ASYNC_MODE": "gevent", "DB_POOL_SIZE": "15", "DB_MAX_OVERFLOW": "5"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    servers = []
    for n in range(WORKERS):
        servers.append(subprocess.Popen(
            [gunicorn, "-k", "gevent", "-w", "1", "--worker-connections", "2000", "-b", f"127.0.0.1:{BASE_PORT + n}",
             "--log-level", "warning", "core.wsgi:app"],
            cwd=ROOT, env=env,
        ))
    for n in range(WORKERS):
        deadline = time.monotonic() + 30
        while True:
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{BASE_PORT + n}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
    return servers


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the gunicorn worker), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, IndexError):
            pass
    return total


@dataclass
class Results:
    answer_latencies: list[float] = field(default_factory=list)
    start_latencies: list[float] = field(default_factory=list)
    submit_latencies: list[float] = field(default_factory=list)
    completed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    sample_error: str = ""


async def member_flow(http: aiohttp.ClientSession, base: str, round_id: int, cookie: str, token: str,
                      results: Results, stop_at: float) -> None:
    headers = {"Cookie": f"session={cookie}", "X-CSRFToken": token, "Content-Type": "application/json"}

    async def post(path: str, payload: dict, bucket: list[float]) -> dict:
        began = time.perf_counter()
        async with http.post(base + path, json=payload, headers=headers, allow_redirects=False) as response:
            text = await response.text()
            if response.status >= 300:
                key = f"{path.split('/')[-1]} {response.status}"
                results.errors[key] = results.errors.get(key, 0) + 1
                results.sample_error = results.sample_error or text[:300]
                raise RuntimeError(key)
            body = json.loads(text)
        bucket.append(time.perf_counter() - began)
        return body

    state = await post(f"/api/rounds/{round_id}/attempts", {"prediction": 100}, results.start_latencies)
    attempt = state.get("attempt", state)
    for seq, item in enumerate(attempt["items"], start=1):
        if time.monotonic() > stop_at:
            return
        picks = [0, 1] if item["kind"] == "multiple" else [random.randrange(len(item["choices"]))]
        await post(f"/api/attempts/{attempt['id']}/answers", {"item_id": item["id"], "choices": picks, "seq": seq},
                   results.answer_latencies)
    await post(f"/api/attempts/{attempt['id']}/submit", {}, results.submit_latencies)
    if time.monotonic() <= stop_at:
        results.completed += 1


async def load(round_id: int, credentials: list[tuple[str, str]]) -> tuple[Results, float]:
    results = Results()
    queue = list(credentials)
    random.shuffle(queue)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        started = time.monotonic()
        stop_at = started + SECONDS

        async def virtual_user(n: int) -> None:
            base = f"http://127.0.0.1:{BASE_PORT + n % WORKERS}"
            while time.monotonic() < stop_at and queue:
                cookie, token = queue.pop()
                # a failed flow is counted in results.errors; the member just does not complete
                with contextlib.suppress(TimeoutError, RuntimeError, aiohttp.ClientError):
                    await member_flow(http, base, round_id, cookie, token, results, stop_at)

        await asyncio.gather(*(virtual_user(n) for n in range(USERS)))
        credentials[:] = queue  # the members who have not started yet
        return results, time.monotonic() - started


async def saves_only(round_id: int, credentials: list[tuple[str, str]]) -> tuple[list[float], int, float]:
    """Each virtual member starts one attempt; once all have, they save answers as fast as the
    servers take them (re-answering, with a newer seq each time) for PHASE_SECONDS."""
    latencies: list[float] = []
    errors = 0
    members = [credentials.pop() for _ in range(min(USERS, len(credentials)))]
    started = 0
    all_started, stop = asyncio.Event(), [0.0]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:

        async def virtual_user(n: int, cookie: str, token: str) -> None:
            nonlocal errors, started
            base = f"http://127.0.0.1:{BASE_PORT + n % WORKERS}"
            headers = {"Cookie": f"session={cookie}", "X-CSRFToken": token}
            start = f"{base}/api/rounds/{round_id}/attempts"
            async with http.post(start, json={"prediction": 1}, headers=headers) as r:
                attempt = await r.json()
            started += 1
            if started == len(members):
                stop[0] = time.monotonic() + PHASE_SECONDS
                all_started.set()
            await all_started.wait()
            seq = 0
            while time.monotonic() < stop[0]:
                seq += 1
                item = attempt["items"][seq % len(attempt["items"])]
                body = {"item_id": item["id"], "choices": [seq % len(item["choices"])], "seq": seq}
                began = time.perf_counter()
                async with http.post(f"{base}/api/attempts/{attempt['id']}/answers", json=body, headers=headers) as r:
                    await r.read()
                    errors += r.status != 200
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(virtual_user(n, cookie, token) for n, (cookie, token) in enumerate(members)))
        return latencies, errors, PHASE_SECONDS


async def health_only() -> tuple[int, float]:
    done = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.monotonic()
        stop_at = began + PHASE_SECONDS

        async def virtual_user(n: int) -> None:
            nonlocal done
            base = f"http://127.0.0.1:{BASE_PORT + n % WORKERS}"
            while time.monotonic() < stop_at:
                async with http.get(f"{base}/healthz") as r:
                    await r.read()
                done += 1

        await asyncio.gather(*(virtual_user(n) for n in range(USERS)))
        return done, time.monotonic() - began


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main() -> None:
    try:
        sa.create_engine(ADMIN_URL).connect().close()
    except sa.exc.OperationalError as exc:
        print(f"skipped: the attempt load test needs PostgreSQL ({exc.__class__.__name__} at {ADMIN_URL})")
        return
    print(f"database {DB_URL}, redis {REDIS_URL}, {WORKERS} gunicorn gevent processes, {USERS} concurrent members")
    recreate_database()
    began = time.perf_counter()
    round_id, credentials = prepare()
    print(f"prepared {len(credentials)} members, 200 questions, 1 open round in {time.perf_counter() - began:.1f} s")
    servers = start_servers()
    try:
        server_cpu_before = sum(cpu_seconds(s.pid) for s in servers)
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        results, elapsed = asyncio.run(load(round_id, credentials))
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = sum(cpu_seconds(s.pid) for s in servers) - server_cpu_before
        saves, save_errors, saves_elapsed = asyncio.run(saves_only(round_id, credentials))
        health, health_elapsed = asyncio.run(health_only())
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
    generator_cpu = (own_after.ru_utime - own_before.ru_utime) + (own_after.ru_stime - own_before.ru_stime)
    requests = len(results.answer_latencies) + len(results.start_latencies) + len(results.submit_latencies)
    print(f"elapsed {elapsed:.1f} s")
    print(f"complete attempts: {results.completed} = {results.completed / elapsed:.1f} attempts/s")
    print(f"requests: {requests} = {requests / elapsed:.0f} requests/s")
    for name, values in (("answer save", results.answer_latencies), ("start", results.start_latencies),
                         ("submit", results.submit_latencies)):
        mean = statistics.mean(values) * 1000 if values else float("nan")
        print(f"{name:12s} latency ms: p50 {percentile(values, 50):.1f}  p95 {percentile(values, 95):.1f}  "
              f"p99 {percentile(values, 99):.1f}  mean {mean:.1f}  (n={len(values)})")
    print(f"CPU: servers {server_cpu:.1f} s ({server_cpu / elapsed * 100:.0f}% of one core), "
          f"load generator {generator_cpu:.1f} s ({generator_cpu / elapsed * 100:.0f}% of one core)")
    if results.errors:
        print(f"errors: {results.errors}; first: {results.sample_error!r}")
    print(f"answer saves alone: {len(saves) / saves_elapsed:.0f} saves/s, latency ms p50 {percentile(saves, 50):.1f}"
          f"  p95 {percentile(saves, 95):.1f}  p99 {percentile(saves, 99):.1f}  ({save_errors} errors)")
    print(f"/healthz (one SELECT 1): {health / health_elapsed:.0f} requests/s")


if __name__ == "__main__":
    main()
