"""Pages under load: 50 users on gunicorn (4 workers) against the demo county.

Builds the demo county (seed 2018) in a throwaway var directory through the real path
(`jingzhun migrate` and `jingzhun demo_setup`, as `make demo` does), or reuses it with
--reuse; starts gunicorn on 127.0.0.1 (a free port, loopback only); logs in the county's
bureau leader (JINGZHUN_DEMO=1, as in `make demo`, so no second factor); and drives
concurrent users, each a thread looping over its pages with no pause (a closed loop: the
worst case; --think adds a pause), for a bounded time after a short warm-up.

Two groups of users: most ask for the home page and the coverage pages (the target group),
the others for two heavy lists. The same run first measures the baseline, the same load
with the page cache turned off (JINGZHUN_CACHE=off, a dummy cache), then the platform as
configured. Prints per page p50/p95/p99, requests per second and errors; exit status 0 when
every target page has p95 <= 300 ms with no errors, 2 when missed.

    .venv/bin/python bench/load.py [--reuse] [--seconds 60] [--users 50] [--var DIR]
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
HOST = "127.0.0.1"  # never anything else
TARGET_MS = 300.0
USER = "leader"  # the bureau leader: county jurisdiction, reads everything
TARGET_PAGES = [
    "/",
    "/aid/coverage/",
    "/duty/coverage/",
    "/identification/coverage/",
]
LIST_PAGES = [
    "/duty/",
    "/identification/ledgers/school-age/",
]


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


SRC: Path | None = None  # --src: the source tree to run instead of the installed one


def environment(var: Path, cache: str, postgres: str) -> dict[str, str]:
    """Return the environment of every command: the var directory, its keys, demo mode."""
    var.mkdir(parents=True, exist_ok=True)
    keys = var / "bench.env"
    if not keys.exists():
        keys.write_text(
            f"JINGZHUN_SECRET_KEY={secrets.token_urlsafe(48)}\n"
            f"JINGZHUN_FIELD_KEYS=1:{_key()}\n"
            f"JINGZHUN_BLIND_INDEX_KEY={_key()}\n"
            f"JINGZHUN_AUDIT_KEY={_key()}\n"
        )
        keys.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINGZHUN_")}
    env.pop("DATABASE_URL", None)
    for line in keys.read_text().splitlines():
        name, _, value = line.partition("=")
        env[name] = value
    env.update(
        JINGZHUN_VAR_DIR=str(var),
        JINGZHUN_DEMO="1",
        JINGZHUN_DEBUG="0",
        JINGZHUN_ALLOWED_HOSTS=HOST,
        JINGZHUN_CACHE=cache,
    )
    if postgres:
        env["DATABASE_URL"] = postgres
    if SRC is not None:
        env["PYTHONPATH"] = str(SRC)
    return env


def build(var: Path, seed: int, postgres: str) -> None:
    """Build the demo county in *var* through `migrate` and `demo_setup`."""
    if var.exists():
        shutil.rmtree(var)
    env = environment(var, "file", postgres)
    if postgres:
        _reset_postgres(postgres)
    started = time.perf_counter()
    for cmd in (
        ["migrate", "--noinput"],
        ["demo_setup", "--seed", str(seed), "--out", str(var / "demo-county")],
    ):
        print(f"$ jingzhun {' '.join(cmd)}", flush=True)
        done = subprocess.run(
            [str(BIN / "jingzhun"), *cmd], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"failed: jingzhun {' '.join(cmd)}")
    (var / ".built").write_text(f"seed {seed} {postgres}\n")
    print(f"demo county built in {time.perf_counter() - started:.0f} s", flush=True)


def _reset_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn in its own process group, stopped (the whole group) on exit or Ctrl-C."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "jingzhun.wsgi",
                "-w",
                str(workers),
                "-b",
                f"{HOST}:{self.port}",
                "--timeout",
                "120",
                "--no-control-socket",  # gunicorn >= 24 opens one in $HOME otherwise
            ],
            env=env,
            cwd=str(ROOT),
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        try:
            self._wait(log)
        except BaseException:  # Ctrl-C or no answer: never leave gunicorn behind
            self.stop()
            raise

    def _wait(self, log: Path) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}; see {log}")
            try:
                requests.get(f"{self.base}/admin/login/", timeout=30)
                return
            except requests.RequestException:  # not listening yet, or a worker still starting
                time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 120 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def login(base: str, username: str, password: str) -> dict[str, str]:
    """Log in through the admin login form; return the session's cookies."""
    s = requests.Session()
    page = s.get(f"{base}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    s.post(
        f"{base}/admin/login/",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": token.group(1),
            "next": "/",
        },
        headers={"Referer": f"{base}/admin/login/"},
        timeout=60,
    )
    home = s.get(f"{base}/", allow_redirects=False, timeout=60)
    if home.status_code != 200:
        raise SystemExit(f"login as {username} failed (home page gave {home.status_code})")
    return dict(s.cookies)


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)


