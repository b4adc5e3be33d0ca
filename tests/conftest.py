"""Shared test configuration.

``SECURE_PHONE_REQUIRE_SERVICES=1`` (set by .ci/run) turns a missing PostgreSQL or Redis into a
failure instead of a skip: on CI those services must be there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("SECURE_PHONE_REQUIRE_SERVICES") == "1"
PG_ADMIN_URL = os.environ.get("SECURE_PHONE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SECURE_PHONE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (locally) or fail (CI) when a scale-out service is not reachable."""
    if reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(message + " and SECURE_PHONE_REQUIRE_SERVICES=1")
    pytest.skip(message)


def run_async(coroutine):  # type: ignore[no-untyped-def]
    """``asyncio.run`` on a thread and loop of its own: Playwright's sync API keeps a loop running in the main
    thread once the browser tests ran in this process (``make test`` runs them first)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
