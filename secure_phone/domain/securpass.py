"""Sécur'Pass (PRODUCT.md §6): signed challenge, device signatures, 4-digit code, approval."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from secure_phone.domain.change_request import Status
from secure_phone.domain.policy import DEFAULT_POLICY, Policy

CODE_DIGITS = 4
_CODE_FORMAT = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")
_P256_COORDINATE_BYTES = 32
_B64URL = re.compile(r"[A-Za-z0-9_-]*")

# Outside the catalogue (secure_phone/i18n.py) on purpose: these are the exact texts the phone signs and the
# server verifies (so are the activation and login texts below); an edit of the catalogue's wording must never
# change what a signature covers.
_CHALLENGE_TEMPLATES: dict[str, str] = {
    "fr": (
        "Changement de numéro de mobile sécurisé\n"
        "Nouveau numéro : {number}\n"
        "Client : {customer}\n"
        "Demande : {request_id}\n"
        "Référence unique : {nonce}\n"
        "Expire à : {expires:%d/%m/%Y %H:%M:%S} UTC"
    ),
    "en": (
        "Change of secure mobile number\n"
        "New number: {number}\n"
        "Customer: {customer}\n"
        "Request: {request_id}\n"
        "Unique reference: {nonce}\n"
        "Expires at: {expires:%Y-%m-%d %H:%M:%S} UTC"
    ),
}


# --- Challenge -------------------------------------------------------------------------------

def challenge_text(
    *,
    lang: str,
    new_number_national: str,
    customer_name: str,
    request_id: str,
    nonce: str,
    expires_at: datetime,
) -> str:
    """The text the phone shows and signs, in "fr" or "en"; the same inputs give the same text.

    Fields may not contain line breaks or other non-printable characters (a name with a line
    break could fake a line of the challenge).
    """
    if lang not in _CHALLENGE_TEMPLATES:
        raise ValueError(f"unsupported language: {lang!r}")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    fields = {
        "number": new_number_national,
        "customer": customer_name,
        "request_id": request_id,
        "nonce": nonce,
    }
    for name, value in fields.items():
        if not value.isprintable():
            raise ValueError(f"{name} contains a control character or a line break")
    return _CHALLENGE_TEMPLATES[lang].format(
        **fields, expires=expires_at.astimezone(UTC)
    )


_ACTIVATION_TEMPLATES: dict[str, str] = {
    "fr": (
        "Activation de Sécur'Pass sur ce smartphone\n"
        "Client : {customer}\n"
        "Smartphone : {device}\n"
        "Code envoyé : {reference}"
    ),
    "en": (
        "Activation of Sécur'Pass on this smartphone\n"
        "Customer: {customer}\n"
        "Smartphone: {device}\n"
        "Code sent: {reference}"
    ),
}


def activation_text(*, lang: str, customer_name: str, device_id: str, reference: str) -> str:
    """The text a new phone signs with the key it registered to activate Sécur'Pass (J4): it proves the
    browser that asks holds that key (a phone id alone is worth nothing). ``reference`` names the SMS code
    sent for this phone, so a signature is good for that code only."""
    if lang not in _ACTIVATION_TEMPLATES:
        raise ValueError(f"unsupported language: {lang!r}")
    fields = {"customer": customer_name, "device": device_id, "reference": reference}
    for name, value in fields.items():
        if not value.isprintable():
            raise ValueError(f"{name} contains a control character or a line break")
    return _ACTIVATION_TEMPLATES[lang].format(**fields)


def login_text(*, device_id: str, nonce: str) -> str:
    """What the app's phone signs, unseen, when the customer logs in on it: the session is then this phone's
    (its approvals, J4 on it) — a device id alone would let anyone claim the phone."""
    for name, value in (("device_id", device_id), ("nonce", nonce)):
        if not value.isprintable():
            raise ValueError(f"{name} contains a control character or a line break")
    return f"Connexion Ma Banque\nSmartphone : {device_id}\nReference : {nonce}"


# --- Device signatures (ECDSA P-256, SHA-256, WebCrypto's r‖s format) ----------------------

def _b64url_decode(text: object) -> bytes:
    """Strict base64url (padding optional); ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("base64url value must be a string")
    unpadded = text.rstrip("=")
    if not _B64URL.fullmatch(unpadded):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    raw = _b64url_decode(jwk.get(name))
    if len(raw) != _P256_COORDINATE_BYTES:
        raise ValueError(f"JWK {name} must be {_P256_COORDINATE_BYTES} bytes")
    return int.from_bytes(raw, "big")


def _public_key(jwk: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, Mapping):
        raise ValueError("JWK must be an object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError('JWK must have "kty": "EC" and "crv": "P-256"')
    numbers = ec.EllipticCurvePublicNumbers(
        _coordinate(jwk, "x"), _coordinate(jwk, "y"), ec.SECP256R1()
    )
    return numbers.public_key()  # ValueError when the point is not on the curve


def validate_public_jwk(jwk: Any) -> dict[str, str]:
    """The normalized {"kty", "crv", "x", "y"} of a P-256 public JWK, or ValueError."""
    numbers = _public_key(jwk).public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64url_encode(numbers.x.to_bytes(_P256_COORDINATE_BYTES, "big")),
        "y": _b64url_encode(numbers.y.to_bytes(_P256_COORDINATE_BYTES, "big")),
    }