def drive(
    base: str,
    cookies: dict[str, str],
    users: int,
    seconds: float,
    warmup: float,
    think: float,
) -> tuple[Results, float]:
    """Run *users* threads for warm-up + *seconds*; return what the measured window saw."""
    results = Results()
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    list_users = max(1, users // 5)  # one user in five reads the heavy lists

    def user(n: int) -> None:
        pages = LIST_PAGES if n < list_users else TARGET_PAGES
        s = requests.Session()
        s.cookies.update(cookies)
        i = n
        while True:
            now = time.monotonic()
            if now >= stop_at:
                return
            path = pages[i % len(pages)]
            i += 1
            measured = now >= measure_from
            t0 = time.perf_counter()
            ok = False
            try:
                r = s.get(base + path, allow_redirects=False, timeout=120)
                ok = r.status_code == 200
            except requests.RequestException:
                pass
            elapsed = time.perf_counter() - t0
            if measured:
                with results.lock:
                    if ok:
                        results.times[path].append(elapsed * 1000)
                    else:
                        results.errors[path] += 1
            if think:
                time.sleep(think)

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, seconds


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def report(name: str, results: Results, seconds: float) -> dict[str, tuple[float, float]]:
    print(f"\n== {name} ==")
    print(f"{'page':40s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s} {'err':>4s}")
    out: dict[str, tuple[float, float]] = {}
    total = 0
    for path in TARGET_PAGES + LIST_PAGES:
        values = results.times.get(path, [])
        total += len(values)
        p50, p95, p99 = pct(values, 50), pct(values, 95), pct(values, 99)
        out[path] = (p50, p95)
        print(
            f"{path:40s} {len(values):6d} {p50:8.0f} {p95:8.0f} {p99:8.0f} "
            f"{results.errors.get(path, 0):4d}"
        )
    errors = sum(results.errors.values())
    print(f"{total / seconds:.1f} requests/s over {seconds:.0f} s, {errors} errors")
    return out


def phase(args: argparse.Namespace, name: str, cache: str, seconds: float) -> tuple[Results, float]:
    env = environment(args.var, cache, args.postgres)
    if cache == "db":
        subprocess.run([str(BIN / "jingzhun"), "createcachetable"], env=env, check=True)
    server = Server(env, args.workers, args.var / "gunicorn.log")
    try:
        cookies = login(server.base, USER, f"demo-{USER}-{args.seed}")
        results, secs = drive(server.base, cookies, args.users, seconds, args.warmup, args.think)
        report(name, results, secs)
        return results, secs
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var", type=Path, default=Path("/tmp/jingzhun-load"))
    parser.add_argument("--reuse", action="store_true", help="reuse the county built in --var")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=None, help="default: --seconds")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between requests")
    parser.add_argument(
        "--postgres", default="", help="a PostgreSQL URL (recreated) for the county"
    )
    parser.add_argument(
        "--cache", default="file", choices=["file", "db"], help="the platform's cache backend"
    )
    parser.add_argument("--src", type=Path, default=None, help="run this source tree (its src/)")
    args = parser.parse_args()
    args.var = args.var.resolve()
    global SRC
    SRC = args.src.resolve() / "src" if args.src else None

    def interrupted(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    if not (args.reuse and (args.var / ".built").exists()):
        build(args.var, args.seed, args.postgres)
    print(
        f"{args.users} users ({max(1, args.users // 5)} on the lists), {args.workers} gunicorn "
        f"workers, {args.warmup:.0f} s warm-up, think time {args.think} s",
        flush=True,
    )
    if not args.no_baseline:
        phase(args, "baseline: page cache off", "off", args.baseline_seconds or args.seconds)
    results, seconds = phase(args, "platform", args.cache, args.seconds)
    missed = []
    for path in TARGET_PAGES:
        p95 = pct(results.times.get(path, []), 95)
        if not p95 <= TARGET_MS or results.errors.get(path):
            missed.append(path)
    if missed:
        print(f"\ntarget p95 <= {TARGET_MS:.0f} ms with no errors MISSED on: {', '.join(missed)}")
        return 2
    print(f"\ntarget p95 <= {TARGET_MS:.0f} ms with no errors met on every target page")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
