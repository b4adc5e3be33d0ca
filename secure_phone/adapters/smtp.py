"""Email over SMTP (PRODUCT.md §7): the email gateway, the message it sends, and the local receiver.

**Where emails go** (:func:`email_gateway`, chosen once per dispatcher):

* ``SECURE_PHONE_SMTP_URL`` set: to that server — ``smtp://[user:password@]host[:port][?starttls=1]``
  (port 25 by default; STARTTLS required when asked, never downgraded) or ``smtps://…`` (TLS from the first
  byte, port 465), with ``connect_timeout`` / ``timeout`` (seconds, defaults 5 and 10) and ``cafile`` (a CA
  bundle to trust instead of the system's) in the query. Credentials are sent only over TLS (or to a loopback
  address). ``SECURE_PHONE_SMTP_URL=log:`` keeps the log-only stand-in (one log line, nothing sent).
* unset, in demo mode: to the **local receiver** (:class:`LocalReceiver`, aiosmtpd on 127.0.0.1, a free port
  unless ``SECURE_PHONE_SMTP_RECEIVER_PORT`` names one), started in the process of the dispatcher that sends
  (the app's process in the embedded mode, the dispatcher's in scale-out). It files every message it receives
  into the demo inboxes, with the record of its SMTP session: every demo email really crossed SMTP.
* unset, outside demo mode: nowhere. :class:`UnconfiguredEmailGateway` refuses every email, so the outbox
  retries it and, after its last attempt, marks it ``failed`` — visible to the advisors — instead of reporting
  a security notice as sent when nobody got it.

**The message** (:func:`compose`): multipart/alternative, the text exactly as queued and an HTML part made
from the same text (escaped; one paragraph per paragraph), with ``lang`` the recipient's language, the subject
as its heading, text colours of at least 7:1 on white, no image and no link. Its ``Message-ID`` is derived
from the outbox key: a redelivery after a dispatcher crash carries the same one, which receivers may dedupe
on. The sender is ``SECURE_PHONE_MAIL_FROM`` (required outside demo mode when a server is configured).

**Failures** (refused connection, timeout, TLS, authentication, a 4xx/5xx answer) raise ``GatewayError``
with a message that names neither the recipient nor the body, nor the server's credentials: the outbox's
retries and backoff apply. Logs never show the URL's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import html
import ipaddress
import json
import logging
import os
import random
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, formatdate, parseaddr
from typing import Any, Final, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from secure_phone import i18n
from secure_phone.adapters.gateways import (
    FAIL_RATE_ENV,
    GatewayError,
    LogGateway,
    OutboxMessage,
    _SimulatedGateway,
    file_demo_message,
    mask_recipient,
)
from secure_phone.adapters.mysys import read_fraction
from secure_phone.settings import ConfigurationError, demo_mode

logger = logging.getLogger(__name__)

SMTP_URL_ENV: Final = "SECURE_PHONE_SMTP_URL"
MAIL_FROM_ENV: Final = "SECURE_PHONE_MAIL_FROM"
RECEIVER_PORT_ENV: Final = "SECURE_PHONE_SMTP_RECEIVER_PORT"
DEMO_MAIL_FROM: Final = "Ma Banque <ne-pas-repondre@ma-banque.example>"
OUTBOX_KEY_HEADER: Final = "X-Secure-Phone-Outbox-Key"
"""Sent to the local receiver only (which files the message under its outbox key); a real server sees
only the opaque ``Message-ID``."""

_QUERY_KEYS = {"starttls", "connect_timeout", "timeout", "cafile"}
_TRUE = {"1", "true", "yes", "on"}

# The HTML part's colours: body text #1a1a1a (17:1 on white), the bank's name #00338d (12:1), both above
# WCAG's 7:1 (AAA) — a mail client's own styles may override them, never make them fainter.
_TEXT, _BRAND, _BACKGROUND = "#1a1a1a", "#00338d", "#ffffff"


# --- where to send --------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server to send to, read from a ``SECURE_PHONE_SMTP_URL`` (see the module's documentation)."""

    host: str
    port: int
    tls: Literal["none", "starttls", "smtps"] = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None
    connect_timeout: float = 5.0
    timeout: float = 10.0

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """The target of ``url``; ConfigurationError (never quoting the password) when it is not usable."""
        what = SMTP_URL_ENV
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ConfigurationError(f"{what}: not a URL (smtp://host:port or smtps://host:port)") from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ConfigurationError(f"{what}: expected smtp://[user:password@]host[:port] or smtps://…")
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = sorted(set(query) - _QUERY_KEYS)
        if unknown:
            raise ConfigurationError(f"{what}: unknown option(s) {', '.join(unknown)} "
                                     f"(known: {', '.join(sorted(_QUERY_KEYS))})")
        starttls = query.get("starttls", "0").strip().lower() in _TRUE
        if parts.scheme == "smtps" and starttls:
            raise ConfigurationError(f"{what}: smtps:// is TLS already; starttls=1 is for smtp://")
        tls: Literal["none", "starttls", "smtps"] = (
            "smtps" if parts.scheme == "smtps" else "starttls" if starttls else "none")
        timeouts = {}
        for name, default in (("connect_timeout", 5.0), ("timeout", 10.0)):
            try:
                timeouts[name] = float(query.get(name, default))
            except ValueError:
                raise ConfigurationError(f"{what}: {name} must be a number of seconds") from None
            if not 0 < timeouts[name] <= 300:
                raise ConfigurationError(f"{what}: {name} must be between 0 and 300 seconds")
        target = cls(
            host=parts.hostname, port=port or (465 if tls == "smtps" else 25), tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            cafile=query.get("cafile") or None, **timeouts)
        if target.username and tls == "none" and not _loopback(target.host):
            raise ConfigurationError(f"{what}: credentials are sent over TLS only (smtps://, or starttls=1)")
        return target

    def describe(self) -> str:
        """For logs: scheme, host and port, TLS and whether it authenticates — never the credentials."""
        extras = [{"starttls": "STARTTLS", "smtps": "TLS"}.get(self.tls, "no TLS")]
        if self.username:
            extras.append("auth")
        scheme = "smtps" if self.tls == "smtps" else "smtp"
        return f"{scheme}://{self.host}:{self.port} ({', '.join(extras)})"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mail_from(environ: Mapping[str, str] | None = None) -> str:
    """The sender (``SECURE_PHONE_MAIL_FROM``, e.g. ``Ma Banque <ne-pas-repondre@banque.example>``); a demo
    address in demo mode when unset, ConfigurationError otherwise."""
    env = os.environ if environ is None else environ
    value = env.get(MAIL_FROM_ENV, "").strip()
    if not value:
        if not demo_mode():
            raise ConfigurationError(f"{MAIL_FROM_ENV} is required to send emails outside demo mode "
                                     "(e.g. 'Ma Banque <ne-pas-repondre@banque.example>')")
        value = DEMO_MAIL_FROM
    _name, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        raise ConfigurationError(f"{MAIL_FROM_ENV}: not an email address")
    return value


