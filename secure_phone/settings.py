"""Runtime settings read from the environment (the domain's rules live in domain.policy).

Nothing here is ever logged.

**Demo mode** (``SECURE_PHONE_DEMO=1``, what ``make run`` sets): the personas are seeded, ``/app`` offers
the phone picker, ``/demo/messages`` shows what each number and address received. With ``0`` (the
default when the variable is unset) none of them exists (PRODUCT.md §12.1).

**The server secret** keys the Sécur'Pass code hashes, the SMS-code hashes, the audit trail's MACs, the
checkpoint signing key and the sealing of pending SMS bodies (every key is derived from it, each with a
label of its own). It comes from ``SECURE_PHONE_SECRET`` (at least 32 bytes) or from the file named by
``SECURE_PHONE_SECRET_FILE``, which must not lie in the data folder: a copy of ``data/`` alone must never
give the codes away. In the embedded mode, with neither set, one is created once in the keys folder
(``SECURE_PHONE_KEYS_DIR``, default ``~/.config/secure_phone``, mode 0600), outside the data folder and
outside the checkout. The scale-out mode refuses to start without an explicit secret: every host must
use the same one (a host that made its own would refuse every PIN).

``SECURE_PHONE_SERVICE_TOKEN`` (or ``SECURE_PHONE_SERVICE_TOKEN_FILE``) guards the status API, with the
same rules.

**The mobile operator** (§12.4): ``SECURE_PHONE_OPERATOR_URL``, when set, must be https (plain http only to
localhost / 127.0.0.1, for tests) and comes with an explicit ``SECURE_PHONE_OPERATOR_TOKEN`` (or
``SECURE_PHONE_OPERATOR_TOKEN_FILE``): :func:`check_operator`, at start. Unset, demo mode uses the app's simulator
and any other mode has no operator at all (every check unanswered, never « nothing to report »).

**HTTP**: ``SECURE_PHONE_PUBLIC_URL`` (e.g. ``https://banque.example``) is the address customers use; when
it is https, cookies are ``Secure`` and ``__Host-``-prefixed even when a TLS proxy in front speaks plain
HTTP to the app. ``SECURE_PHONE_TRUSTED_PROXIES`` lists the addresses (or networks) of the reverse proxies
whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed; any other peer's are ignored.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_BYTES = 32


class ConfigurationError(RuntimeError):
    """The environment does not allow the app to start safely; the message says what to set."""


def _flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default).strip().lower() in ("1", "true", "yes", "on")


def demo_mode() -> bool:
    """True when the demo-only surfaces exist (personas, phone picker, demo inboxes, demo controls)."""
    return _flag("SECURE_PHONE_DEMO")


def new_number_proof() -> bool:
    """§12.3's policy switch: the code to the new number before any Sécur'Pass request (on unless
    ``SECURE_PHONE_NEW_NUMBER_PROOF=0``: the seed's journey exactly)."""
    return _flag("SECURE_PHONE_NEW_NUMBER_PROOF", "1")


def operator_url() -> str:
    """The mobile operator's API root (GSMA Open Gateway / CAMARA, §12.4): ``SECURE_PHONE_OPERATOR_URL``. Unset: in
    demo mode the app's own simulated operator (``/api/operator``), reached in-process (an event handler must not
    wait on an HTTP call to its own server); outside demo mode no operator at all — every check is unanswered and
    the policy's no-answer rule applies (never « nothing to report »). Set, :func:`check_operator` holds it to
    https and an explicit token."""
    return os.environ.get("SECURE_PHONE_OPERATOR_URL", "").strip().rstrip("/")


def operator_name(configured: bool = True) -> str:
    """The operator's name as the advisor's sheet shows it (``SECURE_PHONE_OPERATOR_NAME``); ``configured`` False:
    the name of no operator (outside demo mode without ``SECURE_PHONE_OPERATOR_URL``)."""
    default = "Opérateur simulé (CAMARA)" if configured else "Aucun opérateur configuré"
    return os.environ.get("SECURE_PHONE_OPERATOR_NAME", "").strip()[:60] or default


def _explicit_operator_token() -> str:
    token = os.environ.get("SECURE_PHONE_OPERATOR_TOKEN", "").strip()
    file = os.environ.get("SECURE_PHONE_OPERATOR_TOKEN_FILE", "").strip()
    if not token and file:
        token = _read_secret_file(Path(file), "SECURE_PHONE_OPERATOR_TOKEN_FILE").decode().strip()
    return token


def operator_token() -> str:
    """The bearer credential for the operator's API: ``SECURE_PHONE_OPERATOR_TOKEN`` (or the file named by
    ``SECURE_PHONE_OPERATOR_TOKEN_FILE``); unset, one derived from the server secret, which the simulator checks
    (a real operator, ``SECURE_PHONE_OPERATOR_URL``, needs the explicit one: :func:`check_operator`)."""
    return _explicit_operator_token() or derived_key("operator-api").hex()


OPERATOR_TEST_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""The only hosts a plain-http ``SECURE_PHONE_OPERATOR_URL`` may name (a test's operator on this machine)."""


def check_operator() -> None:
    """A configured operator (``SECURE_PHONE_OPERATOR_URL``) is reached over https — plain http only to
    localhost / 127.0.0.1, for tests — with an explicit ``SECURE_PHONE_OPERATOR_TOKEN`` (or ``…_FILE``): the
    customers' numbers and names go to it, and its credential is never derived from the server secret."""
    root = operator_url()
    if not root:
        return
    try:
        parts = urlsplit(root)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or not host or not (
            parts.scheme == "https" or (parts.scheme == "http" and host in OPERATOR_TEST_HOSTS)):
        raise ConfigurationError("SECURE_PHONE_OPERATOR_URL must be an https:// URL (plain http:// only to localhost "
                                 "or 127.0.0.1, for tests)")
    if not _explicit_operator_token():
        raise ConfigurationError("SECURE_PHONE_OPERATOR_TOKEN (or SECURE_PHONE_OPERATOR_TOKEN_FILE) is required with "
                                 "SECURE_PHONE_OPERATOR_URL: the operator's credential is never derived from the "
                                 "server secret")


def _number(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low:g} and {high:g}, got {raw!r}")
    return value


def operator_timeout() -> float:
    """Seconds an operator call may take (``SECURE_PHONE_OPERATOR_TIMEOUT_MS``, default 1500)."""
    return _number("SECURE_PHONE_OPERATOR_TIMEOUT_MS", 1500, 50, 30000) / 1000


def operator_retries() -> int:
    """Retries after a failed operator call (``SECURE_PHONE_OPERATOR_RETRIES``, default 2), with backoff."""
    return int(_number("SECURE_PHONE_OPERATOR_RETRIES", 2, 0, 5))


def operator_fail_open() -> bool:
    """``SECURE_PHONE_OPERATOR_FAIL_OPEN=1``: without the operator's answer, a journey goes on (the missing answer
    recorded) instead of going to the advisor (the policy's default, fail closed)."""
    return _flag("SECURE_PHONE_OPERATOR_FAIL_OPEN")


def operator_faults() -> str:
    """The simulated operator's fault injection, e.g. ``error=0.5,timeout=0.5,latency_ms=200``
    (``SECURE_PHONE_OPERATOR_FAULTS``; parsed by the simulator)."""
    return os.environ.get("SECURE_PHONE_OPERATOR_FAULTS", "").strip()


def data_dir() -> Path:
    path = Path(os.environ.get("SECURE_PHONE_DATA_DIR", "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def keys_dir() -> Path:
    """Where the embedded mode keeps the secrets it made itself (never inside the data folder)."""
    configured = os.environ.get("SECURE_PHONE_KEYS_DIR")
    base = Path(configured) if configured else Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    path = base if configured else base / "secure_phone"
    _refuse_inside_data(path, "SECURE_PHONE_KEYS_DIR")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def scale_out() -> bool:
    """The scale-out mode: Redis state manager, several workers, a separate dispatcher (§11)."""
    return bool(os.environ.get("REFLEX_REDIS_URL")) or _flag("SECURE_PHONE_EXTERNAL_DISPATCHER")


def external_dispatcher() -> bool:
    """True in scale-out mode: notifications are delivered by a separate dispatcher process."""
    return _flag("SECURE_PHONE_EXTERNAL_DISPATCHER")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _refuse_inside_data(path: Path, what: str) -> None:
    folder = Path(os.environ.get("SECURE_PHONE_DATA_DIR", "data"))
    if _inside(path, folder):
        raise ConfigurationError(f"{what} must not be inside the data folder ({folder}): a copy of the data "
                                 "would carry the key with it")


def _read_secret_file(path: Path, what: str) -> bytes:
    _refuse_inside_data(path, what)
    try:
        return path.read_bytes().strip()
    except OSError as error:
        raise ConfigurationError(f"{what}: cannot read {path} ({type(error).__name__})") from error


def _secret(env_name: str, file_name: str) -> bytes:
    value = os.environ.get(env_name, "").encode()
    if not value and os.environ.get(f"{env_name}_FILE"):
        value = _read_secret_file(Path(os.environ[f"{env_name}_FILE"]), f"{env_name}_FILE")
    if not value:
        if scale_out():
            raise ConfigurationError(f"{env_name} (or {env_name}_FILE) is required in the scale-out mode: every "
                                     "worker and host must share the same value")
        path = keys_dir() / file_name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        value = path.read_bytes().strip()
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigurationError(f"{env_name} must be at least {MIN_SECRET_BYTES} bytes long")
    return value


@functools.cache
def secret_key() -> bytes:
    """The server secret (see the module's documentation)."""
    return _secret("SECURE_PHONE_SECRET", "secret.key")


@functools.cache
def _derived(secret: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"secure_phone:{label}".encode()).derive(secret)


def derived_key(label: str) -> bytes:
    """A 32-byte key of its own for one purpose (``audit-mac``, ``audit-signing``, ``outbox-seal``…)."""
    return _derived(secret_key(), label)


@functools.cache
def service_token() -> str:
    """Bearer token other bank systems present to the status API."""
    return _secret("SECURE_PHONE_SERVICE_TOKEN", "service.token").decode()


def check_startup() -> None:
    """Fail at start, with a message that says what to set, rather than at the first PIN."""
    secret_key()
    service_token()
    check_operator()


# --- HTTP -------------------------------------------------------------------------------------


def public_url() -> str:
    return os.environ.get("SECURE_PHONE_PUBLIC_URL", "").strip().rstrip("/")


def public_url_is_https() -> bool:
    return public_url().lower().startswith("https://")


@functools.cache
def _trusted_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for item in raw.replace(";", ",").split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as error:
                raise ConfigurationError(f"SECURE_PHONE_TRUSTED_PROXIES: {item!r} is not an address") from error
    return tuple(networks)


def trusted_proxy(address: str | None) -> bool:
    """True when ``address`` is one of the configured reverse proxies."""
    networks = _trusted_networks(os.environ.get("SECURE_PHONE_TRUSTED_PROXIES", ""))
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


# --- the audit trail's checkpoints --------------------------------------------------------------


def audit_checkpoint_file(db_url: str) -> Path:
    """The append-only file the audit checkpoints of one database are exported to.

    ``SECURE_PHONE_AUDIT_CHECKPOINTS`` names it; by default it lies in the keys folder, one per database
    (never in the data folder, where a writer of the database could rewrite it too).
    """
    configured = os.environ.get("SECURE_PHONE_AUDIT_CHECKPOINTS")
    if configured:
        path = Path(configured)
        _refuse_inside_data(path, "SECURE_PHONE_AUDIT_CHECKPOINTS")
        return path
    tag = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return keys_dir() / f"audit-checkpoints-{tag}.jsonl"
