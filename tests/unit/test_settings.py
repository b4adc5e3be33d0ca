"""The server secret and the demo switch (PRODUCT.md §12.1, §12.2): from the environment or a file outside the
data folder, at least 32 bytes, required in the scale-out mode; every key derived from it, each its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from secure_phone import settings
from secure_phone.settings import ConfigurationError

GOOD = "a-server-secret-of-more-than-32-bytes-0123456789"


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    for name in ("SECURE_PHONE_SECRET", "SECURE_PHONE_SECRET_FILE", "SECURE_PHONE_SERVICE_TOKEN",
                 "SECURE_PHONE_SERVICE_TOKEN_FILE", "REFLEX_REDIS_URL", "SECURE_PHONE_EXTERNAL_DISPATCHER",
                 "SECURE_PHONE_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECURE_PHONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECURE_PHONE_KEYS_DIR", str(tmp_path / "keys"))
    settings.secret_key.cache_clear()
    settings.service_token.cache_clear()
    yield
    settings.secret_key.cache_clear()
    settings.service_token.cache_clear()


def test_the_secret_comes_from_the_environment_and_must_be_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_SECRET", GOOD)
    assert settings.secret_key() == GOOD.encode()
    settings.secret_key.cache_clear()
    monkeypatch.setenv("SECURE_PHONE_SECRET", "x" * 31)
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        settings.secret_key()


def test_a_secret_file_must_not_lie_in_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inside = tmp_path / "data" / "secret.key"
    inside.parent.mkdir(parents=True)
    inside.write_text(GOOD)
    monkeypatch.setenv("SECURE_PHONE_SECRET_FILE", str(inside))
    with pytest.raises(ConfigurationError, match="data folder"):
        settings.secret_key()
    settings.secret_key.cache_clear()
    outside = tmp_path / "elsewhere.key"
    outside.write_text(GOOD + "\n")
    monkeypatch.setenv("SECURE_PHONE_SECRET_FILE", str(outside))
    assert settings.secret_key() == GOOD.encode()


def test_the_embedded_mode_makes_one_outside_the_data_folder(tmp_path: Path) -> None:
    first = settings.secret_key()
    assert len(first) >= 32
    made = tmp_path / "keys" / "secret.key"
    assert made.read_bytes().strip() == first and oct(made.stat().st_mode & 0o777) == "0o600"
    assert made.parent != tmp_path / "data" and not any((tmp_path / "data").glob("**/*"))
    settings.secret_key.cache_clear()
    assert settings.secret_key() == first  # a restart keeps it


def test_the_keys_folder_may_not_be_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECURE_PHONE_KEYS_DIR", str(tmp_path / "data" / "keys"))
    with pytest.raises(ConfigurationError, match="data folder"):
        settings.secret_key()


@pytest.mark.parametrize("variable", ["REFLEX_REDIS_URL", "SECURE_PHONE_EXTERNAL_DISPATCHER"])
def test_the_scale_out_mode_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                              variable: str) -> None:
    monkeypatch.setenv(variable, "redis://127.0.0.1:6379/0" if variable == "REFLEX_REDIS_URL" else "1")
    with pytest.raises(ConfigurationError, match="required in the scale-out mode"):
        settings.check_startup()
    assert not (tmp_path / "keys" / "secret.key").exists()  # no host makes its own
    monkeypatch.setenv("SECURE_PHONE_SECRET", GOOD)
    monkeypatch.setenv("SECURE_PHONE_SERVICE_TOKEN", GOOD)
    settings.check_startup()


def test_derived_keys_are_distinct_and_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_SECRET", GOOD)
    keys = {label: settings.derived_key(label) for label in ("audit-mac", "audit-signing", "outbox-seal")}
    assert len(set(keys.values())) == 3 and all(len(k) == 32 for k in keys.values())
    assert GOOD.encode() not in keys.values()
    assert settings.derived_key("audit-mac") == keys["audit-mac"]


def test_demo_mode_is_off_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.demo_mode() is False
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    assert settings.demo_mode() is True
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    assert settings.demo_mode() is False


@pytest.mark.parametrize("demo", ["0", "1"])
@pytest.mark.parametrize(("url", "accepted"), [
    ("https://api.operator.example/camara", True),
    ("http://127.0.0.1:8443/api/operator", True),
    ("http://localhost:8443/api/operator", True),
    ("http://api.operator.example/camara", False),  # the customers' numbers and names in clear
    ("http://127.0.0.1.attacker.example/x", False),
    ("ftp://api.operator.example", False),
    ("api.operator.example", False),
    ("https://", False),
])
def test_a_configured_operator_needs_https_and_an_explicit_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                 url: str, accepted: bool, demo: str) -> None:
    """``SECURE_PHONE_OPERATOR_URL`` set: https (plain http to this machine only, for tests) and an explicit
    ``SECURE_PHONE_OPERATOR_TOKEN`` (or ``…_FILE``), or the app refuses to start, saying what to set."""
    monkeypatch.setenv("SECURE_PHONE_DEMO", demo)
    monkeypatch.setenv("SECURE_PHONE_SECRET", GOOD)
    monkeypatch.setenv("SECURE_PHONE_SERVICE_TOKEN", GOOD)
    for name in ("SECURE_PHONE_OPERATOR_TOKEN", "SECURE_PHONE_OPERATOR_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECURE_PHONE_OPERATOR_URL", url)
    if not accepted:
        monkeypatch.setenv("SECURE_PHONE_OPERATOR_TOKEN", "an-explicit-operator-token")
        with pytest.raises(ConfigurationError, match="SECURE_PHONE_OPERATOR_URL must be an https:// URL"):
            settings.check_startup()
        return
    with pytest.raises(ConfigurationError, match="SECURE_PHONE_OPERATOR_TOKEN .* is required"):
        settings.check_startup()  # never the token derived from the server secret
    token_file = tmp_path / "operator.token"
    token_file.write_text("a-token-from-a-file\n")
    monkeypatch.setenv("SECURE_PHONE_OPERATOR_TOKEN_FILE", str(token_file))
    settings.check_startup()
    assert settings.operator_token() == "a-token-from-a-file"
    monkeypatch.delenv("SECURE_PHONE_OPERATOR_TOKEN_FILE")
    monkeypatch.setenv("SECURE_PHONE_OPERATOR_TOKEN", "an-explicit-operator-token")
    settings.check_startup()


def test_without_an_operator_url_nothing_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECURE_PHONE_OPERATOR_URL", raising=False)
    monkeypatch.delenv("SECURE_PHONE_OPERATOR_TOKEN", raising=False)
    settings.check_operator()  # outside demo mode the operator is then « unavailable » (adapters.operator)
