"""The HTTP API for other bank systems (spec §2, §10), on SQLite and PostgreSQL.

``secure_phone.api.api`` is driven through Starlette's TestClient against the seeded ``world``:
the API reads the app's database through ``adapters.db.read_only()`` (``REFLEX_DB_URL``) and checks
``Authorization: Bearer <SECURE_PHONE_SERVICE_TOKEN>`` on every route but ``/api/health``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from secure_phone.adapters import mysys as mysys_module
from secure_phone.api import api
from secure_phone.settings import service_token
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    FULL_NUMBER,
    NEW_E164,
    World,
    number_forms,
    world,  # noqa: F401  (fixture)
)

TOKEN = "api-test-service-token-9f8e7d6c5b4a39281706"
CAMILLE_MASKED = "06 •• •• •• 78"
NEW_MASKED = "07 •• •• •• 32"
STATUS = f"/api/v1/customers/{CAMILLE}/secure-phone"
CONTACT = f"/api/mysys/v1/contacts/{CAMILLE}"
UNKNOWN = "9999999999"
MALFORMED = [
    "abc",
    "1' OR 1=1",
    "10000000011",  # 11 digits
    "100000000",  # 9 digits
    "1000000001 ",
    "1000000001%0A",  # a trailing newline: ``$`` alone would let it through
    "%EF%BC%91000000001",  # a full-width digit: ``\\d`` alone matches any Unicode digit
    "\u0661\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0661",  # Arabic-Indic digits
]


def _clear_caches() -> None:
    service_token.cache_clear()
    mysys_module.get_mysys.cache_clear()


@pytest.fixture
def client(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:  # noqa: F811
    """A client of the API on the world's database, with a known service token; env and caches restored."""
    _clear_caches()
    monkeypatch.setenv("REFLEX_DB_URL", world.url)
    monkeypatch.setenv("SECURE_PHONE_SERVICE_TOKEN", TOKEN)
    try:
        with TestClient(api) as test_client:
            yield test_client
    finally:
        _clear_caches()  # drop what was cached under the test's values (again below, once the env is back)


@pytest.fixture(autouse=True)
def _caches_cleared_after_env_restored() -> Iterator[None]:
    # Autouse and independent of ``monkeypatch``: set up before it, so torn down after it has undone the env.
    yield
    _clear_caches()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_no_full_number(body: str, *e164s: str) -> None:
    for e164 in e164s:
        for form in number_forms(e164):
            assert form not in body, f"full number {form!r} in {body!r}"
    assert not FULL_NUMBER.search(body), body


def complete_change_now(world: World) -> datetime:  # noqa: F811
    """Camille changes her number through the real services at the wall-clock time (the API uses now)."""
    world.clock.now = datetime.now(UTC)
    phone = world.phone(CAMILLE)
    world.start(CAMILLE)
    t_done = world.clock.advance(seconds=20)
    assert phone.approve_pending().status == "completed"
    assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
    return t_done


def parse(ts: str) -> datetime:
    value = datetime.fromisoformat(ts)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# --- health -------------------------------------------------------------------------------------


def test_health_needs_no_token(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert set(response.json()) <= {"status", "database"}


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [STATUS, CONTACT])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        bearer("wrong-token"),
        bearer(TOKEN[:-1]),
        bearer(TOKEN + "x"),
        bearer(TOKEN.upper()),
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Basic YXBpOnNlY3JldA=="},
        {"Authorization": TOKEN},
        {"X-Service-Token": TOKEN},
    ],
    ids=["none", "empty", "bearer-only", "bearer-blank", "wrong", "prefix", "suffix", "case", "basic-token",
         "basic", "bare-token", "other-header"],
)
def test_routes_refuse_a_missing_or_wrong_token(client: TestClient, path: str, headers: dict[str, str]) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}
    assert "06" not in response.text and "••" not in response.text


