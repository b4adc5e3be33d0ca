"""Benchmark of secure_phone against the bare-Reflex floor, in one run. Reports; never gates anything.

    .venv/bin/python bench/run.py            # 1, 50, 200 concurrent customers (~10 min)
    BENCH_QUICK=1 .venv/bin/python bench/run.py   # 1 and 20 customers, short floor runs (< 2 min after the builds)

It copies the project to a temp dir (never builds /work/main/.web), migrates and seeds that copy, creates
bench customers in its SQLite database, serves it with scripts/serve (embedded mode) and the floor app
(bench/floor_app) with `reflex run --env prod`, each in its own process group, on loopback only, and stops
both by process group. Results: bench/results/latest.json and a Markdown table on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from client import HAS_DELTA, ROOT, ReflexSocket  # noqa: E402
from journey import j1  # noqa: E402

PROJECT = HERE.parent
VENV = Path(os.environ.get("BENCH_VENV", PROJECT / ".venv"))
TOOLS = PROJECT / ".tools"
QUICK = os.environ.get("BENCH_QUICK") == "1"
WORK = Path(os.environ.get("BENCH_WORKDIR", f"/tmp/secure-phone-bench-{os.getpid()}"))
# Scale-out: BENCH_REDIS_URL (e.g. redis://127.0.0.1:6379/13, a db index nobody else uses) runs the app with
# Reflex's redis state manager, $SECURE_PHONE_WORKERS workers and the separate dispatcher (scripts/serve), and the
# floor with the same state manager and worker count. The database stays SQLite unless BENCH_DB_URL is given.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")
WORKERS = os.environ.get("SECURE_PHONE_WORKERS", "2")
APP_PORT = int(os.environ.get("BENCH_APP_PORT", "3700"))
FLOOR_PORT = int(os.environ.get("BENCH_FLOOR_PORT", "3800"))
HOST = "127.0.0.1"
LEVELS = [int(x) for x in os.environ.get("BENCH_LEVELS", "1,20" if QUICK else "1,50,200").split(",")]
FLOOR_SECONDS = float(os.environ.get("BENCH_FLOOR_SECONDS", "8" if QUICK else "20"))
FLOOR = "reflex___state____state.floor___floor____floor_state"


def log(*args: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def env() -> dict:
    bun = TOOLS / "node_modules/.bin"
    return {**os.environ, "PATH": f"{bun}:{os.environ['PATH']}", "REFLEX_BUN_PATH": str(bun / "bun"),
            "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false"}


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99), "max_ms": max(ms) if ms else None}


# --- servers ------------------------------------------------------------------------------

class Server:
    def __init__(self, name: str, cwd: Path, argv: list[str], port: int, extra_env: dict | None = None) -> None:
        self.name, self.cwd, self.argv, self.port = name, cwd, argv, port
        self.env = {**env(), "PORT": str(port), **(extra_env or {})}
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        logf = open(self.cwd / "serve.log", "w")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # its own process group

    def wait_ready(self, path: str, timeout: float = 420) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.cwd / 'serve.log'}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}{path}", timeout=5) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s")

    def rss_bytes(self) -> int:
        """RSS of every process in the server's process group (granian, its workers, bun-free prod)."""
        assert self.proc is not None
        pgid, total = self.proc.pid, 0
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                    continue
                for line in (d / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except (OSError, ValueError, IndexError):
                continue
        return total

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass


def prepare() -> tuple[Path, Path]:
    app, floor = WORK / "app", WORK / "floor"
    WORK.mkdir(parents=True, exist_ok=True)
    subprocess.run(["rsync", "-a", "--exclude", ".web", "--exclude", ".venv", "--exclude", "data", "--exclude", ".tools",
                    "--exclude", "bench", f"{PROJECT}/", f"{app}/"], check=True)
    for link, target in ((app / ".venv", VENV), (app / ".tools", TOOLS)):
        if not link.exists():
            link.symlink_to(target)
    (app / "data").mkdir(exist_ok=True)
    py = str(VENV / "bin/python")
    subprocess.run([py, "-c", "from secure_phone.adapters.migrate import migrate; migrate()"], cwd=app, check=True,
                   env=env(), stdout=subprocess.DEVNULL)
    subprocess.run([py, "-m", "secure_phone.seed"], cwd=app, check=True, env=env(), stdout=subprocess.DEVNULL)
    if floor.exists():
        shutil.rmtree(floor)
    shutil.copytree(HERE / "floor_app", floor, ignore=shutil.ignore_patterns(".web", "data", "serve.log", "__pycache__"))
    (floor / "data").mkdir(exist_ok=True)
    return app, floor


def make_customers(app: Path, count: int) -> list[dict]:
    out = subprocess.run([str(VENV / "bin/python"), str(HERE / "customers.py"), str(count), "0"], cwd=app, check=True,
                         env=env(), capture_output=True, text=True)
    return json.loads(out.stdout)


# --- loads --------------------------------------------------------------------------------

async def floor_load(clients: int, event: str, seconds: float, server: Server) -> dict:
    """``clients`` sockets on the floor page, each sending ``event`` once a second, random phase."""
    sockets = [ReflexSocket(HOST, FLOOR_PORT, "/") for _ in range(clients)]
    rss0 = server.rss_bytes()
    for i in range(0, clients, 25):
        await asyncio.gather(*(s.connect() for s in sockets[i:i + 25]))
    rss1 = server.rss_bytes()
    latencies: list[float] = []
    errors = 0

    async def one(s: ReflexSocket) -> None:
        nonlocal errors
        await asyncio.sleep(random.random())
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            try:
                latencies.append(await s.event(f"{FLOOR}.{event}", {}, timeout=30, done=HAS_DELTA))
            except Exception:
                errors += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))

    t0 = time.perf_counter()
    await asyncio.gather(*(one(s) for s in sockets))
    wall = time.perf_counter() - t0
    state_bytes = statistics.mean(s.hydrate_bytes for s in sockets)
    await asyncio.gather(*(s.close() for s in sockets))
    return {"event": event, "clients": clients, **summary(latencies), "errors": errors,
            "events_per_s": len(latencies) / wall, "rss_before": rss0, "rss_connected": rss1,
            "rss_per_client": (rss1 - rss0) / clients, "hydrate_bytes_per_client": state_bytes}