def verify_signature(public_jwk: Any, message: str, signature_b64url: str) -> bool:
    """True if `signature_b64url` (64-byte r‖s) signs the UTF-8 `message`; never raises."""
    try:
        key = _public_key(public_jwk)
        raw = _b64url_decode(signature_b64url)
        if len(raw) != 2 * _P256_COORDINATE_BYTES:
            return False
        r = int.from_bytes(raw[:_P256_COORDINATE_BYTES], "big")
        s = int.from_bytes(raw[_P256_COORDINATE_BYTES:], "big")
        key.verify(encode_dss_signature(r, s), message.encode("utf-8"),
                   ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


# --- The 4-digit Sécur'Pass code -------------------------------------------------------------

def is_valid_code_format(code: object) -> bool:
    """True for exactly four ASCII digits."""
    return isinstance(code, str) and _CODE_FORMAT.fullmatch(code) is not None


def hash_code(secret: bytes, subject: str, code: str) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a Sécur'Pass code for `subject` (e.g. the enrollment id)."""
    if not is_valid_code_format(code):
        raise ValueError("a Sécur'Pass code is four digits")
    message = f"{subject}\x00{code}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def code_matches(secret: bytes, subject: str, code: str, stored_hash: str) -> bool:
    """Constant-time check of `code` against `stored_hash`; a malformed code never matches."""
    if not is_valid_code_format(code):
        return False
    expected = hash_code(secret, subject, code).encode("ascii")
    return hmac.compare_digest(expected, stored_hash.encode("utf-8"))


# --- Approval decision -------------------------------------------------------------------------

class Rejection(str, Enum):
    """Why an approval is refused (the customer is never told whether code or device was wrong)."""

    NOT_FOUND = "not_found"
    NOT_PENDING = "not_pending"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    WRONG_DEVICE = "wrong_device"
    BAD_SIGNATURE = "bad_signature"
    NONCE_REUSED = "nonce_reused"
    WRONG_CODE = "wrong_code"
    SECURPASS_BLOCKED = "securpass_blocked"
    NUMBER_CHANGED = "number_changed"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True)
class ApprovalFacts:
    """What the services established about an approval attempt (NOT_FOUND is theirs to decide)."""

    status: Status  # effective status (see change_request.effective_status)
    device_belongs_to_customer: bool
    device_active: bool
    signature_valid: bool
    nonce_already_used: bool
    code_correct: bool
    securpass_blocked: bool
    consecutive_wrong_codes: int  # before this attempt
    number_still_available: bool
    eligible: bool


@dataclass(frozen=True)
class ApprovalDecision:
    """Outcome of an approval attempt; `tries_left` is set only for a wrong code."""

    accepted: bool
    rejection: Rejection | None
    block_securpass: bool
    tries_left: int | None


_ACCEPTED = ApprovalDecision(accepted=True, rejection=None, block_securpass=False, tries_left=None)

_STATUS_REJECTIONS: dict[Status, Rejection] = {
    Status.SUPERSEDED: Rejection.SUPERSEDED,
    Status.EXPIRED: Rejection.EXPIRED,
}


def _reject(rejection: Rejection) -> ApprovalDecision:
    return ApprovalDecision(accepted=False, rejection=rejection, block_securpass=False,
                            tries_left=None)


def decide_approval(facts: ApprovalFacts, policy: Policy = DEFAULT_POLICY) -> ApprovalDecision:
    """Accept or reject an approval, checking in a fixed order: request status, Sécur'Pass
    blocked, device, signature, nonce, code (the last allowed wrong code blocks Sécur'Pass),
    eligibility, number."""
    if facts.status is not Status.PENDING_APPROVAL:
        return _reject(_STATUS_REJECTIONS.get(facts.status, Rejection.NOT_PENDING))
    if facts.securpass_blocked:
        return _reject(Rejection.SECURPASS_BLOCKED)
    if not (facts.device_belongs_to_customer and facts.device_active):
        return _reject(Rejection.WRONG_DEVICE)
    if not facts.signature_valid:
        return _reject(Rejection.BAD_SIGNATURE)
    if facts.nonce_already_used:
        return _reject(Rejection.NONCE_REUSED)
    if not facts.code_correct:
        tries_left = max(0, policy.securpass_max_wrong_codes - facts.consecutive_wrong_codes - 1)
        return ApprovalDecision(accepted=False, rejection=Rejection.WRONG_CODE,
                                block_securpass=tries_left == 0, tries_left=tries_left)
    if not facts.eligible:
        return _reject(Rejection.NOT_ELIGIBLE)
    if not facts.number_still_available:
        return _reject(Rejection.NUMBER_CHANGED)
    return _ACCEPTED
