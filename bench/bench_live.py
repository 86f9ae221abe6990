"""Load benchmark of a live contest: simulated players on their phones, a host, servers as in
production (two gunicorn processes with one gevent worker each, PostgreSQL, Redis).

For each player count: a fresh contest is launched; players connect through the protocol-level
client (bench/sio.py) from several generator processes and join with the PIN; the host starts;
every player answers each question at a random moment within its time (a few never answer, so
that the time runs out and the server's timer reveals); the host goes on to the next question
shortly after each reveal, then to the podium.

Printed per player count: connection rate, answer-ack latency p50/p95/p99, the delay from a
question's time-up to the reveal on each phone p50/p95/p99, delivered vs expected messages, errors,
server CPU and peak memory, and the generators' own CPU.

Settings (environment): BENCH_PLAYERS ("500,2000,5000,10000"), BENCH_PROCESSES (2),
BENCH_QUESTIONS (3), BENCH_QUESTION_SECONDS (10), BENCH_GENERATORS (4), BENCH_SILENT (0.05: the
share of answers not given), BENCH_DATABASE_URL (database bench_live on the local PostgreSQL,
dropped and rebuilt), BENCH_REDIS_URL (redis://127.0.0.1:6379/14).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import redis  # noqa: E402
from serving import (  # noqa: E402
    RssSampler,
    percentile,
    postgres_missing,
    recreate_database,
    servers_cpu,
    signed_in,
    start_servers,
    stop_servers,
)
from sio import Client, number  # noqa: E402

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_live")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PLAYERS = [int(n) for n in os.environ.get("BENCH_PLAYERS", "500,2000,5000,10000").split(",")]
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
QUESTIONS = int(os.environ.get("BENCH_QUESTIONS", "3"))
SECONDS = int(os.environ.get("BENCH_QUESTION_SECONDS", "10"))
GENERATORS = int(os.environ.get("BENCH_GENERATORS", "4"))
SILENT = float(os.environ.get("BENCH_SILENT", "0.05"))
BASE_PORT = 18500
NS = "/live"
CONNECTING = 100  # connections opened at once per generator


def now_ms() -> int:
    return int(time.time() * 1000)


# --- the world -------------------------------------------------------------------------------------


def prepare() -> tuple[object, int]:
    """Schema, a host (the provincial Youth Union) and 20 approved single-answer questions."""
    from flask_migrate import upgrade
    from serving import SECRET

    from core.accounts import service as accounts
    from core.accounts.roles import RoleCode
    from core.app import create_app
    from core.config import Config
    from core.extensions import db
    from core.org import service as org
    from core.org.models import UnitKind
    from quiz import bank
    from quiz.models import QuestionStatus

    app = create_app(Config(SQLALCHEMY_DATABASE_URI=DB_URL, SECRET_KEY=SECRET, REDIS_URL=REDIS_URL))
    with app.app_context():
        upgrade()
        province = org.create_unit("Tỉnh Thử Tải", UnitKind.PROVINCE, None)
        host = accounts.create_user("Tỉnh đoàn thử tải", RoleCode.ORGANISER, unit=province, username="host")
        category = bank.categories()[0]
        for n in range(20):
            bank.create_question(bank.QuestionInput(
                text=f"Câu hỏi trực tiếp số {n}: ứng dụng định danh điện tử quốc gia là gì?",
                choices=["VNeID", "Zalo", "Momo", "VssID"], correct=[n % 4], category_id=category.id,
                difficulty="easy"), None, status=QuestionStatus.APPROVED)
        db.session.commit()
        return app, host.id


def launch_contest(app: object, host_id: int, players: int) -> tuple[int, str]:
    from competitions.live import contests
    from competitions.live.contests import ContestInput
    from core.accounts.models import User
    from core.extensions import db
    from quiz.models import Question

    with app.app_context():  # type: ignore[attr-defined]
        host = db.session.get(User, host_id)
        ids = list(db.session.scalars(db.select(Question.id).order_by(Question.id).limit(QUESTIONS)))
        contest = contests.create_contest(ContestInput(
            f"Thử tải {players} người", seconds_per_question=SECONDS, allow_guests=True,
            max_players=max(players, 2), question_ids=ids), host)
        pin = contests.launch(contest, host)
        db.session.commit()
        return contest.id, pin


# --- players (in generator processes) -----------------------------------------------------------------


@dataclass
class Tally:
    joined_ms: list[int] = field(default_factory=list)
    ack_ms: list[float] = field(default_factory=list)
    reveal_delay_ms: list[int] = field(default_factory=list)
    received: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


async def _player(http: aiohttp.ClientSession, base: str, pin: str, n: int, tally: Tally,
                  gate: asyncio.Semaphore) -> None:
    rng = random.Random(n)
    async with gate:
        try:
            client = await Client.connect(http, base, NS)
            join_id = await client.emit("join", {"pin": pin, "nickname": f"Người chơi {n}"}, ack=True)
            while True:
                kind, name, raw = await client.receive()
                if kind == "ack" and name == str(join_id):
                    if '"ok":true' not in raw:
                        tally.error("join refused: " + raw[:60])
                        return
                    tally.joined_ms.append(now_ms())
                    break
        except Exception as exc:  # noqa: BLE001 - counted, the run goes on
            tally.error(f"connect: {exc.__class__.__name__}")
            return
    deadlines: dict[int, int] = {}
    pending: dict[str, float] = {}

    async def answer_later(index: int, delay: float) -> None:
        await asyncio.sleep(delay)
        ack_id = await client.emit("answer", {"index": index, "choice": rng.randrange(4)}, ack=True)
        pending[str(ack_id)] = time.perf_counter()

    try:
        while True:
            kind, name, raw = await client.receive()
            if kind == "ack":
                sent = pending.pop(name, None)
                if sent is not None:
                    tally.ack_ms.append((time.perf_counter() - sent) * 1000)
                    if '"ok":true' not in raw:
                        tally.error("answer refused")
                continue
            tally.received += 1
            if name == "question":
                index = number(raw, "index")
                deadlines[index] = number(raw, "deadline")
                if rng.random() >= SILENT:
                    asyncio.get_running_loop().create_task(answer_later(index, rng.uniform(0.3, SECONDS * 0.8)))
            elif name == "reveal":
                tally.reveal_delay_ms.append(now_ms() - deadlines.get(number(raw, "index"), now_ms()))
            elif name == "finished":
                break
        # The last question's personal results may still be on their way (sent after the reveal).
        with contextlib.suppress(TimeoutError):
            while True:
                kind, name, raw = await asyncio.wait_for(client.receive(), timeout=3)
                tally.received += kind == "event"
    except Exception as exc:  # noqa: BLE001
        tally.error(f"dropped: {exc.__class__.__name__}")
    finally:
        await client.close()


async def _players(ports: list[int], pin: str, numbers: list[int]) -> Tally:
    tally = Tally()
    gate = asyncio.Semaphore(CONNECTING)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        await asyncio.gather(*(
            _player(http, f"http://127.0.0.1:{ports[n % len(ports)]}", pin, n, tally, gate) for n in numbers
        ))
    return tally


def generator_main(conn: Connection, ports: list[int], pin: str, numbers: list[int]) -> None:
    tally = asyncio.run(_players(ports, pin, numbers))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    conn.send((tally, usage.ru_utime + usage.ru_stime))
    conn.close()


# --- the host (in this process) --------------------------------------------------------------------------


async def _host(port: int, cookie: str, contest_id: int, players: int, joined_by: float) -> tuple[float, float]:
    """Hosts the contest; returns (when the last player joined, when it finished), monotonic."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        host = await Client.connect(http, f"http://127.0.0.1:{port}", NS, headers={"Cookie": f"session={cookie}"})
        host_ack = await host.emit("host", {"contest_id": contest_id}, ack=True)
        joined = 0
        while True:  # the players who joined before the host screen opened are in its state
            kind, name, raw = await host.receive()
            if kind == "ack" and name == str(host_ack):
                joined = number(raw, "players")
                break
        while joined < players and time.monotonic() < joined_by:
            try:
                kind, name, raw = await asyncio.wait_for(host.receive(), timeout=max(0.1, joined_by - time.monotonic()))
            except TimeoutError:
                break
            if kind == "event" and name == "player_joined":  # from two processes: not always in order
                joined = max(joined, number(raw, "players"))
        all_joined = time.monotonic()
        await host.emit("start", {}, ack=True)
        for _index in range(QUESTIONS):
            while True:
                kind, name, _raw = await host.receive()
                if kind == "event" and name == "reveal":
                    break
            await asyncio.sleep(1.5)  # the leaderboard on the projector
            await host.emit("next", {}, ack=True)
        while True:
            kind, name, _raw = await host.receive()
            if kind == "event" and name == "finished":
                break
        await host.close()
        return all_joined, time.monotonic()


