"""Email over SMTP (issue 14 item 3): real aiosmtpd servers on free ports, the app's SMTP client against them.

* a change's email crosses SMTP to the local receiver and lands in the demo inbox with its session's record;
* with ``SECURE_PHONE_SMTP_URL``, it goes to that server instead (text and HTML parts, recipient, ``lang``,
  heading), and the local receiver is not started;
* STARTTLS (a self-signed certificate made here, trusted through ``cafile``), implicit TLS, AUTH;
* failures — server down, refused credentials, an untrusted certificate, STARTTLS not offered, a server
  that never answers — raise GatewayError, and the dispatcher retries then succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import select

from secure_phone.adapters import db, smtp
from secure_phone.adapters.models import Customer, DemoMessage, Outbox
from secure_phone.adapters.notifications import Dispatcher, GatewayError, OutboxMessage, default_gateways, enqueue
from secure_phone.adapters.smtp import SmtpGateway, SmtpTarget, compose, render_html
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.settings import ConfigurationError
from tests.conftest import run_async
from tests.integration.helpers import CAMILLE, World, read_only, world  # noqa: F401  (fixture)

SENDER = "Ma Banque <ne-pas-repondre@banque.example>"
USER, PASSWORD = "relay-user", "relay-pass-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Captured:
    """What a test SMTP server received: one entry per message."""

    messages: list[tuple[Any, Any, EmailMessage]] = field(default_factory=list)
    answer: str = "250 OK"
    quits: int = 0
    hang_on_noop: bool = False

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:  # noqa: N802
        if self.hang_on_noop:
            await asyncio.sleep(30)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = BytesParser(policy=default_policy).parsebytes(envelope.original_content or envelope.content)
        self.messages.append((session, envelope, parsed))
        return self.answer

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.quits += 1
        return "221 Bye"

    def peers(self) -> list[Any]:
        """The client's address of each message: one per SMTP connection."""
        return [session.peer for session, _envelope, _email in self.messages]



