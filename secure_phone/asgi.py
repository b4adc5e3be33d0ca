"""What every request crosses before the app: client address, cookies on the websocket, response headers.

``harden`` wraps Reflex's whole ASGI app (pages, API, websocket; ``api_transformer`` in secure_phone.py):

* **Client address and scheme from a trusted proxy only.** ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are
  believed only when the peer is one of ``SECURE_PHONE_TRUSTED_PROXIES``; the address then is the
  right-most one of ``X-Forwarded-For`` that is not itself a trusted proxy. Anyone else's headers are
  ignored, so a client cannot choose the address its login failures are counted under.
* **No cookie on the websocket.** Reflex keeps the headers of a tab's websocket in the tab's state, which
  is pickled to disk or Redis; the binding cookie must never be there (secure_phone.ui.binding). The page
  needs no cookie on the websocket: a reload rejoins its session with a ticket instead.
* **Response headers**: no framing by another site (the Sécur'Pass approval must not be clickjacked), no
  MIME sniffing, no referrer to other sites, HSTS when the public address is https.

``pages_at_their_address`` serves each page at its own address: Reflex's static files answer ``/app`` with a
redirect to ``/app/`` (the built page is ``app/index.html``), one more round trip before the first paint — a
whole mobile-network latency on a phone. The page's GET is served as ``/app/`` instead, at the same address.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from secure_phone.settings import public_url_is_https, trusted_proxy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WEBSOCKET_PREFIX = "/_event"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    values = [value.decode("latin-1") for key, value in headers if key.lower() == name]
    return ",".join(values)


def client_from(peer: str | None, forwarded_for: str) -> str | None:
    """The client address: the peer, or — when the peer is a trusted proxy — the right-most address of
    ``X-Forwarded-For`` that is not a trusted proxy."""
    if not trusted_proxy(peer):
        return peer
    for hop in reversed([part.strip() for part in forwarded_for.split(",") if part.strip()]):
        if not trusted_proxy(hop):
            return hop
    return peer


def rewrite_scope(scope: Scope) -> Scope:
    """The scope as the app must see it (see the module's documentation)."""
    if scope.get("type") not in ("http", "websocket"):
        return scope
    headers = list(scope.get("headers") or [])
    peer = (scope.get("client") or (None, 0))[0]
    scope = dict(scope)
    if trusted_proxy(peer):
        client = client_from(peer, _header(headers, b"x-forwarded-for"))
        scope["client"] = (client, 0)
        proto = _header(headers, b"x-forwarded-proto").split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
            scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
    if scope["type"] == "websocket" and str(scope.get("path", "")).startswith(WEBSOCKET_PREFIX):
        scope["headers"] = [(k, v) for k, v in headers if k.lower() != b"cookie"]
    return scope


def harden(app: ASGIApp) -> ASGIApp:
    async def hardened(scope: Scope, receive: Receive, send: Send) -> None:
        scope = rewrite_scope(scope)
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        extra = SECURITY_HEADERS + ((HSTS,) if public_url_is_https() else ())

        async def send_with_headers(message: Message) -> None:
            if message.get("type") == "http.response.start":
                present = {key.lower() for key, _ in message.get("headers", [])}
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await app(scope, receive, send_with_headers)

    return hardened


def pages_at_their_address(pages: Iterable[str]) -> Callable[[ASGIApp], ASGIApp]:
    """A transformer that serves ``pages`` (paths without a trailing slash) without the static files' redirect
    to the slashed path; every other request passes untouched."""
    slashed = {page: page + "/" for page in pages if page != "/" and not page.endswith("/")}

    def transform(app: ASGIApp) -> ASGIApp:
        async def served(scope: Scope, receive: Receive, send: Send) -> None:
            if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD"):
                path = slashed.get(scope.get("path", ""))
                if path is not None:
                    scope = dict(scope, path=path, raw_path=path.encode())
            await app(scope, receive, send)

        return served

    return transform
