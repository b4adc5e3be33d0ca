"""One simulated customer through J1 end to end, over the real websocket protocol (phone + web tab)."""

from __future__ import annotations

import asyncio
import base64
import time

from client import HYDRATED, ROOT, ReflexSocket
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

APP = f"{ROOT}.secure_phone___ui___states___app____app_state"
WEB = f"{ROOT}.secure_phone___ui___states___web____web_state"
HOME = "/espace-client/telephone-securise"
PASSWORD = "Demo1234!"
CODE = "4827"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Phone:
    """What the browser's WebCrypto key would be: a P-256 key, signatures as r‖s base64url."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": _b64(n.x.to_bytes(32, "big")), "y": _b64(n.y.to_bytes(32, "big"))}

    def sign(self, text: str) -> str:
        r, s = decode_dss_signature(self.key.sign(text.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
        return _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


async def j1(host: str, port: int, customer: dict, record, think: float = 1.0, keep: list | None = None,
             sms_code=None) -> dict:  # type: ignore[no-untyped-def]
    """Run J1 for ``customer``; ``record(step, seconds)`` gets every step. Returns facts about the run.

    ``sms_code(e164, not_before)``: awaits the code the new number received (§12.3's proof, read where the demo
    SMS gateway files it); when the app asks for the proof and none is given, the journey fails.

    ``think`` is the pause between a customer's steps (1 s ≈ 1 event/s per customer).
    ``keep``: when given, the two sockets are appended to it and left open (memory per connected client).
    """
    phone_key = Phone()
    phone = ReflexSocket(host, port, "/app")
    web = ReflexSocket(host, port, "/connexion")
    facts: dict = {}
    try:
        async def step(name, coro):  # type: ignore[no-untyped-def]
            seconds = await coro
            record(name, seconds)
            await asyncio.sleep(think)
            return seconds

        # (1) the phone: hydrate /app, pick up the enrolled phone, its key, login on it.
        await step("phone.hydrate", phone.connect())
        await step("phone.pick_phone", phone.event(f"{APP}.pick_phone", {"choice": customer["device_id"]}))
        await step("phone.key_made", phone.event(f"{APP}.phone_key_made", {"result": {"ok": True,
                                                                                      "jwk": phone_key.jwk}}))
        await step("phone.login", phone.event(f"{APP}.app_login",
                                               {"form": {"identifier": customer["identifier"], "password": PASSWORD}}))
        # The phone signs the login (unseen) so that the session is this phone's.
        challenge = phone.var(APP, "login_challenge")
        await step("phone.login_signed", phone.event(f"{APP}.app_login_signed",
                                                      {"result": {"ok": True, "signature": phone_key.sign(challenge)}}))
        if not phone.var(APP, "logged_in"):
            raise RuntimeError(f"phone login refused: {phone.var(APP, 'login_error')} {phone.var(APP, 'picker_error')}")
        # (2) the web tab: login, « Mes coordonnées », new number, confirmation.
        await step("web.hydrate", web.connect())
        await step("web.login", web.event(f"{WEB}.login_and_go",
                                          {"form": {"identifier": customer["identifier"], "password": PASSWORD}}))
        web.pathname = HOME  # the redirect: the SPA navigates and sends its initial events again
        await step("web.open_home", web.event(f"{ROOT}.hydrate_and_load", {}, done=HYDRATED))
        await step("web.start_change", web.event(f"{WEB}.start_change"))
        await step("web.submit_number", web.event(f"{WEB}.submit_number", {"form": {"number": customer["new_number"]}}))
        if web.var(WEB, "screen") != "confirm":
            raise RuntimeError(f"number refused: {web.var(WEB, 'number_error')} (screen {web.var(WEB, 'screen')})")
        t_confirm = time.perf_counter()
        sent_after = time.time() - 1
        seconds = await web.event(f"{WEB}.confirm")
        record("web.confirm", seconds)
        if web.var(WEB, "screen") == "proof":
            # (2b) §12.3: the code sent to the new number, typed in the web tab.
            if sms_code is None:
                raise RuntimeError("the app asks for the new number's code and the bench cannot read it")
            code = await sms_code(customer["new_e164"], sent_after)
            record("sms.confirm_to_proof_code", time.perf_counter() - t_confirm)
            await asyncio.sleep(think)
            t_confirm = time.perf_counter()
            seconds = await web.event(f"{WEB}.prove_number", {"form": {"code": code}})
            record("web.prove_number", seconds)
            if web.var(WEB, "screen") != "wait":
                raise RuntimeError(f"proof refused: {web.var(WEB, 'code_error')} (screen {web.var(WEB, 'screen')})")
        # (3) the phone: the pushed approval, the code, the signature.
        await phone.wait_for(lambda s: bool(phone.var(APP, "approval_text")), timeout=60)
        record("push.confirm_to_phone_approval", time.perf_counter() - t_confirm)
        await asyncio.sleep(think)
        text = phone.var(APP, "approval_text")
        await step("phone.validate", phone.event(f"{APP}.validate", {"form": {"code": CODE}}))
        t_approve = time.perf_counter()
        facts["approved_at"] = time.time()  # the customer's tap, on the clock the server stamps with
        seconds = await phone.event(f"{APP}.approval_signed", {"result": {"ok": True,
                                                                          "signature": phone_key.sign(text)}})
        record("phone.approval_signed", seconds)
        # (4) the web tab: the pushed outcome.
        # (the outcome « applying » — MySys being written — is followed by the final one, pushed too)
        await web.wait_for(lambda s: web.var(WEB, "screen") == "outcome"
                           and web.var(WEB, "outcome") != "applying.title", timeout=60)
        record("push.approval_to_web_outcome", time.perf_counter() - t_approve)
        facts["outcome"] = web.var(WEB, "outcome")
        facts["request_id"] = web.var(WEB, "request_id")
        facts["ok"] = facts["outcome"] == "success.title"
        facts["hydrate_bytes"] = {"phone": phone.hydrate_bytes, "web": web.hydrate_bytes}
        facts["state_bytes"] = {"phone": len(str(phone.state).encode()), "web": len(str(web.state).encode())}
        return facts
    finally:
        if keep is not None:
            keep.extend([phone, web])
        else:
            await phone.close()
            await web.close()
