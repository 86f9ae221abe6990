"""Load benchmark: members start, answer and submit 10-question attempts through the JSON API
against servers started as in production (gunicorn + gevent, PostgreSQL, Redis).

Prints sustained complete attempts per second, answer-save latency p50/p95/p99, and the CPU the
servers, PostgreSQL and Redis, and this load generator used (they share the machine's cores), also
per complete attempt: the budget that decides how many attempts a second the machine can take.
Then two shorter phases for scale: answer saves alone (members with an attempt open re-answering,
the hot path of a deadline rush), and /healthz (the same stack doing one database statement: the
floor of any request).

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
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402
from serving import (  # noqa: E402
    SECRET,
    analyse,
    build_province,
    machine_cpu_seconds,
    open_round,
    percentile,
    postgres_missing,
    programs_cpu,
    recreate_database,
    servers_cpu,
    signed_in,
    start_servers,
    stop_servers,
)

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_attempts")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
USERS = int(os.environ.get("BENCH_USERS", "150"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "9000"))
PHASE_SECONDS = float(os.environ.get("BENCH_PHASE_SECONDS", "10"))
BASE_PORT = 18300


def prepare() -> tuple[int, list[tuple[str, str]]]:
    """Schema, a province with teams and members, 200 approved questions and an open round.
    Returns the round id and one (session cookie, CSRF token) per member."""
    from flask_migrate import upgrade

    from core.app import create_app
    from core.config import Config

    redis.Redis.from_url(REDIS_URL).flushdb()  # live answers of a previous run's attempts
    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=None))
    with app.app_context():
        upgrade()
        province_id, members = build_province(MEMBERS, 200)
        round_id = open_round(province_id, "Đợt thi thử tải")
        analyse()
        credentials = [signed_in(app, member.user_id) for member in members]
        return round_id, credentials


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


def _ms(seconds: list[float], p: float) -> float:
    return percentile(seconds, p) * 1000


def main() -> None:
    missing = postgres_missing()
    if missing:
        print(f"skipped: the attempt load test needs PostgreSQL: {missing}")
        return
    print(f"database {DB_URL}, redis {REDIS_URL}, {WORKERS} gunicorn gevent processes, {USERS} concurrent members")
    recreate_database(DB_URL)
    began = time.perf_counter()
    round_id, credentials = prepare()
    print(f"prepared {len(credentials)} members, 200 questions, 1 open round in {time.perf_counter() - began:.1f} s")
    logdir = Path(tempfile.mkdtemp(prefix="bench_attempts_"))
    servers = start_servers(WORKERS, BASE_PORT, {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "DB_POOL_SIZE": "15",
                                                 "DB_MAX_OVERFLOW": "5"}, logdir, "attempts", connections=2000)
    try:
        server_cpu_before = servers_cpu(servers)
        stores_before, machine_before = programs_cpu("postgres", "redis-server"), machine_cpu_seconds()
        own_before = resource.getrusage(resource.RUSAGE_SELF)
        results, elapsed = asyncio.run(load(round_id, credentials))
        own_after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = servers_cpu(servers) - server_cpu_before
        stores_cpu = programs_cpu("postgres", "redis-server") - stores_before
        machine_cpu = machine_cpu_seconds() - machine_before
        saves, save_errors, saves_elapsed = asyncio.run(saves_only(round_id, credentials))
        health, health_elapsed = asyncio.run(health_only())
    finally:
        stop_servers(servers)
    generator_cpu = (own_after.ru_utime - own_before.ru_utime) + (own_after.ru_stime - own_before.ru_stime)
    requests = len(results.answer_latencies) + len(results.start_latencies) + len(results.submit_latencies)
    print(f"elapsed {elapsed:.1f} s")
    print(f"complete attempts: {results.completed} = {results.completed / elapsed:.1f} attempts/s")
    print(f"requests: {requests} = {requests / elapsed:.0f} requests/s")
    for name, values in (("answer save", results.answer_latencies), ("start", results.start_latencies),
                         ("submit", results.submit_latencies)):
        mean = statistics.mean(values) * 1000 if values else float("nan")
        print(f"{name:12s} latency ms: p50 {_ms(values, 50):.1f}  p95 {_ms(values, 95):.1f}  "
              f"p99 {_ms(values, 99):.1f}  mean {mean:.1f}  (n={len(values)})")
    print(f"CPU: servers {server_cpu:.1f} s ({server_cpu / elapsed * 100:.0f}% of one core), "
          f"load generator {generator_cpu:.1f} s ({generator_cpu / elapsed * 100:.0f}%), "
          f"PostgreSQL and Redis {stores_cpu:.1f} s ({stores_cpu / elapsed * 100:.0f}%); "
          f"machine busy {machine_cpu / elapsed * 100:.0f}% of {os.cpu_count() * 100}%")
    if results.completed:
        per = 1000 / results.completed
        print(f"CPU per complete attempt: servers {server_cpu * per:.1f} ms, PostgreSQL and Redis "
              f"{stores_cpu * per:.1f} ms, load generator {generator_cpu * per:.1f} ms")
    if results.errors:
        print(f"errors: {results.errors}; first: {results.sample_error!r}")
    print(f"answer saves alone: {len(saves) / saves_elapsed:.0f} saves/s, latency ms p50 {_ms(saves, 50):.1f}"
          f"  p95 {_ms(saves, 95):.1f}  p99 {_ms(saves, 99):.1f}  ({save_errors} errors)")
    print(f"/healthz (one SELECT 1): {health / health_elapsed:.0f} requests/s")


if __name__ == "__main__":
    main()
