"""Runtime settings read from the environment (the domain's rules live in domain.policy).

Secrets: ``SECURE_PHONE_SECRET`` keys the Sécur'Pass code hashes and the session references;
``SECURE_PHONE_SERVICE_TOKEN`` guards the status API. In the embedded mode, when they are not
set, random values are created once in the data directory (mode 0600) so that a restart keeps
them. Nothing here is ever logged.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    path = Path(os.environ.get("SECURE_PHONE_DATA_DIR", "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _persistent_secret(env_name: str, file_name: str) -> str:
    value = os.environ.get(env_name)
    if value:
        return value
    path = data_dir() / file_name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


@functools.cache
def secret_key() -> bytes:
    """Server-side secret keying the Sécur'Pass code hashes."""
    return _persistent_secret("SECURE_PHONE_SECRET", "secret.key").encode()


@functools.cache
def service_token() -> str:
    """Bearer token other bank systems present to the status API."""
    return _persistent_secret("SECURE_PHONE_SERVICE_TOKEN", "service.token")


def external_dispatcher() -> bool:
    """True in scale-out mode: notifications are delivered by a separate dispatcher process."""
    return os.environ.get("SECURE_PHONE_EXTERNAL_DISPATCHER", "0") == "1"