@pytest.mark.parametrize("path", [STATUS, CONTACT])
def test_auth_is_checked_before_the_identifier(client: TestClient, path: str) -> None:
    """Without the token, an unknown or malformed identifier is not revealed as such (no 400/404)."""
    for identifier in (UNKNOWN, "abc"):
        bad = path.replace(CAMILLE, identifier)
        assert client.get(bad).status_code == 401
        assert client.get(bad, headers=bearer("nope")).status_code == 401


def test_the_scheme_is_case_insensitive(client: TestClient) -> None:
    assert client.get(STATUS, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


# --- the status route ---------------------------------------------------------------------------


def test_status_shows_the_masked_number_only(client: TestClient) -> None:
    response = client.get(STATUS, headers=bearer())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["identifier"] == CAMILLE
    assert body["secure_phone_masked"] == CAMILLE_MASKED
    assert body["last_changed_at"] is None
    assert body["cooling_off_until"] is None
    assert_no_full_number(response.text, CAMILLE_OLD)
    assert_no_full_number(response.content.decode("utf-8"), CAMILLE_OLD)


def test_status_after_a_completed_change_shows_the_cooling_off(client: TestClient, world: World) -> None:  # noqa: F811
    t_done = complete_change_now(world)
    response = client.get(STATUS, headers=bearer())
    assert response.status_code == 200
    body = response.json()
    assert body["secure_phone_masked"] == NEW_MASKED
    assert body["last_changed_at"] is not None
    assert abs(parse(body["last_changed_at"]) - t_done) < timedelta(seconds=1)
    assert body["cooling_off_until"] is not None
    expected = datetime.now(UTC) + timedelta(hours=72)
    assert abs(parse(body["cooling_off_until"]) - expected) < timedelta(minutes=2)
    assert_no_full_number(response.text, CAMILLE_OLD, NEW_E164)


def test_status_of_an_unknown_customer_is_404(client: TestClient) -> None:
    response = client.get(f"/api/v1/customers/{UNKNOWN}/secure-phone", headers=bearer())
    assert response.status_code == 404
    assert response.json() == {"error": "not_found"}


@pytest.mark.parametrize("identifier", MALFORMED)
def test_status_of_a_malformed_identifier_is_400(client: TestClient, identifier: str) -> None:
    response = client.get(f"/api/v1/customers/{identifier}/secure-phone", headers=bearer())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_identifier"}


# --- the MySys contact route --------------------------------------------------------------------


def test_mysys_contact_shows_the_masked_number_only(client: TestClient) -> None:
    response = client.get(CONTACT, headers=bearer())
    assert response.status_code == 200
    body = response.json()
    assert body["customer_ref"] == CAMILLE
    assert body["secure_phone_masked"] == CAMILLE_MASKED
    assert body["updated_at"]
    assert "email" not in body and "secure_phone_e164" not in body
    assert_no_full_number(response.text, CAMILLE_OLD)


def test_mysys_contact_follows_a_completed_change(client: TestClient, world: World) -> None:  # noqa: F811
    complete_change_now(world)
    response = client.get(CONTACT, headers=bearer())
    assert response.status_code == 200
    assert response.json()["secure_phone_masked"] == NEW_MASKED
    assert_no_full_number(response.text, CAMILLE_OLD, NEW_E164)


def test_mysys_contact_of_an_unknown_customer_is_404(client: TestClient) -> None:
    response = client.get(f"/api/mysys/v1/contacts/{UNKNOWN}", headers=bearer())
    assert response.status_code == 404
    assert response.json() == {"error": "not_found"}


@pytest.mark.parametrize("identifier", MALFORMED)
def test_mysys_contact_of_a_malformed_identifier_is_400(client: TestClient, identifier: str) -> None:
    response = client.get(f"/api/mysys/v1/contacts/{identifier}", headers=bearer())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_identifier"}


def test_the_api_is_read_only(client: TestClient, world: World) -> None:  # noqa: F811
    for path in (STATUS, CONTACT):
        for method in ("post", "put", "patch", "delete"):
            response = client.request(method, path, headers=bearer(), json={"secure_phone_e164": NEW_E164})
            assert response.status_code == 405, (method, path)
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.mysys_contact(CAMILLE).secure_phone_e164 == CAMILLE_OLD


ORIGIN = {"Origin": "http://testserver"}


def _login(world: World, channel: str = "web"):  # noqa: ANN202
    from secure_phone.services import auth
    from tests.integration.helpers import customer_actor

    return auth.login_customer(world.uow(now=datetime.now(UTC)), CAMILLE, "Demo1234!", channel=channel,
                               actor=customer_actor(world.cid(CAMILLE)))


def test_session_binding_sets_an_httponly_strict_cookie(client: TestClient, world: World) -> None:  # noqa: F811
    opened = _login(world)
    value = opened.binding
    response = client.post("/api/session/bind", json={"channel": "web", "value": value}, headers=ORIGIN)
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"sp_bind_web={value}") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and response.headers["cache-control"] == "no-store"
    assert "Secure" not in cookie  # plain http, no https public address configured
    for bad in ({"channel": "bank", "value": value}, {"channel": "web", "value": "short"},
                {"channel": "web", "value": "A" * 42 + "!"}, ["web", value], {"channel": "web"},
                {"channel": "app", "value": value},  # another channel's session
                {"channel": "web", "value": "A" * 43}):  # well formed, but no session's binding
        assert client.post("/api/session/bind", json=bad, headers=ORIGIN).status_code == 400, bad
    assert client.post("/api/session/bind", content=b"not json", headers=ORIGIN).status_code == 400
    assert client.get("/api/session/bind").status_code == 405