async def customer_load(customers: list[dict], server: Server) -> dict:
    """Each customer runs J1 once (phone + web tab), 1 s between its steps; starts spread over a ramp."""
    steps: dict[str, list[float]] = {}
    ramp = max(1.0, len(customers) / 20)

    def record(name: str, seconds: float) -> None:
        steps.setdefault(name, []).append(seconds)

    kept: list[ReflexSocket] = []
    rss0 = server.rss_bytes()
    results: list = []

    async def one(c: dict) -> None:
        await asyncio.sleep(random.random() * ramp)
        try:
            results.append(await j1(HOST, APP_PORT, c, record, think=1.0, keep=kept))
        except Exception as error:  # noqa: BLE001 — counted and reported
            results.append({"ok": False, "error": repr(error)[:300]})

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in customers))
    wall = time.perf_counter() - t0
    rss1 = server.rss_bytes()  # every customer's two tabs are still connected here
    await asyncio.gather(*(s.close() for s in kept))
    ok = [r for r in results if r.get("ok")]
    event_steps = [v for k, vs in steps.items() if not k.startswith("push.") and not k.endswith("hydrate") for v in vs]
    return {
        "customers": len(customers), "completed": len(ok), "failed": len(results) - len(ok),
        "errors": sorted({r.get("error", r.get("outcome")) for r in results if not r.get("ok")})[:5],
        "wall_s": wall, "completed_per_s": len(ok) / wall,
        "steps": {k: summary(v) for k, v in sorted(steps.items())},
        "all_event_steps": summary(event_steps),
        "event_steps_without_login": summary([v for k, vs in steps.items() if not k.startswith("push.")
                                              and not k.endswith("hydrate") and not k.endswith("login") for v in vs]),
        "rss_before": rss0, "rss_connected": rss1, "connected_clients": len(kept),
        "rss_per_client": (rss1 - rss0) / max(1, len(kept)),
        "hydrate_bytes_per_client": {k: statistics.mean(r["hydrate_bytes"][k] for r in ok) for k in ("phone", "web")} if ok else None,
        "request_ids": [r["request_id"] for r in ok],
    }


