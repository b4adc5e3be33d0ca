"""Browser tests: a real server (``scripts/serve``, Reflex prod mode) on a free port, its own
database re-seeded before every test, and Debian's chromium driven by Playwright.

``E2E_BASE_URL`` points the tests at an already running server instead (development only: the
database is then the one that server uses, ``E2E_DB_URL``).
"""

from __future__ import annotations

import os
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

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SECRET = os.environ.get("E2E_SECRET", "e2e-secret-not-for-production")
STARTUP_SECONDS = 420


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


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app under test: its base URL and database URL."""
    if os.environ.get("E2E_BASE_URL"):
        yield {"base_url": os.environ["E2E_BASE_URL"].rstrip("/"), "db_url": os.environ["E2E_DB_URL"]}
        return
    data = tmp_path_factory.mktemp("e2e-data")
    db_url = os.environ.get("E2E_SERVER_DB_URL") or f"sqlite:///{data / 'e2e.db'}"
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "SECURE_PHONE_DATA_DIR": str(data), "REFLEX_DB_URL": db_url,
           "SECURE_PHONE_SECRET": SECRET, "SECURE_PHONE_SERVICE_TOKEN": "e2e-service-token",
           "REFLEX_TELEMETRY_ENABLED": "false", "REFLEX_CHECK_LATEST_VERSION": "false"}
    from secure_phone.adapters.migrate import migrate

    migrate(db_url)
    log = data / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process, log)
        yield {"base_url": base_url, "db_url": db_url, "log": log}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(autouse=True)
def fresh_data(server: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from the seeded personas, nothing else."""
    from secure_phone import settings
    from secure_phone.adapters import db, models  # noqa: F401  (the tables)
    from secure_phone.seed import seed

    monkeypatch.setenv("SECURE_PHONE_SECRET", SECRET)
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


expect_timeout = pytest.fixture(autouse=True, scope="session")(lambda: __import__("playwright.sync_api").sync_api.expect.set_options(timeout=10_000))
