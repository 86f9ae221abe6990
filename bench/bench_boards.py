"""Load benchmark: live leaderboards over Socket.IO, watched by thousands while results stream in.

Servers are started as in production (gunicorn, one gevent worker per process, PostgreSQL, Redis as
rank store and Socket.IO message queue). A feeder process stores a steady stream of submitted
attempts with their round entries and notifies the boards of them, exactly as
competitions.board_feed does after a real submission. Watchers are protocol-level clients
(bench/watcher.py: websocket, Engine.IO v4 and Socket.IO v5 on bare TCP connections, spread over a
few generator processes) subscribed to the round's people board; client i talks to server process
i % P, as sticky sessions would place it.

Per configuration (server processes x watchers) it prints: updates emitted (counted on the Redis
message queue, independent of the clients) and seen by clients, deliveries expected (updates x
subscribed watchers) against delivered, the delay from a result stored to a watcher receiving it
(p50/p95/p99), the delay from the server's send to the receipt (p95), the servers' CPU (% of one
core, summed) and peak RSS, the generators' and the feeder's CPU, and the results fed per second.
Then notes: how busy the whole machine was (the servers, clients, feeder, PostgreSQL and Redis
share its cores, and so does anything else running), the updates' cadence and the time a result
waited on the server before its update went out, and any line the servers logged.

Settings (environment): BENCH_SECONDS (measured window per configuration, 20), BENCH_WATCHERS
(comma-separated watcher counts, "1000,5000,10000"), BENCH_PROCESSES (comma-separated server process
counts, "1,2"), BENCH_RATE (results per second, 200), BENCH_GENERATORS (client processes, 4),
BENCH_DEFLATE (1: watchers offer permessage-deflate as browsers do; 0: plain frames; 1),
BENCH_DATABASE_URL (default: database bench_boards on the local PostgreSQL, dropped and rebuilt),
BENCH_REDIS_URL (redis://127.0.0.1:6379/12, flushed before each configuration).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402
import uvloop  # noqa: E402
from serving import (  # noqa: E402
    SECRET,
    RssSampler,
    Server,
    build_province,
    machine_cpu_seconds,
    open_round,
    percentile,
    postgres_missing,
    recreate_database,
    servers_cpu,
    start_servers,
    stop_servers,
)
from watcher import ProtocolError, Received, Watcher, watch  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_boards")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
WATCHERS = [int(n) for n in os.environ.get("BENCH_WATCHERS", "1000,5000,10000").split(",") if n.strip()]
PROCESSES = [int(n) for n in os.environ.get("BENCH_PROCESSES", "1,2").split(",") if n.strip()]
RATE = float(os.environ.get("BENCH_RATE", "200"))
GENERATORS = int(os.environ.get("BENCH_GENERATORS", "4"))
DEFLATE = os.environ.get("BENCH_DEFLATE", "1") == "1"
BASE_PORT = 18400
UPDATE_INTERVAL_MS = 500
TOP = 10
CONNECTING = 200  # handshakes in flight at once over all generators, so the servers are not flooded
FEED_TICK = 0.1  # the feeder commits a batch every 100 ms
DRAIN_SECONDS = 2.0  # after the feeder stops, at least, for the last updates to be emitted (see settle)
# Then each generator waits until every watcher has every emitted update, so a late update counts as
# late (in the delays), not as lost; it gives up after this long without any update arriving.
QUIET_SECONDS = 5.0
# Each member submits once per round (policy ONCE) and every configuration gets a new round, so one
# configuration's stream, with a margin, is enough members.
MEMBERS = max(1000, math.ceil(RATE * SECONDS * 1.25 / 10) * 10)
# The Socket.IO channel on Redis is shared by every database number of a Redis server (the test
# suite's servers use it too): round ids far from a test database's keep rooms from colliding.
FIRST_ROUND_ID = 900_001
CHANNEL = "flask-socketio"  # core.realtime's message-queue channel


# --- the world --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    province_id: int
    members: list[tuple[int, int, int]]  # (user id, team id, unit id): what an entry records


def prepare(app: object) -> World:
    """Schema, a province with one commune of hamlets, a team of 10 per hamlet, 20 approved questions."""
    from flask_migrate import upgrade

    from core.extensions import db

    with app.app_context():  # type: ignore[attr-defined]
        upgrade()
        db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('rounds', 'id'), {FIRST_ROUND_ID - 1})"))
        province_id, members = build_province(MEMBERS, 20)
        return World(province_id, [(m.user_id, m.team_id, m.unit_id) for m in members])


def new_round(app: object, world: World, label: str) -> int:
    """A published round open now, with its live board public (live_board defaults to on)."""
    with app.app_context():  # type: ignore[attr-defined]
        return open_round(world.province_id, f"Đợt thi thử tải {label}")


# --- the servers ------------------------------------------------------------------------------------


class EmitCounter(threading.Thread):
    """The updates of one board as emitted on the Redis message queue: what every watcher should get,
    counted without trusting the watchers."""

    def __init__(self, board: str) -> None:
        super().__init__(daemon=True)
        self.board = board
        self.keys: set[tuple[int, int]] = set()
        self.last = time.monotonic()  # when the latest new update was seen
        self.stopping = threading.Event()
        self.pubsub = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(CHANNEL)  # before any server can emit

    def run(self) -> None:
        while not self.stopping.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if not message:
                continue
            with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
                data = json.loads(message["data"])
                if data.get("method") == "emit" and data.get("event") == "update":
                    payload = data["data"][0]
                    if payload.get("board") == self.board:
                        self.keys.add((payload["stored_at"], payload["sent_at"]))
                        self.last = time.monotonic()
        self.pubsub.close()

    def longest_gap(self) -> float:
        """Seconds between two consecutive updates at most: about the longest tick with its pause."""
        sent = sorted(s for _stored, s in self.keys)
        return max((b - a for a, b in itertools.pairwise(sent)), default=0) / 1000


def settle(round_id: int, emitted: EmitCounter) -> None:
    """Wait until the servers have taken every result fed and emitted its update. A process sends an
    update to its own watchers before it publishes it on the queue, so the queue is quiet for about a
    tick before the last update shows there."""
    from competitions.boards import AGGREGATES
    from leaderboard import changes

    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    pending = changes._members_key(f"round:{round_id}")
    deadline = time.monotonic() + 60
    # the board source re-queues a marker for the team boards, which never makes an update of this board
    while client.smembers(pending) - {AGGREGATES} and time.monotonic() < deadline:
        time.sleep(0.1)
    while time.monotonic() - emitted.last < max(DRAIN_SECONDS, 1.5 * emitted.longest_gap()):
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


# --- the feeder -------------------------------------------------------------------------------------


def feeder_main(conn: Connection, round_id: int, members: list[tuple[int, int, int]]) -> None:
    """A child process: stores RATE submitted attempts per second, in a batch per FEED_TICK, each
    batch committed and then notified as competitions.board_feed does."""
    from competitions.models import Entry
    from core.app import create_app
    from core.config import Config
    from core.db_types import utcnow
    from core.extensions import db
    from leaderboard import changes
    from quiz.models import Attempt, AttemptStatus

    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=REDIS_URL,
                            BOARD_BROADCASTER=False))
    rng = random.Random(round_id)
    group = f"round:{round_id}"
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # connected before the clock starts
        db.session.commit()
        conn.send("ready")
        conn.recv()  # go
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.monotonic()
        fed = tick = late = 0
        commit_ms: list[float] = []
        while True:
            tick += 1
            due = began + tick * FEED_TICK
            if due > began + SECONDS + 1e-9:
                break
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            else:
                late += 1  # behind schedule: the batch goes now, a bigger one catches up
            count = min(round(RATE * tick * FEED_TICK) - fed, len(members) - fed)
            if count <= 0:
                continue
            batch = members[fed:fed + count]
            now = utcnow()
            attempts, entries = [], []
            for user_id, team_id, unit_id in batch:
                duration = rng.randint(20_000, 600_000)
                started = now - timedelta(milliseconds=duration)
                attempts.append({
                    "user_id": user_id, "context": group, "status": AttemptStatus.SUBMITTED, "started_at": started,
                    "deadline_at": started + timedelta(seconds=600), "submitted_at": now,
                    "score": rng.randint(0, 10), "max_score": 10, "duration_ms": duration,
                })
                entries.append({"round_id": round_id, "user_id": user_id, "team_id": team_id, "unit_id": unit_id,
                                "is_public": False, "created_at": now})
            started_ms = time.perf_counter()
            db.session.execute(sa.insert(Attempt.__table__), attempts)
            db.session.execute(sa.insert(Entry.__table__), entries)
            db.session.commit()
            changes.notify(group, [str(user_id) for user_id, _team, _unit in batch])
            commit_ms.append((time.perf_counter() - started_ms) * 1000)
            fed += count
        elapsed = time.monotonic() - began
        after = resource.getrusage(resource.RUSAGE_SELF)
    conn.send({
        "fed": fed, "elapsed": elapsed, "late": late,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "commit_ms_p95": percentile(commit_ms, 95),
    })


# --- the watchers -----------------------------------------------------------------------------------


async def _generate(conn: Connection, clients: list[int], board: str, connecting: int) -> None:
    loop = asyncio.get_running_loop()

    async def command() -> str:
        return await loop.run_in_executor(None, conn.recv)

    got, ended, errors = Received(), Counter(), Counter()
    first_error = ""
    gate = asyncio.Semaphore(connecting)
    watchers: list[Watcher] = []

    async def subscribe(port: int) -> None:
        nonlocal first_error
        try:
            async with gate:
                watchers.append(await asyncio.wait_for(watch(port, board, TOP, DEFLATE, got, ended), 60))
        except (TimeoutError, OSError, ProtocolError) as exc:
            errors[type(exc).__name__] += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"

    began = time.monotonic()
    await asyncio.gather(*(subscribe(port) for port in clients))
    conn.send({"subscribed": len(watchers), "errors": dict(errors), "first_error": first_error,
               "seconds": time.monotonic() - began})
    await command()  # go: the feeder starts
    before = resource.getrusage(resource.RUSAGE_SELF)
    window_began = time.monotonic()
    await command()  # end: the feeder stopped
    after = resource.getrusage(resource.RUSAGE_SELF)
    window = time.monotonic() - window_began
    emitted = int(await command())  # stop: how many updates the servers emitted
    got.last = max(got.last, time.monotonic())
    while min(got.counts, default=emitted) < emitted and time.monotonic() - got.last < QUIET_SECONDS:
        await asyncio.sleep(0.1)
    behind = sum(c < emitted for c in got.counts)
    for watcher in watchers:
        watcher.close()
    conn.send({
        "received_ms": got.received_ms, "stored_at": got.stored_at, "sent_at": got.sent_at,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), "window": window,
        "ended_early": dict(ended), "behind": behind, "largest": got.largest,
    })


def generator_main(conn: Connection, clients: list[int], board: str, connecting: int) -> None:
    """A child process: one event loop holding the watchers ``clients`` (their server ports). uvloop's
    transports cost the watchers a fraction of what asyncio's do: CPU left to the servers measured."""
    uvloop.run(_generate(conn, clients, board, connecting))