def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@contextlib.contextmanager
def smtp_server(port: int | None = None, *, starttls: ssl.SSLContext | None = None,
                implicit_tls: ssl.SSLContext | None = None, auth: bool = False) -> Iterator[tuple[Captured, int]]:
    """A real aiosmtpd server on 127.0.0.1 (a free port unless given), capturing what it receives."""
    handler = Captured()
    port = port or free_port()
    options: dict[str, Any] = {}
    if starttls is not None:
        options.update(tls_context=starttls, require_starttls=True)
    if auth:
        # aiosmtpd offers AUTH "over TLS only" after STARTTLS alone: told so for implicit TLS
        options.update(authenticator=_authenticator, auth_required=True, auth_require_tls=implicit_tls is None)
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=implicit_tls, **options)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made here: (cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def email_message(key: str = "k1:email", lang: str | None = "fr", body: str = "Bonjour,\n\nDeuxième paragraphe.",
                  subject: str | None = "Votre numéro a été modifié") -> OutboxMessage:
    return OutboxMessage(key=key, channel="email", recipient="camille.martin@example.fr", subject=subject,
                         body=body, lang=lang)


def gateway(url: str) -> SmtpGateway:
    return SmtpGateway(SmtpTarget.parse(url), sender=SENDER)


def parts(email: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in email.walk() if not part.is_multipart()}


def complete_change(world: World) -> None:
    world.start(CAMILLE)
    result = world.phone(CAMILLE).approve_pending()
    assert result.status == "completed"


# --- the demo: every email crosses SMTP to the local receiver ---------------------------------


def test_a_change_email_crosses_smtp_to_the_demo_inbox(world: World, caplog: pytest.LogCaptureFixture) -> None:
    complete_change(world)
    dispatcher = Dispatcher(world.url)
    email_gateway = dispatcher.gateways["email"]
    assert isinstance(email_gateway, SmtpGateway) and email_gateway.target.host == "127.0.0.1"
    with caplog.at_level(logging.INFO, logger="secure_phone.adapters"):
        assert dispatcher.run_once(world.clock.now) == 3  # the email, the SMS to the old number, the welcome SMS
    with read_only(world.url) as s:
        [mail] = s.exec(select(DemoMessage).where(DemoMessage.channel == "email")).all()
        sms = s.exec(select(DemoMessage).where(DemoMessage.channel == "sms")).all()
    assert mail.recipient == "camille.martin@example.fr"
    assert mail.subject == "Votre numéro de mobile sécurisé a été modifié"
    assert mail.body.startswith("Bonjour Camille Martin,\n\nLe ") and "\r" not in mail.body
    [request] = world.requests(CAMILLE)
    assert mail.outbox_key == f"{request.id}:email"
    session = json.loads(mail.smtp_session or "{}")
    assert session["peer"].startswith("127.0.0.1:") and len(session["session"]) == 12
    assert session["mail_from"] == "ne-pas-repondre@ma-banque.example"
    assert session["rcpt_to"] == ["camille.martin@example.fr"]
    assert session["parts"] == ["text/plain", "text/html"]
    assert session["message_id"] == smtp.message_id(mail.outbox_key, smtp.DEMO_MAIL_FROM)
    assert all(m.smtp_session is None for m in sms)  # SMS do not go through SMTP
    # The receiver's log shows the session, the recipient masked (as every log line of the outbox).
    [line] = [r.getMessage() for r in caplog.records if "SMTP receiver: session" in r.getMessage()]
    assert session["session"] in line and "MAIL FROM ne-pas-repondre@ma-banque.example" in line
    assert "c•••@example.fr" in line and "camille.martin@" not in caplog.text

    # The demo inbox page's view says how it came.
    from secure_phone.services import demo_inbox

    [box] = [b for b in demo_inbox.inboxes(world.uow()) if b.channel == "email"]
    [view] = box.messages
    assert view.smtp_session == session["session"] and view.smtp_html
    assert "MAIL FROM <ne-pas-repondre@ma-banque.example>" in view.smtp_trace


def test_a_redelivery_is_filed_once(world: World) -> None:
    receiver = smtp.local_receiver(world.url)
    gateway = SmtpGateway(receiver.target, sender=SENDER, reference=True)
    gateway.deliver(email_message())
    gateway.deliver(email_message())  # e.g. a dispatcher died after sending, before settling
    with read_only(world.url) as s:
        assert [m.outbox_key for m in s.exec(select(DemoMessage)).all()] == ["k1:email"]


# --- another SMTP server ---------------------------------------------------------------------


def test_with_an_smtp_url_the_email_goes_there_in_the_customers_language(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.transaction(world.url) as s:
        camille = s.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
        camille.lang = "en"
        s.add(camille)
    complete_change(world)
    with smtp_server() as (server, port):
        monkeypatch.setenv("SECURE_PHONE_SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("SECURE_PHONE_MAIL_FROM", SENDER)
        monkeypatch.setattr(smtp, "local_receiver", lambda *a, **k: pytest.fail("the local receiver was started"))
        assert Dispatcher(world.url).run_once(world.clock.now) == 3
    with read_only(world.url) as s:  # nothing in the demo inbox but the SMS
        assert {m.channel for m in s.exec(select(DemoMessage)).all()} == {"sms"}
    [(_session, envelope, email)] = server.messages
    assert envelope.mail_from == "ne-pas-repondre@banque.example"
    assert envelope.rcpt_tos == ["camille.martin@example.fr"]
    assert email["To"] == "camille.martin@example.fr" and email["From"] == SENDER
    assert email["Subject"] == "Your secure mobile number has been changed"
    assert email["Content-Language"] == "en" and email["Auto-Submitted"] == "auto-generated"
    assert email.get_content_type() == "multipart/alternative"
    assert smtp.OUTBOX_KEY_HEADER not in email  # a real server sees an opaque Message-ID only
    [request] = world.requests(CAMILLE)
    assert email["Message-ID"] == smtp.message_id(f"{request.id}:email", SENDER) and request.id not in str(email)
    content = parts(email)
    assert set(content) == {"text/plain", "text/html"}
    assert content["text/plain"].startswith("Hello Camille Martin,")
    html = content["text/html"]
    assert '<html lang="en"' in html
    assert "<h1" in html and ">Your secure mobile number has been changed</h1>" in html
    assert "<p" in html and "Hello Camille Martin," in html
    assert "<img" not in html and "<a " not in html and "http" not in html.replace("http-equiv", "")


def test_the_html_part_is_the_text_escaped() -> None:
    html = render_html('Sujet <b>"gras"</b>', "Ligne <script>alert(1)</script>\nsuite & fin\n\nAutre", None)
    assert '<html lang="fr"' in html  # unknown language: the bank's
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;&quot;gras&quot;&lt;/b&gt;</h1>" in html
    assert "suite &amp; fin" in html and "<br>" in html and html.count("<p ") == 3  # bank name + 2 paragraphs
    email = compose(email_message(subject=None), sender=SENDER)
    assert email["Subject"] == "Ma Banque"  # no subject: the bank's name, in the heading too
    assert ">Ma Banque</h1>" in parts(email)["text/html"]


# --- TLS and authentication -----------------------------------------------------------------


def test_starttls_and_auth(certificate: tuple[Path, Path]) -> None:
    cafile = certificate[0]
    with smtp_server(starttls=server_tls(certificate), auth=True) as (server, port):
        gateway(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}?starttls=1&cafile={cafile}").deliver(email_message())
        [(session, envelope, _email)] = server.messages
        assert session.ssl is not None and session.authenticated  # over TLS, authenticated
        assert envelope.rcpt_tos == ["camille.martin@example.fr"]

        with pytest.raises(GatewayError, match="authentication refused") as refused:
            gateway(f"smtp://{USER}:wrong@127.0.0.1:{port}?starttls=1&cafile={cafile}").deliver(email_message())
        assert "wrong" not in str(refused.value) and "camille" not in str(refused.value)
        with pytest.raises(GatewayError, match="TLS"):  # a certificate nobody vouched for
            gateway(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}?starttls=1").deliver(email_message())
        with pytest.raises(GatewayError, match=r"refused the message \(530\)"):  # no STARTTLS: the server says no
            gateway(f"smtp://127.0.0.1:{port}").deliver(email_message())
        assert len(server.messages) == 1


def test_starttls_is_never_downgraded() -> None:
    with smtp_server() as (server, port):  # offers no STARTTLS
        with pytest.raises(GatewayError, match="SMTPNotSupportedError"):
            gateway(f"smtp://127.0.0.1:{port}?starttls=1").deliver(email_message())
        assert server.messages == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # it is TLS: aiosmtpd cannot tell
def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    with smtp_server(implicit_tls=server_tls(certificate), auth=True) as (server, port):
        gateway(f"smtps://{USER}:{PASSWORD}@localhost:{port}?cafile={certificate[0]}").deliver(email_message())
        [(session, _envelope, _email)] = server.messages
        assert session.authenticated  # (aiosmtpd records session.ssl after STARTTLS only)
        with pytest.raises(GatewayError):  # plain SMTP to a TLS port: no session at all
            gateway(f"smtp://127.0.0.1:{port}?connect_timeout=2&timeout=2").deliver(email_message())
        assert len(server.messages) == 1


def test_the_url_is_checked_and_never_shown_with_its_password() -> None:
    target = SmtpTarget.parse("smtps://bank%40relay:p%3Ass@relay.example?timeout=3&connect_timeout=2")
    assert (target.host, target.port, target.tls, target.username, target.password) == (
        "relay.example", 465, "smtps", "bank@relay", "p:ss")
    assert (target.connect_timeout, target.timeout) == (2.0, 3.0)
    assert "p:ss" not in repr(target) and "p:ss" not in target.describe()
    assert SmtpTarget.parse("smtp://relay.example?starttls=1").port == 25
    for bad, why in [
        ("smtp://user:secret@relay.example:587", "over TLS only"),  # credentials in clear: refused
        ("http://relay.example", "expected smtp"),
        ("smtp://relay.example?starttls=1&tls=1", "unknown option"),
        ("smtps://relay.example?starttls=1", "TLS already"),
        ("smtp://relay.example?timeout=0", "between 0 and 300"),
        ("smtp://relay.example:99999", "not a URL"),
    ]:
        with pytest.raises(ConfigurationError, match=why) as error:
            SmtpTarget.parse(bad)
        assert "secret" not in str(error.value)
    assert SmtpTarget.parse("smtp://user:secret@127.0.0.1:2525").username == "user"  # loopback: allowed


def test_outside_demo_mode_the_sender_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    with pytest.raises(ConfigurationError, match="SECURE_PHONE_MAIL_FROM"):
        smtp.email_gateway(environ={"SECURE_PHONE_SMTP_URL": "smtp://relay.example"})
    with pytest.raises(ConfigurationError, match="not an email address"):
        smtp.email_gateway(environ={"SECURE_PHONE_SMTP_URL": "smtp://relay.example", "SECURE_PHONE_MAIL_FROM": "x"})
    chosen = smtp.email_gateway(environ={"SECURE_PHONE_SMTP_URL": "smtp://relay.example",
                                         "SECURE_PHONE_MAIL_FROM": SENDER})
    assert isinstance(chosen, SmtpGateway) and chosen.sender == SENDER
    with pytest.raises(ConfigurationError, match="demo mode only"):
        smtp.LocalReceiver()


# --- failures: GatewayError, and the outbox retries -------------------------------------------


def test_server_down_then_up_the_dispatcher_retries(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    t0 = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    with db.transaction(db_url) as s:
        enqueue(s, key="k1:email", channel="email", recipient="camille.martin@example.fr", subject="S",
                body="Bonjour", lang="fr", now=t0)
    port = free_port()  # nothing listens there yet
    dispatcher = Dispatcher(db_url, gateways={"email": gateway(f"smtp://127.0.0.1:{port}")})
    assert dispatcher.run_once(t0) == 0
    with read_only(db_url) as s:
        [row] = s.exec(select(Outbox)).all()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "SMTP server unreachable or failing (ConnectionRefusedError)"
    with smtp_server(port) as (server, _port):
        assert dispatcher.run_once(t0 + DEFAULT_POLICY.notification_backoff(1)) == 1
    with read_only(db_url) as s:
        [row] = s.exec(select(Outbox)).all()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [email["Subject"] for _s, _e, email in server.messages] == ["S"]


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(GatewayError, match="did not answer in time"):
            gateway(f"smtp://127.0.0.1:{port}?connect_timeout=0.5").deliver(email_message())
        assert time.monotonic() - started < 5


def test_a_server_that_stops_answering_mid_session_times_out() -> None:
    """The command timeout: the greeting comes, then nothing."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        done = threading.Event()

        def greet_then_hang() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"220 hello\r\n")
                done.wait(10)

        thread = threading.Thread(target=greet_then_hang, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            with pytest.raises(GatewayError, match="did not answer in time"):
                gateway(f"smtp://127.0.0.1:{port}?connect_timeout=5&timeout=0.5").deliver(email_message())
            assert time.monotonic() - started < 4  # the command timeout, not the connect one
        finally:
            done.set()
            thread.join(5)


def test_outside_demo_mode_without_a_server_emails_end_failed(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    t0 = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    with db.transaction(db_url) as s:
        enqueue(s, key="k1:email", channel="email", recipient="camille.martin@example.fr", subject="S",
                body="Bonjour", now=t0)
    dispatcher = Dispatcher(db_url, gateways=default_gateways(db_url, {}))
    at = t0
    for attempt in range(1, DEFAULT_POLICY.notification_max_attempts + 1):
        assert dispatcher.run_once(at) == 0
        at += DEFAULT_POLICY.notification_backoff(attempt)
    with read_only(db_url) as s:
        [row] = s.exec(select(Outbox)).all()
    assert (row.status, row.last_error) == ("failed", "no SMTP server configured (SECURE_PHONE_SMTP_URL)")


def test_messages_that_follow_each_other_share_one_session_then_it_is_quit() -> None:
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        for n in range(3):
            sender.deliver(email_message(key=f"k{n}:email"))
        assert len(server.messages) == 3 and len(set(server.peers())) == 1 and server.quits == 0
        sender.close()
        assert server.quits == 1
        sender.deliver(email_message(key="k3:email"))  # after close: a new session
        assert len(set(server.peers())) == 2


def test_a_session_the_server_ended_is_replaced_unseen() -> None:
    port = free_port()
    with smtp_server(port) as (first, _port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        sender.deliver(email_message(key="k1:email"))
    with smtp_server(port) as (second, _port):  # the server restarted: the session kept is dead
        sender.deliver(email_message(key="k2:email"))
    assert [email["Message-ID"] for _s, _e, email in first.messages + second.messages] == [
        smtp.message_id(key, SENDER) for key in ("k1:email", "k2:email")]


def test_a_session_that_failed_or_waited_too_long_is_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        server.answer = "554 5.7.1 Refused"
        with pytest.raises(GatewayError, match="refused the message"):
            sender.deliver(email_message(key="k1:email"))
        server.answer = "250 OK"
        sender.deliver(email_message(key="k2:email"))
        assert len(set(server.peers())) == 2  # the failed session was quit, not reused
        monkeypatch.setattr(SmtpGateway, "REUSE_SECONDS", 0.0)
        sender.deliver(email_message(key="k3:email"))  # within k2's 20 s: k2's session
        assert len(set(server.peers())) == 2
        sender.deliver(email_message(key="k4:email"))  # k3's session had 0 s to wait: a new one
        assert len(set(server.peers())) == 3 and server.quits == 2


def test_the_dispatcher_ends_the_session_when_there_is_nothing_left_to_send(db_url: str) -> None:
    t0 = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    with db.transaction(db_url) as s:
        for n in range(2):
            enqueue(s, key=f"k{n}:email", channel="email", recipient="camille.martin@example.fr", subject="S",
                    body="Bonjour", lang="fr", now=t0)
    with smtp_server() as (server, port):
        dispatcher = Dispatcher(db_url, gateways={"email": gateway(f"smtp://127.0.0.1:{port}")})
        async def run() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(dispatcher.run_forever(stop, poll_interval=0.05))
            for _ in range(200):
                if server.quits:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await task

        run_async(run())
        assert len(server.messages) == 2 and len(set(server.peers())) == 1
        assert server.quits == 1  # after the pass that found nothing: no session left open


def test_a_kept_session_that_hangs_is_dropped_within_seconds() -> None:
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}?timeout=30")
        sender.deliver(email_message(key="k1:email"))
        server.hang_on_noop = True
        started = time.monotonic()
        sender.deliver(email_message(key="k2:email"))  # NOOP unanswered: a new session, not 30 s of waiting
        assert time.monotonic() - started < SmtpGateway.NOOP_SECONDS + 2
        assert len(server.messages) == 2 and len(set(server.peers())) == 2
        started = time.monotonic()
        sender.close()  # the new session's QUIT is answered
        assert time.monotonic() - started < 2 and not sender.holding


def test_once_closed_for_good_no_session_is_kept() -> None:
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        sender.close(final=True)  # the dispatcher stopped; a pass still in its thread sends its last message
        sender.deliver(email_message(key="k1:email"))
        assert not sender.holding and server.quits == 1 and len(server.messages) == 1


def test_a_session_ends_after_its_share_of_messages_or_of_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """However busy: relays cap the messages of one connection, and a new connection follows a relay's move."""
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        monkeypatch.setattr(SmtpGateway, "SESSION_MAX_MESSAGES", 2)
        for n in range(5):
            sender.deliver(email_message(key=f"k{n}:email"))
        assert len(server.messages) == 5 and len(set(server.peers())) == 3 and server.quits == 2
        assert sender.holding  # the fifth message's session, with room for one more
        sender.close()
        monkeypatch.setattr(SmtpGateway, "SESSION_MAX_MESSAGES", 50)
        monkeypatch.setattr(SmtpGateway, "SESSION_MAX_SECONDS", 0.0)
        for n in range(5, 7):
            sender.deliver(email_message(key=f"k{n}:email"))
        assert len(set(server.peers())) == 5 and not sender.holding


def test_closing_for_good_waits_a_second_at_most_for_a_delivery_under_way() -> None:
    """A stopping dispatcher must stop: a delivery still sending in the pass's thread (here: its lock held)
    keeps the session, and quits it itself once its message is sent."""
    with smtp_server() as (server, port):
        sender = gateway(f"smtp://127.0.0.1:{port}")
        sender.deliver(email_message(key="k1:email"))
        with sender._lock:  # a delivery under way
            started = time.monotonic()
            sender.close(final=True)
            assert time.monotonic() - started < 1.5
        assert sender.holding and server.quits == 0
        sender.deliver(email_message(key="k2:email"))  # the delivery's end: closed for good, so quit
        assert not sender.holding and server.quits == 1 and len(set(server.peers())) == 1


def test_a_dispatcher_that_naps_long_still_ends_the_session_within_its_reuse_window(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Woken by every commit, the dispatcher naps up to ``idle_interval`` (30 s in the app): while it keeps a
    session, no longer than the session waits for a next message, so that the pass that quits it comes then."""
    monkeypatch.setattr(SmtpGateway, "REUSE_SECONDS", 0.3)
    t0 = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
    with db.transaction(db_url) as s:
        enqueue(s, key="k0:email", channel="email", recipient="camille.martin@example.fr", subject="S",
                body="Bonjour", lang="fr", now=t0)
    with smtp_server() as (server, port):
        dispatcher = Dispatcher(db_url, gateways={"email": gateway(f"smtp://127.0.0.1:{port}")})
        quit_after: list[float] = []

        async def run() -> None:
            stop = asyncio.Event()
            started = time.monotonic()
            task = asyncio.create_task(dispatcher.run_forever(stop, poll_interval=0.05, idle_interval=30.0))
            for _ in range(250):
                if server.quits:
                    quit_after.append(time.monotonic() - started)
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await task

        run_async(run())
        assert len(server.messages) == 1 and server.quits == 1
        assert quit_after and quit_after[0] < 3  # not after the 30 s nap