def test_another_site_cannot_plant_or_use_a_binding(client: TestClient, world: World) -> None:  # noqa: F811
    """Login CSRF: the bind (and the ticket) answer pages of this app only."""
    opened = _login(world)
    body = {"channel": "web", "value": opened.binding}
    for headers in ({}, {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://testserver.evil"}):
        response = client.post("/api/session/bind", json=body, headers=headers)
        assert response.status_code == 403 and "set-cookie" not in response.headers, headers
        client.cookies.set("sp_bind_web", opened.binding)
        assert client.post("/api/session/ticket", json={"channel": "web"}, headers=headers).status_code == 403
        client.cookies.clear()


def test_https_public_address_gives_secure_host_prefixed_cookies(client: TestClient, world: World,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a TLS proxy the app may see plain http: the configured public address decides."""
    monkeypatch.setenv("SECURE_PHONE_PUBLIC_URL", "https://banque.example")
    opened = _login(world)
    response = client.post("/api/session/bind", json={"channel": "web", "value": opened.binding},
                           headers={"Origin": "https://banque.example"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-sp_bind_web=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_a_ticket_is_given_only_for_a_live_sessions_cookie(client: TestClient, world: World) -> None:  # noqa: F811
    from secure_phone.services import auth

    opened = _login(world)
    assert client.post("/api/session/ticket", json={"channel": "web"}, headers=ORIGIN).status_code == 401
    client.cookies.set("sp_bind_web", "A" * 43)
    assert client.post("/api/session/ticket", json={"channel": "web"}, headers=ORIGIN).status_code == 401
    client.cookies.set("sp_bind_web", opened.binding)
    assert client.post("/api/session/ticket", json={"channel": "app"}, headers=ORIGIN).status_code in (400, 401)
    response = client.post("/api/session/ticket", json={"channel": "web"}, headers=ORIGIN)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    ticket = response.json()["ticket"]
    assert auth.redeem_ticket(world.uow(now=datetime.now(UTC)), ticket, opened.session_id)
    auth.logout(world.uow(now=datetime.now(UTC)), opened.session_id, actor=auth.Actor(kind="customer"))
    assert client.post("/api/session/ticket", json={"channel": "web"}, headers=ORIGIN).status_code == 401