# --- one configuration ------------------------------------------------------------------------------


@dataclass
class Figures:
    processes: int
    watchers: int
    subscribed: int = 0
    connect_seconds: float = 0.0
    emitted: int = 0
    seen: int = 0
    expected: int = 0
    delivered: int = 0
    delay: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    send_receive_p95: float = math.nan
    server_cpu: float = math.nan  # % of one core
    peak_rss_mib: list[float] = field(default_factory=list)
    generator_cpu: float = math.nan
    feeder_cpu: float = math.nan
    fed_per_second: float = math.nan
    notes: list[str] = field(default_factory=list)


def _server_log_notes(servers: list[Server]) -> list[str]:
    """Whatever the servers wrote at warning level or above: shown, never hidden."""
    notes = []
    for n, server in enumerate(servers):
        lines = server.log.read_text(errors="replace").splitlines()
        if lines:
            notes.append(f"server {n} log ({len(lines)} lines, {server.log}):")
            notes += [f"    {line}" for line in lines[:25]]
    return notes


def run_configuration(app: object, world: World, processes: int, watchers: int, logdir: Path) -> Figures:
    figures = Figures(processes, watchers)
    tag = f"p{processes}-n{watchers}"
    redis.Redis.from_url(REDIS_URL).flushdb()  # a clean rank store and no pending changes
    round_id = new_round(app, world, tag)
    board = f"round:{round_id}:people"
    env = {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL, "DB_POOL_SIZE": "15", "DB_MAX_OVERFLOW": "5",
           "BOARD_UPDATE_INTERVAL_MS": str(UPDATE_INTERVAL_MS)}
    servers = start_servers(processes, BASE_PORT, env, logdir, tag)
    sampler, emitted = RssSampler(servers), EmitCounter(board)
    sampler.start()
    emitted.start()
    spawn = multiprocessing.get_context("spawn")  # children without this process's connections and threads
    children: list[multiprocessing.process.BaseProcess] = []
    try:
        feeder_conn, feeder_end = spawn.Pipe()
        feeder = spawn.Process(target=feeder_main, args=(feeder_end, round_id, world.members), daemon=True)
        feeder.start()
        children.append(feeder)
        pipes = []
        generators = max(1, min(GENERATORS, watchers))
        for g in range(generators):
            ours, theirs = spawn.Pipe()
            ports = [BASE_PORT + i % processes for i in range(g, watchers, generators)]
            child = spawn.Process(target=generator_main, args=(theirs, ports, board, max(1, CONNECTING // generators)),
                                  daemon=True)
            child.start()
            children.append(child)
            pipes.append(ours)
        ready = [pipe.recv() for pipe in pipes]
        figures.connect_seconds = max(r["seconds"] for r in ready)  # the generators connect side by side
        figures.subscribed = sum(r["subscribed"] for r in ready)
        connect_errors = Counter()
        for r in ready:
            connect_errors.update(r["errors"])
        if connect_errors:
            figures.notes.append(f"connect errors {dict(connect_errors)}; first: "
                                 f"{next(r['first_error'] for r in ready if r['first_error'])}")
        if feeder_conn.recv() != "ready":
            raise RuntimeError("feeder did not start")

        cpu_before = servers_cpu(servers)
        machine_before = machine_cpu_seconds()
        window_began = time.monotonic()
        for pipe in pipes:
            pipe.send("go")
        feeder_conn.send("go")
        fed = feeder_conn.recv()
        window = time.monotonic() - window_began
        server_cpu = servers_cpu(servers) - cpu_before
        machine_cpu = machine_cpu_seconds() - machine_before
        for pipe in pipes:
            pipe.send("end")
        settle(round_id, emitted)
        for pipe in pipes:
            pipe.send(len(emitted.keys))  # stop
        reports = [pipe.recv() for pipe in pipes]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.terminate()
        emitted.stopping.set()
        emitted.join()
        sampler.stopping.set()
        sampler.join()
        stop_servers(servers)

    updates = emitted.keys
    figures.emitted = len(updates)
    figures.expected = figures.emitted * figures.subscribed
    delays: list[int] = []
    send_receive: list[int] = []
    seen: set[tuple[int, int]] = set()
    foreign = 0
    for report in reports:
        for received, stored, sent in zip(report["received_ms"], report["stored_at"], report["sent_at"], strict=True):
            if (stored, sent) not in updates:
                foreign += 1  # not an update of this board on the queue: should never happen
                continue
            seen.add((stored, sent))
            delays.append(received - stored)
            send_receive.append(received - sent)
    figures.seen = len(seen)
    figures.delivered = len(delays)
    figures.delay = (percentile(delays, 50), percentile(delays, 95), percentile(delays, 99))
    figures.send_receive_p95 = percentile(send_receive, 95)
    figures.server_cpu = server_cpu / window * 100
    figures.peak_rss_mib = [s.peak_rss_kib / 1024 for s in servers]
    figures.generator_cpu = sum(r["cpu"] for r in reports) / max(r["window"] for r in reports) * 100
    figures.feeder_cpu = fed["cpu"] / fed["elapsed"] * 100
    figures.fed_per_second = fed["fed"] / fed["elapsed"]
    others = machine_cpu / window * 100 - figures.server_cpu - figures.generator_cpu - figures.feeder_cpu
    figures.notes.append(f"machine busy {machine_cpu / window * 100:.0f}% of {os.cpu_count() * 100}%; "
                         f"outside servers, watchers and feeder (PostgreSQL, Redis, anything else): {others:.0f}%")
    if fed["late"]:
        figures.notes.append(f"feeder behind schedule on {fed['late']} of its batches")
    # Where the delay is spent on the server: waiting for and running a tick (stored -> sent), and
    # how far apart the updates went out (the broadcaster sleeps its interval between ticks).
    sent_times = sorted(sent for _stored, sent in updates)
    gaps = [b - a for a, b in itertools.pairwise(sent_times)]
    figures.notes.append(
        f"updates {figures.emitted / window:.1f}/s, {max(gaps, default=0):.0f} ms apart at most "
        f"({sum(gaps) / max(len(gaps), 1):.0f} mean); stored->sent ms p50 "
        f"{percentile([sent - stored for stored, sent in updates], 50):.0f} max "
        f"{max((sent - stored for stored, sent in updates), default=0):.0f}; "
        f"feeder commit+notify p95 {fed['commit_ms_p95']:.0f} ms")
    ended: Counter = Counter()
    for report in reports:
        ended.update(report["ended_early"])
    shown = max(r["largest"] for r in reports)
    if shown != fed["fed"]:
        figures.notes.append(f"the watchers' board ended with {shown} rows, but {fed['fed']} results were fed")
    behind = sum(r["behind"] for r in reports)
    if behind:
        figures.notes.append(f"{behind} watchers missed some update ({QUIET_SECONDS:.0f} s without any update "
                             "arriving ended the wait)")
    if ended:
        figures.notes.append(f"watchers disconnected before the end: {dict(ended)}")
    if foreign:
        figures.notes.append(f"{foreign} updates received that were not on the queue for this board")
    figures.notes += _server_log_notes(servers)
    return figures


# --- report -----------------------------------------------------------------------------------------

HEADER = (f"{'procs':>5} {'watchers':>8} {'subscr':>6} {'conn s':>6} {'updates':>9} {'delivered/expected':>22} "
          f"{'stored→recv ms p50/p95/p99':>27} {'sent→recv p95':>13} {'srv CPU%':>8} {'peak RSS MiB':>13} "
          f"{'gen CPU%':>8} {'feed CPU%':>9} {'results/s':>9}")


def line(f: Figures) -> str:
    share = f"{f.delivered}/{f.expected} ({f.delivered / f.expected * 100:.1f}%)" if f.expected else "0/0"
    delay = "/".join(f"{d:.0f}" for d in f.delay)
    rss = "+".join(f"{r:.0f}" for r in f.peak_rss_mib)
    return (f"{f.processes:>5} {f.watchers:>8} {f.subscribed:>6} {f.connect_seconds:>6.1f} "
            f"{f'{f.emitted}/{f.seen}':>9} {share:>22} {delay:>27} {f.send_receive_p95:>13.0f} "
            f"{f.server_cpu:>8.0f} {rss:>13} {f.generator_cpu:>8.0f} {f.feeder_cpu:>9.0f} {f.fed_per_second:>9.0f}")


def main() -> None:
    missing = postgres_missing()
    if missing:
        print(f"skipped: the board load test needs PostgreSQL: {missing}")
        return
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as exc:
        print(f"skipped: the board load test needs Redis ({exc.__class__.__name__} at {REDIS_URL})")
        return
    from core.app import create_app
    from core.config import Config

    started = time.monotonic()
    print(f"database {DB_URL}, redis {REDIS_URL}; {SECONDS:.0f} s windows, {RATE:.0f} results/s, "
          f"{GENERATORS} client processes, deflate {'on' if DEFLATE else 'off'}, {os.cpu_count()} cores")
    recreate_database(DB_URL)
    redis.Redis.from_url(REDIS_URL).flushdb()
    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=None))
    world = prepare(app)
    print(f"prepared {len(world.members)} members in {len(world.members) // 10} teams, 20 questions "
          f"in {time.monotonic() - started:.1f} s")
    logdir = Path(tempfile.mkdtemp(prefix="bench_boards-"))
    print("updates: emitted on the Redis queue / distinct seen by watchers; delays from result stored "
          "(server clock) to watcher received")
    print(HEADER)
    results = []
    for processes in PROCESSES:
        for watchers in WATCHERS:
            figures = run_configuration(app, world, processes, watchers, logdir)
            results.append(figures)
            print(line(figures), flush=True)
            for note in figures.notes:
                print(f"      {note}")
    print(f"total {time.monotonic() - started:.0f} s; server logs in {logdir}")


if __name__ == "__main__":
    main()
