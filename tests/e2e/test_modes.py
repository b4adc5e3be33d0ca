"""The server runs in the mode it was asked for: one process, or several workers and a dispatcher."""

from __future__ import annotations

import subprocess

import httpx

from tests.e2e.conftest import SCALE_OUT, SCALE_OUT_WORKERS


def _group(pgid: int) -> list[str]:
    out = subprocess.run(["ps", "-o", "pgid=,args=", "-A"], capture_output=True, text=True, check=True).stdout
    return [line.split(None, 1)[1] for line in out.splitlines() if line.split(None, 1)[0] == str(pgid)]


def test_the_processes_of_the_mode(server: dict) -> None:
    """(Against a server started elsewhere, E2E_BASE_URL, only its health and database are checked.)"""
    processes = _group(server["pgid"]) if "pgid" in server else []
    dispatchers = [p for p in processes if "secure_phone.dispatcher" in p]
    servers = [p for p in processes if "reflex run" in p]
    if not processes:
        pass
    elif SCALE_OUT:
        # the reflex supervisor, plus one process per worker
        assert len(servers) >= SCALE_OUT_WORKERS + 1, processes
        assert len(dispatchers) == 1, processes
    else:
        assert dispatchers == [], processes
    health = httpx.get(f"{server['base_url']}/api/health", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    expected = "postgresql" if SCALE_OUT else "sqlite"
    assert server["db_url"].startswith(expected)
