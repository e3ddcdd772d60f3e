"""xAPI statements stored per second by POST batches: TrainQuant's LRS (``/xapi``) against Ralph 5.1.

    .venv/bin/python bench/bench_lrs.py [--statements 20000] [--batch 500] [--workers 1] [--ralph-venv /tmp/ralph-venv]

``--statements`` statements of the xAPI video profile's shape (an account actor, ``played``, a video
activity with its definition, time-from / time-to / played-segments in the result, length and
session-id in the context, a timestamp, a fresh UUID each) are posted in batches of ``--batch``
(``POST .../statements``, a JSON array, HTTP Basic, ``X-Experience-API-Version: 1.0.3``) by one
client thread on one keep-alive connection, the same bytes to both servers, one server after the
other on this machine (the other is not running meanwhile). Each answer must be 200 with the ids
sent, in order; a GET of one posted id must then find it; the statements stored are counted in
each store afterwards (aim: all, on both).

Ours: ``trainquant init``, the 2,000 learners added as employees (so that every statement is bound to
one and written into watch coverage's video blocks, as a school's statements are), ``trainquant apikey
create bench --scopes xapi:all``, ``trainquant serve`` (``--workers`` processes, SQLite, its WAL
checkpointed by the server's own thread). The peer: Ralph 5.1
(``ralph-malph[cli,lrs]==5.1.0``, from PyPI into ``--ralph-venv``, made if missing), its ``fs``
backend (the only one needing no database server here), one uvicorn process, Basic auth from a
``ralph auth`` file; its ``fs`` backend refuses every write after the first, so it runs through
``bench/ralph_append.py``, which patches that write to append. Printed: statements/s of each, over
the whole run and over its first and last tenth of batches, and the ratio ours / Ralph (aim >= 2).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_attendance import _free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RALPH = "ralph-malph[cli,lrs]==5.1.0"
RALPH_NOTE = "Ralph 5.1, fs backend patched to append by bench/ralph_append.py"
VIDEO = "https://w3id.org/xapi/video"
HOME = "https://learn.trainquant.example/"  # our server's TQ_PUBLIC_URL: the learners' accounts are its own
VERSION = {"X-Experience-API-Version": "1.0.3"}
LEARNERS = 2_000


@dataclass
class Server:
    name: str
    statements_url: str  # the statements resource, absolute
    auth: tuple[str, str]
    folder: Path  # where its store and log are


@dataclass
class Run:
    seconds: float
    batch_seconds: list[float]
    stored: int
    found: bool


def _statements(n: int, seed: int = 1) -> list[dict]:
    """Video ``played`` statements: 2,000 learners, 300 videos, a month of past timestamps."""
    rnd = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=31)
    out = []
    for _ in range(n):
        video, length = rnd.randrange(300), float(rnd.randrange(120, 3600))
        frm = round(rnd.uniform(0, length - 60), 3)
        to = round(min(length, frm + rnd.uniform(5, 600)), 3)
        out.append({
            "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
            "actor": {"objectType": "Agent", "name": "learner", "account": {"homePage": HOME, "name": f"E{rnd.randrange(LEARNERS):05d}"}},
            "verb": {"id": f"{VIDEO}/verbs/played", "display": {"en-US": "played"}},
            "object": {"objectType": "Activity", "id": f"{HOME}videos/v{video:04d}",
                       "definition": {"type": "https://w3id.org/xapi/video/activity-type/video", "name": {"en-US": f"Video {video}"},
                                      "description": {"en-US": f"Training video {video}"}}},
            "result": {"extensions": {f"{VIDEO}/extensions/time-from": frm, f"{VIDEO}/extensions/time-to": to,
                                      f"{VIDEO}/extensions/played-segments": f"{frm}[.]{to}"}},
            "context": {"contextActivities": {"category": [{"id": VIDEO, "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]},
                        "extensions": {f"{VIDEO}/extensions/length": length, f"{VIDEO}/extensions/session-id": str(uuid.UUID(int=rnd.getrandbits(128), version=4))}},
            "timestamp": (start + timedelta(seconds=rnd.randrange(30 * 86400))).isoformat().replace("+00:00", "Z"),
        })
    return out


def _wait(proc: subprocess.Popen, url: str, log: Path, what: str) -> None:
    for _ in range(1200):
        if proc.poll() is not None:
            break
        try:
            if httpx.get(url, timeout=1, trust_env=False).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{what} did not start; its log:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _learners(url: str) -> None:
    """The statements' 2,000 learners as employees of the school, so that every statement is bound to
    one and written into watch coverage's blocks, as a school's are (not counted for nobody)."""
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.org.models import Department, Employee

    engine = make_engine(Settings(env="test"), url=url)
    now = datetime.now(UTC)
    with unit_of_work(make_sessionmaker(engine)) as db:
        department = Department(code="T1", name="教学部", kind="teaching")
        db.add(department)
        db.flush()
        db.add_all(Employee(employee_no=f"E{n:05d}", name=f"学员{n}", department_id=department.id, status="active", created_at=now, updated_at=now)
                   for n in range(LEARNERS))
    engine.dispose()


@contextmanager
def ours(tmp: Path, workers: int) -> Iterator[Server]:
    folder = tmp / "ours"
    folder.mkdir()
    env = {**os.environ, "TQ_DATABASE_URL": f"sqlite:///{folder}/lrs.db", "TQ_INSTANCE_DIR": str(folder / "inst"), "TQ_WORKERS": str(workers),
           "TQ_PUBLIC_URL": HOME}
    cli = str(Path(sys.executable).with_name("trainquant"))
    subprocess.run([cli, "init"], env=env, cwd=folder, check=True, capture_output=True)
    _learners(f"sqlite:///{folder}/lrs.db")
    made = subprocess.run([cli, "apikey", "create", "bench", "--scopes", "xapi:all"], env=env, cwd=folder, check=True, capture_output=True, text=True)
    key = next((w for w in (made.stdout + made.stderr).split() if w.startswith("tq_")), None)
    if key is None:
        raise SystemExit(f"no key in the output of trainquant apikey create:\n{made.stdout}{made.stderr}")
    port = _free_port()
    log = folder / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([cli, "serve", "--port", str(port)], env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(proc, f"http://127.0.0.1:{port}/healthz", log, "trainquant serve")
        yield Server(f"TrainQuant /xapi ({workers} worker{'s' if workers > 1 else ''}, SQLite)", f"http://127.0.0.1:{port}/xapi/statements",
                     ("bench", key.strip()), folder)
    finally:
        _stop(proc)


def _ralph_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not (venv / "bin" / "ralph").exists():
        print(f"installing {RALPH} into {venv} ...", flush=True)
        if not python.exists():
            subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", RALPH, "requests"], check=True)
    return python


@contextmanager
def ralph(tmp: Path, venv: Path) -> Iterator[Server]:
    python = _ralph_venv(venv)
    folder = tmp / "ralph"  # empty: Ralph's working folder, where its fs backend writes fs_lrs.jsonl
    conf = tmp / "ralph-conf"
    folder.mkdir()
    conf.mkdir()
    password = uuid.uuid4().hex
    env = {**os.environ, "RALPH_APP_DIR": str(conf), "RALPH_AUTH_FILE": str(conf / "auth.json"), "RALPH_HISTORY_FILE": str(conf / "history.json"),
           "RALPH_RUNSERVER_BACKEND": "fs", "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
           "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder)}
    subprocess.run([str(venv / "bin" / "ralph"), "auth", "-u", "bench", "-p", password, "-s", "all", "-M", "mailto:bench@trainquant.example",
                    "-N", "bench", "-w"], env=env, cwd=conf, check=True, capture_output=True)
    port = _free_port()
    log = conf / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(python), str(HERE / "ralph_append.py"), "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=folder,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(proc, f"http://127.0.0.1:{port}/__heartbeat__", log, "Ralph")
        yield Server(RALPH_NOTE, f"http://127.0.0.1:{port}/xAPI/statements", ("bench", password), folder)
    finally:
        _stop(proc)


def _post_all(server: Server, bodies: list[bytes], ids: list[list[str]], probe: str) -> Run:
    headers = {**VERSION, "content-type": "application/json"}
    times = []
    with httpx.Client(auth=server.auth, headers=headers, trust_env=False, timeout=600) as client:
        client.get(server.statements_url, params={"statementId": probe})  # the connection (and the credentials) warmed, not timed
        started = time.perf_counter()
        for body, want in zip(bodies, ids, strict=True):
            t = time.perf_counter()
            r = client.post(server.statements_url, content=body)
            times.append(time.perf_counter() - t)
            if r.status_code != 200 or r.json() != want:
                raise SystemExit(f"{server.name}: batch {len(times)} answered {r.status_code}: {r.text[:2000]}")
        seconds = time.perf_counter() - started
        got = client.get(server.statements_url, params={"statementId": probe})
        body = got.json() if got.status_code == 200 else {}
        # xAPI answers ``statementId`` with the Statement itself; Ralph 5.1 with a StatementResult holding it.
        found = probe in (body.get("id"), *(s.get("id") for s in body.get("statements") or []))
    return Run(seconds, times, _stored(server), found)


def _stored(server: Server) -> int:
    jsonl = server.folder / "fs_lrs.jsonl"
    if jsonl.exists():  # Ralph's one statements file, a statement a line
        with jsonl.open("rb") as f:
            return sum(1 for line in f if line.strip())
    con = sqlite3.connect(server.folder / "lrs.db")
    try:
        statements = con.execute("SELECT count(*) FROM xapi_statements").fetchone()[0]
        # Every statement counts for a learner: each is in watch coverage's blocks too, or none is stored.
        recorded = con.execute("SELECT coalesce(sum(rows), 0) FROM xapi_video_blocks").fetchone()[0]
        return statements if recorded == statements else -recorded
    finally:
        con.close()


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def _report(server: Server, run: Run, n: int, batch: int) -> float:
    tenth = max(1, len(run.batch_seconds) // 10)
    first, last = sum(run.batch_seconds[:tenth]), sum(run.batch_seconds[-tenth:])
    per = [min(batch, n - i * batch) for i in range(len(run.batch_seconds))]
    rate = _rate(n, run.seconds)
    print(f"  {server.name}:")
    print(f"    {n:,} statements in {run.seconds:6.2f} s = {rate:9,.0f} statements/s "
          f"(first tenth of batches {_rate(sum(per[:tenth]), first):,.0f}/s, last tenth {_rate(sum(per[-tenth:]), last):,.0f}/s)")
    print(f"    stored {run.stored:,} of {n:,}; GET of a posted id: {'200, found' if run.found else 'NOT FOUND'}")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--statements", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500, help="statements per POST")
    ap.add_argument("--workers", type=int, default=1, help="our server processes (TQ_WORKERS); Ralph runs one")
    ap.add_argument("--ralph-venv", type=Path, default=Path("/tmp/ralph-venv"), help="Ralph's own venv, made if missing")
    ap.add_argument("--only", choices=("ours", "ralph"), help="run one side only")
    args = ap.parse_args()
    if args.ralph_venv.resolve().is_relative_to(ROOT):
        raise SystemExit("--ralph-venv must be outside the repository")
    statements = _statements(args.statements)
    chunks = [statements[i : i + args.batch] for i in range(0, len(statements), args.batch)]
    bodies, ids = [orjson.dumps(c) for c in chunks], [[s["id"] for s in c] for c in chunks]
    probe = statements[len(statements) // 2]["id"]
    print(f"{args.statements:,} xAPI video statements posted in batches of {args.batch} ({len(bodies)} POSTs, "
          f"{sum(map(len, bodies)) / len(statements):,.0f} bytes a statement), one client, one server at a time:")
    rates: dict[str, float] = {}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for side, start in (("ours", lambda: ours(Path(tmp), args.workers)), ("ralph", lambda: ralph(Path(tmp), args.ralph_venv))):
            if args.only and args.only != side:
                continue
            with start() as server:
                run = _post_all(server, bodies, ids, probe)
            rates[side] = _report(server, run, args.statements, args.batch)
            failed |= run.stored != args.statements or not run.found
    if len(rates) == 2:
        print(f"  ratio ours / Ralph = {rates['ours']:,.0f} / {rates['ralph']:,.0f} = {rates['ours'] / rates['ralph']:.2f} (aim >= 2)")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
