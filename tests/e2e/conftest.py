"""Browser tests: a real server (``scripts/serve``, Reflex prod mode) on a free port, its own
database re-seeded before every test, and Debian's chromium driven by Playwright.

``E2E_MODE=scaleout`` (run by ``scripts/test`` after the embedded pass) starts the server in the
scale-out mode instead: a fresh PostgreSQL database, Reflex's Redis state manager with two backend
workers, and the notification dispatcher as its own process.

``E2E_BASE_URL`` points the tests at an already running server instead (development only: the
database is then the one that server uses, ``E2E_DB_URL``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from sqlmodel import SQLModel

from tests.conftest import PG_ADMIN_URL, REDIS_URL, require_service

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECRET = os.environ.get("E2E_SECRET", "e2e-secret-not-for-production-0123456789")
STARTUP_SECONDS = 420
SCALE_OUT = os.environ.get("E2E_MODE") == "scaleout"
SCALE_OUT_WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(base_url: str, process: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200 and \
                    httpx.get(f"{base_url}/app", timeout=5, follow_redirects=True).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise RuntimeError(f"server not healthy after {STARTUP_SECONDS}s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def _serve(data: Path, root: Path = ROOT, demo: bool = True, redis_db: int = 0,
           env_extra: dict[str, str] | None = None) -> Iterator[dict]:
    """Run ``scripts/serve`` of ``root`` on a free port with its own database (and, scaled out, its own Redis
    database ``redis_db``), in the suite's mode."""
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "SECURE_PHONE_DATA_DIR": str(data),
           "SECURE_PHONE_SECRET": SECRET,
           "SECURE_PHONE_SERVICE_TOKEN": "e2e-service-token-not-for-production-0123456789",
           "SECURE_PHONE_DEMO": "1" if demo else "0",  # the tests read the demo inboxes
           "SECURE_PHONE_AUDIT_CHECKPOINTS": str(data.parent / f"{data.name}-audit-checkpoints.jsonl"),
           "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false", **(env_extra or {})}
    env.pop("REFLEX_REDIS_URL", None)
    bun = ROOT / ".tools" / "node_modules" / ".bin"
    if (bun / "bun").exists():  # as the Makefile sets it (the machine's node is too old for Reflex)
        env.update(PATH=f"{bun}:{env.get('PATH', '')}", REFLEX_BUN_PATH=str(bun / "bun"))
    pg_database = None
    if SCALE_OUT:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        require_service("Redis", "127.0.0.1", 6379)
        pg_database = f"secure_phone_e2e_{port}"
        _admin(f'CREATE DATABASE "{pg_database}"')
        db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_database
        # Each server its own Redis database: another server's states never meet the main one's.
        redis_url = REDIS_URL.rsplit("/", 1)[0] + f"/{redis_db}"
        env.update(REFLEX_REDIS_URL=redis_url, SECURE_PHONE_WORKERS=str(SCALE_OUT_WORKERS))
    else:
        db_url = f"sqlite:///{data / 'e2e.db'}"
    env["REFLEX_DB_URL"] = db_url
    from secure_phone.adapters.migrate import migrate

    migrate(db_url)
    log = data / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(root / "scripts" / "serve")], cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, log)
        yield {"base_url": base_url, "db_url": db_url, "log": log, "pgid": process.pid}
    finally:
        _stop(process)
        from secure_phone.adapters import db as database

        database.get_engine(db_url).dispose()
        if pg_database:
            _admin(f'DROP DATABASE IF EXISTS "{pg_database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app under test (demo mode): its base URL and database URL."""
    if os.environ.get("E2E_BASE_URL"):
        yield {"base_url": os.environ["E2E_BASE_URL"].rstrip("/"), "db_url": os.environ["E2E_DB_URL"]}
        return
    with _serve(tmp_path_factory.mktemp("e2e-data")) as running:
        yield running


@pytest.fixture(scope="module")
def demo_off_server(server: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The same app with ``SECURE_PHONE_DEMO=0`` (PRODUCT.md §12.1), served from a copy of the checkout:
    its pages are built without the demo surfaces, and the build must not replace the main server's.
    (``server`` first: its build, copied, saves the copy's frontend install.)"""
    copy = _checkout_copy(tmp_path_factory.mktemp("demo-off"))
    with _serve(tmp_path_factory.mktemp("demo-off-data"), root=copy, demo=False, redis_db=1) as running:
        yield running


@pytest.fixture(scope="module")
def seed_journey_server(server: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The same app with ``SECURE_PHONE_NEW_NUMBER_PROOF=0`` (§12.3's switch: the seed's journey exactly), in
    demo mode, from a copy of the checkout (its pages are built without the step « Code »). Its database is
    the test's to seed."""
    copy = _checkout_copy(tmp_path_factory.mktemp("seed-journey"))
    with _serve(tmp_path_factory.mktemp("seed-journey-data"), root=copy, redis_db=2,
                env_extra={"SECURE_PHONE_NEW_NUMBER_PROOF": "0"}) as running:
        yield running


def _checkout_copy(folder: Path) -> Path:
    """The checkout's files (what git knows), its tools, and the main server's frontend build."""
    copy = folder / "app"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source, target = ROOT / name, copy / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for tool in (".venv", ".tools"):
        (copy / tool).symlink_to(ROOT / tool)
    if (ROOT / ".web").exists():
        shutil.copytree(ROOT / ".web", copy / ".web", symlinks=True,
                        ignore=shutil.ignore_patterns("backend", ".states"))
    return copy


def _stop(process: subprocess.Popen) -> None:
    """Stop the server's whole process group (workers and dispatcher included)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _admin(sql: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture(autouse=True)
def fresh_data(server: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from the seeded personas, nothing else."""
    from secure_phone import settings
    from secure_phone.adapters import db, models  # noqa: F401  (the tables)
    from secure_phone.seed import seed

    monkeypatch.setenv("SECURE_PHONE_SECRET", SECRET)
    # The use cases a test runs in-process (to set a scene) answer as the demo server does: the simulated
    # operator is there in demo mode only (§12.1).
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    settings.secret_key.cache_clear()
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with db.get_engine(server["db_url"]).begin() as conn:
        for table in tables:
            conn.exec_driver_sql(f'DELETE FROM "{table}"')
    seed(server["db_url"])
    settings.secret_key.cache_clear()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def _context(browser: Browser, base_url: str, viewport: dict) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="fr-FR")
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def desktop(browser: Browser, server: dict) -> Iterator[Page]:
    """The customer's computer: the web customer area at 1280×800."""
    context = _context(browser, server["base_url"], DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser: Browser, server: dict) -> Iterator[Page]:
    """The customer's smartphone: the app at 390×844, in its own browser context."""
    context = _context(browser, server["base_url"], PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def inbox(browser: Browser, server: dict) -> Iterator[Page]:
    """A third screen showing /demo/messages."""
    context = _context(browser, server["base_url"], DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture(autouse=True, scope="session")
def expect_timeout() -> None:
    """Playwright's ``expect`` waits up to 10 s (a busy CI machine), not 5."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