# --- one configuration ------------------------------------------------------------------------------


def run(app: object, host_id: int, players: int, logdir: Path) -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()
    contest_id, pin = launch_contest(app, host_id, players)
    servers = start_servers(PROCESSES, BASE_PORT, {"DATABASE_URL": DB_URL, "REDIS_URL": REDIS_URL,
                                                   "DB_POOL_SIZE": "10", "DB_MAX_OVERFLOW": "10"}, logdir,
                            f"players{players}")
    sampler = RssSampler(servers)
    sampler.start()
    try:
        ports = [s.port for s in servers]
        cpu_before = servers_cpu(servers)
        began = time.monotonic()
        pipes, processes = [], []
        for g in range(GENERATORS):
            ours, theirs = multiprocessing.Pipe(duplex=False)
            numbers = list(range(g, players, GENERATORS))
            process = multiprocessing.Process(target=generator_main, args=(theirs, ports, pin, numbers))
            process.start()
            pipes.append(ours)
            processes.append(process)
        cookie, _token = signed_in(app, host_id)
        all_joined, finished = asyncio.run(_host(ports[0], cookie, contest_id, players, began + 120))
        results = [pipe.recv() for pipe in pipes]
        for process in processes:
            process.join(timeout=60)
        cpu = servers_cpu(servers) - cpu_before
    finally:
        sampler.stopping.set()
        stop_servers(servers)
    tally = Tally()
    generator_cpu = 0.0
    for part, seconds in results:
        tally.joined_ms += part.joined_ms
        tally.ack_ms += part.ack_ms
        tally.reveal_delay_ms += part.reveal_delay_ms
        tally.received += part.received
        generator_cpu += seconds
        for kind, count in part.errors.items():
            tally.errors[kind] = tally.errors.get(kind, 0) + count
    joined = len(tally.joined_ms)
    join_span = (max(tally.joined_ms) - min(tally.joined_ms)) / 1000 if joined > 1 else float("nan")
    expected = joined * (4 * QUESTIONS + 1)  # per question: question, reveal, leaderboard, result; then finished
    elapsed = finished - began
    rate = joined / join_span if join_span else 0
    print(f"{players:>6} players: joined {joined} ({rate:.0f}/s over {join_span:.1f} s, all in "
          f"{all_joined - began:.1f} s); answer ack ms p50 {percentile(tally.ack_ms, 50):.0f} "
          f"p95 {percentile(tally.ack_ms, 95):.0f} p99 {percentile(tally.ack_ms, 99):.0f} (n={len(tally.ack_ms)}); "
          f"time-up to reveal ms p50 {percentile(tally.reveal_delay_ms, 50):.0f} "
          f"p95 {percentile(tally.reveal_delay_ms, 95):.0f} p99 {percentile(tally.reveal_delay_ms, 99):.0f}; "
          f"messages {tally.received}/{expected}; errors {sum(tally.errors.values())} {tally.errors or ''}")
    print(f"        servers CPU {cpu:.1f} s over {elapsed:.0f} s ({cpu / elapsed * 100:.0f}% of one core), peak RSS "
          f"{', '.join(f'{s.peak_rss_kib / 1024:.0f} MiB' for s in servers)}; generators CPU {generator_cpu:.1f} s "
          f"({generator_cpu / elapsed * 100:.0f}% of one core)")


def main() -> None:
    missing = postgres_missing()
    if missing:
        print(f"skipped: the live contest load test needs PostgreSQL: {missing}")
        return
    print(f"{PROCESSES} gunicorn gevent processes, {QUESTIONS} questions of {SECONDS} s, "
          f"{GENERATORS} generator processes, {SILENT:.0%} of answers not given")
    recreate_database(DB_URL)
    app, host_id = prepare()
    logdir = Path(tempfile.mkdtemp(prefix="bench_live_"))
    for players in PLAYERS:
        run(app, host_id, players, logdir)
    print(f"server logs: {logdir}")


if __name__ == "__main__":
    main()