# --- the message ----------------------------------------------------------------------------


def message_id(key: str, sender: str) -> str:
    """A ``Message-ID`` that stays the same for the same outbox key, and does not show it."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def render_html(subject: str | None, body: str, lang: str | None) -> str:
    """The HTML part of an email: the same text as the plain part, escaped, in an accessible page.

    ``lang`` (the recipient's, default the bank's) on ``<html>``; the bank's name, then the subject as the one
    ``<h1>``; a ``<p>`` per paragraph of ``body`` (its single line breaks kept as ``<br>``); dark text on white
    (see ``_TEXT``); relative sizes, no image, no link, no layout table.
    """
    lang = i18n.normalize_lang(lang)
    bank = html.escape(i18n.text("bank.name", lang))
    heading = html.escape(subject) if subject else bank
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    text = "\n".join(
        f'<p style="margin:0 0 1em 0;">{"<br>".join(html.escape(line) for line in paragraph.split(chr(10)))}</p>'
        for paragraph in paragraphs)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="ltr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light">\n'
        f"<title>{heading}</title>\n</head>\n"
        f'<body style="margin:0;padding:0;background:{_BACKGROUND};color:{_TEXT};">\n'
        f'<div style="max-width:40em;margin:0 auto;padding:1.5em;font-family:Arial,Helvetica,sans-serif;'
        f'font-size:1rem;line-height:1.5;color:{_TEXT};background:{_BACKGROUND};">\n'
        f'<p style="margin:0 0 1em 0;font-weight:bold;color:{_BRAND};">{bank}</p>\n'
        f'<h1 style="margin:0 0 1em 0;font-size:1.375rem;line-height:1.3;color:{_TEXT};">{heading}</h1>\n'
        f"{text}\n</div>\n</body>\n</html>\n"
    )


def compose(message: OutboxMessage, *, sender: str, reference: bool = False,
            now: datetime | None = None) -> EmailMessage:
    """The email of one outbox message: text and HTML alternatives (see :func:`render_html`).

    ``reference`` adds the outbox key as a header (for the local receiver only, see ``OUTBOX_KEY_HEADER``).
    """
    lang = i18n.normalize_lang(message.lang)
    email = EmailMessage(policy=email_policy.SMTP)
    email["From"] = sender
    email["To"] = formataddr(("", message.recipient))
    email["Subject"] = message.subject or i18n.text("bank.name", lang)
    email["Date"] = formatdate((now or datetime.now(UTC)).timestamp(), usegmt=True)
    email["Message-ID"] = message_id(message.key, sender)
    email["Auto-Submitted"] = "auto-generated"  # no auto-reply loops
    if reference:
        email[OUTBOX_KEY_HEADER] = message.key
    email.set_content(message.body)
    email.add_alternative(render_html(message.subject, message.body, lang), subtype="html")
    email["Content-Language"] = lang  # after the content: set_content drops the Content-* headers
    return email


# --- sending ---------------------------------------------------------------------------------


@functools.cache
def _ehlo_name() -> str:
    """What this host calls itself in EHLO (looked up once: ``getfqdn`` may ask the DNS)."""
    return socket.getfqdn() or "localhost"


class SmtpGateway(_SimulatedGateway):
    """The email gateway: SMTP to ``target``, one session kept for the messages that follow each other.

    A session costs a connection, TLS, the greeting, EHLO, the login and QUIT: a message that follows another
    within ``REUSE_SECONDS`` goes through the same session after a ``NOOP`` that proves it is still open (a new
    session otherwise). A session that failed in any way is closed, never reused; :meth:`close` ends the one
    kept. Deliveries are serialised on it (one message at a time per gateway, as the dispatcher sends).

    ``fail_rate`` injects refusals before connecting (EMAIL_GATEWAY_FAIL_RATE, for the demo and the tests).
    ``reference`` sends the outbox key in a header (the local receiver files the message under it).
    """

    REUSE_SECONDS: Final = 20.0
    """How long a session waits for the next message (well below the 5 minutes RFC 5321 lets a server wait)."""
    NOOP_SECONDS: Final = 2.0
    """How long a kept session has to answer ``NOOP`` before a new one is opened instead."""
    SESSION_MAX_MESSAGES: Final = 50
    SESSION_MAX_SECONDS: Final = 300.0
    """A session ends after this many messages or this long, however busy: relays cap the messages of one
    connection (a 4xx at the next one would cost it a retry), and a new connection follows a change of the
    relay's address."""

    def __init__(self, target: SmtpTarget, *, sender: str, reference: bool = False, fail_rate: float = 0.0,
                 rng: random.Random | None = None) -> None:
        super().__init__("email", fail_rate, rng)
        self.target = target
        self.sender = sender
        self.reference = reference
        self._envelope_from = parseaddr(sender)[1]
        self._lock = threading.Lock()
        self._kept: smtplib.SMTP | None = None
        self._kept_until = 0.0
        self._opened_at, self._sent = 0.0, 0  # the session in use or kept: when it was opened, messages sent
        self._final = False  # closed for good (the dispatcher stopped): no session kept any more

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.target.cafile)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        client: smtplib.SMTP
        # Connecting (TCP, TLS for smtps, the 220 greeting: SMTPConnectError otherwise) within connect_timeout;
        # the host is the name TLS checks the certificate against.
        if target.tls == "smtps":
            client = smtplib.SMTP_SSL(target.host, target.port, local_hostname=_ehlo_name(),
                                      timeout=target.connect_timeout, context=self._tls_context())
        else:
            client = smtplib.SMTP(target.host, target.port, local_hostname=_ehlo_name(),
                                  timeout=target.connect_timeout)
        try:
            assert client.sock is not None
            client.sock.settimeout(target.timeout)  # every command from now on
            if target.tls == "starttls":
                client.starttls(context=self._tls_context())  # SMTPNotSupportedError if not offered: no downgrade
            if target.username:
                client.login(target.username, target.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _session(self) -> smtplib.SMTP:
        """The session kept, if it is recent and answers ``NOOP``; a new one otherwise."""
        kept, self._kept = self._kept, None
        if kept is not None:
            if time.monotonic() >= self._kept_until:
                _quit(kept)
            else:
                try:
                    sock = kept.sock
                    if sock is None:
                        raise smtplib.SMTPServerDisconnected("no connection")
                    sock.settimeout(min(self.NOOP_SECONDS, self.target.timeout))
                    if kept.noop()[0] == 250:
                        sock.settimeout(self.target.timeout)
                        return kept
                except (smtplib.SMTPException, OSError):
                    kept.close()  # dead or hung: no QUIT to wait for
                except BaseException:
                    kept.close()
                    raise
                else:
                    _quit(kept)
        client = self._connect()
        self._opened_at, self._sent = time.monotonic(), 0
        return client

    @property
    def holding(self) -> bool:
        """Whether a session is kept open."""
        return self._kept is not None

    def close(self, *, final: bool = False) -> None:
        """End the session kept, if any (QUIT, waiting a second at most); ``final``: keep none from now on.

        Never waits more than a second for a delivery under way (a stopping dispatcher must stop): that delivery
        ends its session itself once ``final`` is set."""
        if final:
            self._final = True  # read by the delivery under way, if any, once its message is sent
        if not self._lock.acquire(timeout=1.0):
            return
        try:
            kept, self._kept = self._kept, None
        finally:
            self._lock.release()
        if kept is not None:
            _quit(kept)

    def deliver(self, message: OutboxMessage) -> None:
        """Send the message, or raise :class:`GatewayError` (retried by the outbox)."""
        self._accept(message)
        email = compose(message, sender=self.sender, reference=self.reference)
        try:
            with self._lock:
                client = self._session()
                try:
                    client.send_message(email, from_addr=self._envelope_from, to_addrs=[message.recipient])
                except BaseException:
                    _quit(client)  # a session in an unknown state is never reused
                    raise
                self._sent += 1
                if self._final or self._sent >= self.SESSION_MAX_MESSAGES \
                        or time.monotonic() - self._opened_at >= self.SESSION_MAX_SECONDS:
                    _quit(client)
                else:
                    self._kept, self._kept_until = client, time.monotonic() + self.REUSE_SECONDS
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _text in exc.recipients.values()})
            raise GatewayError(f"SMTP server refused the recipient ({', '.join(map(str, codes))})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise GatewayError(f"SMTP authentication refused ({exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise GatewayError(f"SMTP server refused the message ({exc.smtp_code})") from None
        except TimeoutError:
            raise GatewayError("SMTP server did not answer in time") from None
        except smtplib.SMTPServerDisconnected as exc:  # smtplib's name for a read that timed out, too
            if isinstance(exc.__cause__ or exc.__context__, TimeoutError):
                raise GatewayError("SMTP server did not answer in time") from None
            raise GatewayError("SMTP server closed the connection (SMTPServerDisconnected)") from None
        except ssl.SSLError as exc:
            raise GatewayError(f"TLS with the SMTP server failed ({type(exc).__name__})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise GatewayError(f"SMTP server unreachable or failing ({type(exc).__name__})") from None
        logger.info("email %s sent over SMTP to %s (%s)", message.key, mask_recipient(message.recipient),
                    self.target.describe())


def _quit(client: smtplib.SMTP, patience: float = 1.0) -> None:
    """QUIT, waiting ``patience`` seconds at most for the answer (a session's end is no reason to wait for a
    hung server), then close."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        if client.sock is not None:
            client.sock.settimeout(min(patience, client.sock.gettimeout() or patience))
        client.quit()
    client.close()


class UnconfiguredEmailGateway:
    """Outside demo mode without ``SECURE_PHONE_SMTP_URL``: every email is refused (then ``failed``)."""

    channel = "email"

    def deliver(self, message: OutboxMessage) -> None:
        raise GatewayError(f"no SMTP server configured ({SMTP_URL_ENV})")


def email_gateway(url: str | None = None, environ: Mapping[str, str] | None = None) -> Any:
    """The email gateway of this run (see the module's documentation); ``url`` is the database the local
    receiver files into (None: the app's)."""
    env = os.environ if environ is None else environ
    fail_rate = read_fraction(env, FAIL_RATE_ENV["email"])
    configured = env.get(SMTP_URL_ENV, "").strip()
    if configured == "log:":
        return LogGateway("email", fail_rate=fail_rate)
    if configured:
        target = SmtpTarget.parse(configured)
        logger.info("email gateway: SMTP to %s", target.describe())
        return SmtpGateway(target, sender=mail_from(env), fail_rate=fail_rate)
    if demo_mode():
        receiver = local_receiver(url, _receiver_port(env))
        return SmtpGateway(receiver.target, sender=mail_from(env), reference=True, fail_rate=fail_rate)
    logger.error("email gateway: no SMTP server configured (%s): emails will be refused, then marked failed",
                 SMTP_URL_ENV)
    return UnconfiguredEmailGateway()


# --- the local receiver (demo mode) ----------------------------------------------------------


def _receiver_port(env: Mapping[str, str]) -> int:
    raw = env.get(RECEIVER_PORT_ENV, "").strip() or "0"
    try:
        port = int(raw)
    except ValueError:
        raise ConfigurationError(f"{RECEIVER_PORT_ENV} must be a port number (0: a free one)") from None
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"{RECEIVER_PORT_ENV} must be a port number (0: a free one)")
    return port


class _Handler:
    """aiosmtpd's handler: files each message it receives into the demo inboxes, with its SMTP session."""

    def __init__(self, url: str | None) -> None:
        self._url = url

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        session_id = getattr(session, "secure_phone_id", None)
        if session_id is None:  # one id per SMTP connection, whatever it carries
            session_id = session.secure_phone_id = uuid.uuid4().hex[:12]
        try:
            await asyncio.to_thread(self._file, session_id, session, envelope)
        except Exception as exc:  # the database: a 4xx makes the sender retry
            logger.error("SMTP receiver: session %s: message not filed (%s)", session_id, type(exc).__name__)
            return "451 4.3.0 Not filed, try again later"
        return "250 2.0.0 Filed in the demo inbox"

    def _file(self, session_id: str, session: Any, envelope: Any) -> None:
        raw = envelope.original_content or envelope.content
        email = BytesParser(policy=email_policy.default).parsebytes(raw)
        text_part = email.get_body(preferencelist=("plain",))
        content = text_part.get_content() if text_part is not None else ""
        body = content.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")  # SMTP's CRLF, back to the text
        parts = [part.get_content_type() for part in email.walk() if not part.is_multipart()]
        peer = session.peer
        record = {
            "session": session_id,
            "peer": f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple | list) and len(peer) >= 2 else str(peer),
            "helo": session.host_name,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "mail_from": envelope.mail_from,
            "rcpt_to": list(envelope.rcpt_tos),
            "message_id": str(email["Message-ID"] or ""),
            "parts": parts,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        key = str(email[OUTBOX_KEY_HEADER] or "") or f"smtp:{record['message_id'] or session_id}"
        subject = str(email["Subject"]) if email["Subject"] is not None else None
        for recipient in envelope.rcpt_tos:
            row_key = key if len(envelope.rcpt_tos) == 1 else f"{key}|{recipient}"
            new = file_demo_message(self._url, key=row_key, channel="email", recipient=recipient, subject=subject,
                                    body=body, smtp_session=json.dumps(record, ensure_ascii=False))
            logger.info("SMTP receiver: session %s from %s: MAIL FROM %s, RCPT TO %s, Message-ID %s, %s: %s",
                        session_id, record["peer"], envelope.mail_from, mask_recipient(recipient),
                        record["message_id"], " + ".join(parts), "filed" if new else "already filed")


class LocalReceiver:
    """An SMTP server on 127.0.0.1 (aiosmtpd, in a thread of its own) filing into the demo inboxes.

    Demo mode only. ``port`` 0 takes a free port (``target`` says which, once started).
    """

    def __init__(self, url: str | None = None, port: int = 0, host: str = "127.0.0.1") -> None:
        if not demo_mode():
            raise ConfigurationError("the local SMTP receiver files into the demo inboxes: demo mode only")
        from aiosmtpd.controller import Controller

        # aiosmtpd's own log ("mail.log") writes every address in full at INFO: warnings only. The session is
        # logged by _Handler, recipients masked.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

        class _Controller(Controller):
            """aiosmtpd's controller, told the port the system chose when ``port`` is 0."""

            def _create_server(self) -> Any:
                created: Any = super()._create_server()

                async def bound() -> Any:
                    server: Any = await created
                    self.port = server.sockets[0].getsockname()[1]  # an asyncio.Server
                    return server

                return bound()

        self.url = url
        self._controller = _Controller(_Handler(url), hostname=host, port=port, ready_timeout=10,
                                       server_hostname="secure-phone-demo-receiver")
        self._started = False

    def start(self) -> LocalReceiver:
        try:
            self._controller.start()
        except OSError as exc:
            raise ConfigurationError(f"the local SMTP receiver cannot listen on {self._controller.hostname}:"
                                     f"{self._controller.port} ({exc.strerror or type(exc).__name__}); "
                                     f"set {RECEIVER_PORT_ENV} to a free port, or 0") from None
        self._started = True
        logger.info("SMTP receiver (demo inboxes) listening on %s:%d", self._controller.hostname, self.port)
        return self

    def stop(self) -> None:
        if self._started:
            self._started = False
            self._controller.stop()
            logger.info("SMTP receiver on port %d stopped", self.port)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def target(self) -> SmtpTarget:
        return SmtpTarget(host=self._controller.hostname, port=self.port)


_receivers: dict[str | None, LocalReceiver] = {}
_receivers_lock = threading.Lock()


def local_receiver(url: str | None = None, port: int = 0) -> LocalReceiver:
    """This process's local receiver for the database ``url``, started on first use."""
    with _receivers_lock:
        receiver = _receivers.get(url)
        if receiver is None:
            if port and any(other.port == port for other in _receivers.values()):
                raise ConfigurationError(f"{RECEIVER_PORT_ENV}={port} is taken by another database's receiver")
            receiver = _receivers[url] = LocalReceiver(url, port).start()
        return receiver


def stop_local_receivers() -> None:
    """Stop this process's local receivers (at the app's or the dispatcher's exit)."""
    with _receivers_lock:
        receivers = list(_receivers.values())
        _receivers.clear()
    for receiver in receivers:
        receiver.stop()