def pipeline(app: Path, request_ids: list[str]) -> dict:
    """approval (decided_at) → MySys committed (completed_at) → notifications handed over (Outbox.sent_at)."""
    db = sqlite3.connect(app / "data/secure_phone.db")

    def ts(v: str | None) -> float | None:
        return datetime.fromisoformat(v).timestamp() if v else None

    to_mysys, to_sent = [], []
    deadline = time.time() + 15
    for rid in request_ids:
        row = db.execute("select decided_at, completed_at from changerequest where id = ?", (rid,)).fetchone()
        if not row or not row[0] or not row[1]:
            continue
        decided, completed = ts(row[0]), ts(row[1])
        to_mysys.append(completed - decided)
        while True:
            sent = db.execute("select max(sent_at), count(*), count(sent_at) from outbox where key like ?",
                              (f"{rid}:%",)).fetchone()
            if sent[1] and sent[1] == sent[2] or time.time() > deadline:
                break
            time.sleep(0.2)
        if sent[1] and sent[1] == sent[2]:
            to_sent.append(ts(sent[0]) - decided)
    db.close()
    return {"approval_to_mysys": summary(to_mysys), "approval_to_notifications_sent": summary(to_sent)}


# --- first load ---------------------------------------------------------------------------

def first_load(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for _ in range(3):
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.add_init_script("""
              window.__lcp = 0;
              new PerformanceObserver(l => { for (const e of l.getEntries()) window.__lcp = e.startTime; })
                .observe({type: 'largest-contentful-paint', buffered: true});""")
            page.goto(url, wait_until="networkidle")
            page.wait_for_timeout(500)
            runs.append(page.evaluate("""() => {
              const nav = performance.getEntriesByType('navigation')[0];
              const res = performance.getEntriesByType('resource');
              return {lcp_ms: window.__lcp, requests: res.length + 1,
                      bytes: (nav ? nav.transferSize : 0) + res.reduce((a, r) => a + (r.transferSize || 0), 0)};
            }"""))
            context.close()
        browser.close()
    return {"lcp_ms": statistics.median(r["lcp_ms"] for r in runs), "bytes": statistics.median(r["bytes"] for r in runs),
            "requests": statistics.median(r["requests"] for r in runs), "runs": runs}


# --- main ---------------------------------------------------------------------------------

async def loads(app_server: Server, floor_server: Server, customers: list[dict]) -> dict:
    out: dict = {"levels": {}}
    used = 0
    for n in LEVELS:
        log(f"floor: {n} clients × increment, db_write")
        inc = await floor_load(n, "increment", FLOOR_SECONDS, floor_server)
        dbw = await floor_load(n, "db_write", FLOOR_SECONDS, floor_server)
        log(f"J1: {n} customers")
        j = await customer_load(customers[used:used + n], app_server)
        used += n
        log(f"  completed {j['completed']}/{n}, all steps p99 {j['all_event_steps']['p99_ms']}")
        out["levels"][n] = {"floor_increment": inc, "floor_db_write": dbw, "j1": j}
    return out


def table(r: dict) -> str:
    lines = [f"mode: {r['mode']}", "", "| customers | J1 completed | changes/s | customer step p50 / p99 ms (without logins) | floor db_write p50 / p99 ms | "
             "step p99 ÷ floor p99 | approval→MySys p50/p99 ms | approval→notifications sent p50/p99 ms | "
             "RSS/client KB (app / floor) |", "|" + "---|" * 9]
    for n, lv in r["levels"].items():
        j, f = lv["j1"], lv["floor_db_write"]
        pp = lv.get("pipeline", {})
        a, b = pp.get("approval_to_mysys", {}), pp.get("approval_to_notifications_sent", {})
        ratio = (j["all_event_steps"]["p99_ms"] / f["p99_ms"]) if j["all_event_steps"]["p99_ms"] and f["p99_ms"] else None
        fmt = lambda v: "–" if v is None else f"{v:.1f}"  # noqa: E731
        lines.append(f"| {n} | {j['completed']}/{j['customers']} | {j['completed_per_s']:.2f} | "
                     f"{fmt(j['all_event_steps']['p50_ms'])} / {fmt(j['all_event_steps']['p99_ms'])} "
                     f"({fmt(j['event_steps_without_login']['p50_ms'])} / {fmt(j['event_steps_without_login']['p99_ms'])}) | "
                     f"{fmt(f['p50_ms'])} / {fmt(f['p99_ms'])} | {fmt(ratio)} | {fmt(a.get('p50_ms'))} / {fmt(a.get('p99_ms'))} | "
                     f"{fmt(b.get('p50_ms'))} / {fmt(b.get('p99_ms'))} | "
                     f"{j['rss_per_client'] / 1024:.0f} / {lv['floor_increment']['rss_per_client'] / 1024:.0f} |")
    return "\n".join(lines)


def main() -> None:
    t0 = time.time()
    log(f"preparing {WORK}")
    app, floor = prepare()
    customers = make_customers(app, sum(LEVELS))
    scale = {"REFLEX_REDIS_URL": REDIS_URL, "SECURE_PHONE_WORKERS": WORKERS} if REDIS_URL else {}
    if os.environ.get("BENCH_DB_URL"):
        scale["REFLEX_DB_URL"] = os.environ["BENCH_DB_URL"]
    results_mode = "scale-out" if REDIS_URL else "embedded"
    app_server = Server("app", app, ["scripts/serve"], APP_PORT, scale)
    floor_server = Server("floor", floor, [str(VENV / "bin/reflex"), "run", "--env", "prod", "--single-port",
                                           "--backend-port", str(FLOOR_PORT), "--loglevel", "warning"], FLOOR_PORT,
                          {"REFLEX_REDIS_URL": REDIS_URL, "GRANIAN_WORKERS": WORKERS} if REDIS_URL else {})
    results: dict = {"mode": results_mode, "quick": QUICK, "levels_requested": LEVELS, "nproc": os.cpu_count(),
                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        log("building and starting both servers (prod builds take a few minutes)")
        app_server.start()
        floor_server.start()
        app_server.wait_ready("/")
        floor_server.wait_ready("/")
        log(f"servers ready after {time.time() - t0:.0f}s")
        t_load = time.time()
        results.update(asyncio.run(loads(app_server, floor_server, customers)))
        for n, lv in results["levels"].items():
            lv["pipeline"] = pipeline(app, lv["j1"].pop("request_ids"))
        results["load_seconds"] = time.time() - t_load
        if os.environ.get("BENCH_SKIP_BROWSER") != "1":
            log("first load in headless Chromium")
            results["first_load"] = {"app": first_load(f"http://{HOST}:{APP_PORT}/app"),
                                     "floor": first_load(f"http://{HOST}:{FLOOR_PORT}/")}
    finally:
        app_server.stop()
        floor_server.stop()
    results["total_seconds"] = time.time() - t0
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"latest-{results_mode}.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    if "first_load" in results:
        fl = results["first_load"]
        print(f"\nfirst load 390×844: /app LCP {fl['app']['lcp_ms']:.0f} ms, {fl['app']['bytes'] / 1024:.0f} KB "
              f"in {fl['app']['requests']} requests; bare LCP {fl['floor']['lcp_ms']:.0f} ms, "
              f"{fl['floor']['bytes'] / 1024:.0f} KB in {fl['floor']['requests']} requests")
    log(f"done in {results['total_seconds']:.0f}s; bench/results/latest.json")


if __name__ == "__main__":
    main()
