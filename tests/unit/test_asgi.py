"""What every request crosses before the app (secure_phone.asgi): client address from trusted proxies only,
no cookie on the websocket (Reflex would keep it in the pickled state), security headers."""

from __future__ import annotations

import pytest

from secure_phone import asgi
from tests.conftest import run_async


def run(scope: dict) -> tuple[dict, list[dict]]:
    seen: dict = {}
    sent: list[dict] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.update(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"ok"})

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request"}

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    run_async(asgi.harden(app)(scope, receive, send))
    return seen, sent


def http(path: str = "/", client: str = "198.51.100.7", **headers: str) -> dict:
    return {"type": "http", "path": path, "scheme": "http", "client": (client, 5000),
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


def test_forwarded_headers_of_an_untrusted_peer_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECURE_PHONE_TRUSTED_PROXIES", raising=False)
    seen, _ = run(http(x_forwarded_for="203.0.113.9", x_forwarded_proto="https"))
    assert seen["client"][0] == "198.51.100.7" and seen["scheme"] == "http"
    monkeypatch.setenv("SECURE_PHONE_TRUSTED_PROXIES", "10.0.0.0/8")
    seen, _ = run(http(x_forwarded_for="203.0.113.9"))  # the peer is not 10.x: its header means nothing
    assert seen["client"][0] == "198.51.100.7"


def test_a_trusted_proxy_gives_the_client_address_and_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    # The client may prepend anything; the right-most address that is not one of our proxies is the client.
    seen, _ = run(http(client="10.1.2.3", x_forwarded_for="6.6.6.6, 203.0.113.9, 192.0.2.1",
                       x_forwarded_proto="https"))
    assert seen["client"][0] == "203.0.113.9" and seen["scheme"] == "https"
    ws = {"type": "websocket", "path": "/_event/", "scheme": "ws", "client": ("10.1.2.3", 1),
          "headers": [(b"x-forwarded-for", b"203.0.113.9"), (b"x-forwarded-proto", b"https")]}
    seen, _ = run(ws)
    assert seen["client"][0] == "203.0.113.9" and seen["scheme"] == "wss"


def test_no_cookie_reaches_the_websocket() -> None:
    ws = {"type": "websocket", "path": "/_event/", "scheme": "ws", "client": ("127.0.0.1", 1),
          "headers": [(b"cookie", b"sp_bind_web=" + b"A" * 43), (b"origin", b"http://localhost:3000")]}
    seen, _ = run(ws)
    assert [k for k, _ in seen["headers"]] == [b"origin"]
    # The API, which needs it, still gets it.
    seen, _ = run(http("/api/session/ticket", cookie="sp_bind_web=x"))
    assert (b"cookie", b"sp_bind_web=x") in seen["headers"]


def test_responses_cannot_be_framed_by_another_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECURE_PHONE_PUBLIC_URL", raising=False)
    _, sent = run(http())
    headers = dict(sent[0]["headers"])
    assert headers[b"x-frame-options"] == b"SAMEORIGIN"
    assert headers[b"content-security-policy"] == b"frame-ancestors 'self'"
    assert headers[b"x-content-type-options"] == b"nosniff" and b"strict-transport-security" not in headers
    monkeypatch.setenv("SECURE_PHONE_PUBLIC_URL", "https://banque.example")
    _, sent = run(http())
    assert b"strict-transport-security" in dict(sent[0]["headers"])


def test_a_bad_trusted_proxy_setting_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from secure_phone.settings import ConfigurationError

    monkeypatch.setenv("SECURE_PHONE_TRUSTED_PROXIES", "not-an-address")
    with pytest.raises(ConfigurationError):
        run(http())


def served_path(path: str, method: str = "GET", kind: str = "http") -> str:
    seen: dict = {}

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.update(scope)

    async def nothing():  # type: ignore[no-untyped-def]
        return {}

    scope = {"type": kind, "path": path, "raw_path": path.encode(), "method": method, "headers": []}
    run_async(asgi.pages_at_their_address(["/", "/app", "/espace-client/telephone-securise"])(app)(scope, nothing,
                                                                                                    nothing))
    assert seen["raw_path"] == seen["path"].encode()
    return str(seen["path"])


def test_a_page_is_served_at_its_own_address_without_the_redirect_to_its_slashed_path() -> None:
    assert served_path("/app") == "/app/"
    assert served_path("/app", method="HEAD") == "/app/"
    assert served_path("/espace-client/telephone-securise") == "/espace-client/telephone-securise/"


def test_anything_else_passes_untouched() -> None:
    for path in ("/", "/app/", "/app/x", "/apps", "/espace-client", "/api/v1/contact", "/_event", "/securpass.js"):
        assert served_path(path) == path
    assert served_path("/app", method="POST") == "/app"
    assert served_path("/app", kind="websocket") == "/app"
