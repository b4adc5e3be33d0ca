"""Sécur'Pass: challenge text, signatures with real keys, the code hash, approval decisions."""

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from secure_phone.domain.change_request import Status
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.domain.securpass import (
    ApprovalDecision,
    ApprovalFacts,
    Rejection,
    challenge_text,
    code_matches,
    decide_approval,
    hash_code,
    is_valid_code_format,
    validate_public_jwk,
    verify_signature,
)

# --- Challenge text ------------------------------------------------------------------------------

EXPIRES = datetime(2026, 11, 26, 15, 10, tzinfo=UTC)
CHALLENGE = {
    "new_number_national": "07 98 76 54 32",
    "customer_name": "Camille MARTIN",
    "request_id": "3f2b8c1e-0000-4000-8000-000000000001",
    "nonce": "K7Q2-M9XD",
    "expires_at": EXPIRES,
}


def test_french_challenge_text() -> None:
    assert challenge_text(lang="fr", **CHALLENGE) == (
        "Changement de numéro de mobile sécurisé\n"
        "Nouveau numéro : 07 98 76 54 32\n"
        "Client : Camille MARTIN\n"
        "Demande : 3f2b8c1e-0000-4000-8000-000000000001\n"
        "Référence unique : K7Q2-M9XD\n"
        "Expire à : 26/11/2026 15:10:00 UTC"
    )


def test_english_challenge_text() -> None:
    assert challenge_text(lang="en", **CHALLENGE) == (
        "Change of secure mobile number\n"
        "New number: 07 98 76 54 32\n"
        "Customer: Camille MARTIN\n"
        "Request: 3f2b8c1e-0000-4000-8000-000000000001\n"
        "Unique reference: K7Q2-M9XD\n"
        "Expires at: 2026-11-26 15:10:00 UTC"
    )


def test_challenge_text_is_deterministic() -> None:
    assert challenge_text(lang="fr", **CHALLENGE) == challenge_text(lang="fr", **dict(CHALLENGE))


def test_challenge_expiry_is_shown_in_utc() -> None:
    paris = EXPIRES.astimezone(timezone(timedelta(hours=1)))
    assert challenge_text(lang="fr", **{**CHALLENGE, "expires_at": paris}) == challenge_text(
        lang="fr", **CHALLENGE
    )


@pytest.mark.parametrize("field", ["new_number_national", "customer_name", "request_id", "nonce"])
def test_each_field_changes_the_text(field: str) -> None:
    changed = {**CHALLENGE, field: CHALLENGE[field] + "9"}
    assert challenge_text(lang="fr", **changed) != challenge_text(lang="fr", **CHALLENGE)


@pytest.mark.parametrize("lang", ["de", "FR", "", "fr-FR"])
def test_unknown_language_is_refused(lang: str) -> None:
    with pytest.raises(ValueError):
        challenge_text(lang=lang, **CHALLENGE)


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError):
        challenge_text(lang="fr", **{**CHALLENGE, "expires_at": EXPIRES.replace(tzinfo=None)})


@pytest.mark.parametrize(
    "name",
    ["Camille MARTIN\nNouveau numéro : 06 00 00 00 00", "Camille\rMARTIN", "A\u2028B", "A\x00B"],
)
def test_a_field_cannot_fake_a_line(name: str) -> None:
    with pytest.raises(ValueError):
        challenge_text(lang="fr", **{**CHALLENGE, "customer_name": name})


# --- Device signatures -------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(size, "big")),
            "y": b64url(numbers.y.to_bytes(size, "big"))}


def sign_p1363(key: ec.EllipticCurvePrivateKey, message: str) -> str:
    """Sign as WebCrypto does: ECDSA P-256 / SHA-256, raw r‖s, base64url."""
    r, s = decode_dss_signature(key.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256())))
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@pytest.fixture(scope="module")
def device_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def message() -> str:
    return challenge_text(lang="fr", **CHALLENGE)


def test_a_genuine_signature_verifies(device_key: ec.EllipticCurvePrivateKey, message: str) -> None:
    assert verify_signature(public_jwk(device_key), message, sign_p1363(device_key, message))


def test_jwk_extra_members_from_webcrypto_are_ignored(
    device_key: ec.EllipticCurvePrivateKey, message: str
) -> None:
    jwk = {**public_jwk(device_key), "ext": True, "key_ops": ["verify"]}
    assert verify_signature(jwk, message, sign_p1363(device_key, message))


def test_tampered_message(device_key: ec.EllipticCurvePrivateKey, message: str) -> None:
    signature = sign_p1363(device_key, message)
    tampered = message.replace("07 98 76 54 32", "07 98 76 54 33")
    assert not verify_signature(public_jwk(device_key), tampered, signature)


def test_signature_of_another_key(device_key: ec.EllipticCurvePrivateKey, message: str) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    assert not verify_signature(public_jwk(device_key), message, sign_p1363(other, message))


def test_der_signature_is_not_accepted(
    device_key: ec.EllipticCurvePrivateKey, message: str
) -> None:
    der = device_key.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    assert not verify_signature(public_jwk(device_key), message, b64url(der))


def _flip_last_byte(signature: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw[-1] ^= 1
    return b64url(bytes(raw))


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda s: s[:-4], id="truncated"),
        pytest.param(lambda s: s + "AAAA", id="too long"),
        pytest.param(_flip_last_byte, id="one bit flipped"),
        pytest.param(lambda s: "", id="empty"),
        pytest.param(lambda s: "!!not base64!!", id="garbage"),
        pytest.param(lambda s: s[:10] + "+/" + s[12:], id="standard base64 alphabet"),
        pytest.param(lambda s: b64url(bytes(64)), id="zero r and s"),
        pytest.param(lambda s: None, id="not a string"),
    ],
)
def test_malformed_signature(device_key: ec.EllipticCurvePrivateKey, message: str, mangle) -> None:
    signature = mangle(sign_p1363(device_key, message))
    assert verify_signature(public_jwk(device_key), message, signature) is False


def _off_curve(jwk: dict[str, str]) -> dict[str, str]:
    y = int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "="), "big")
    return {**jwk, "y": b64url(((y + 1) % 2**256).to_bytes(32, "big"))}


BAD_JWKS = [
    pytest.param(_off_curve, id="point not on the curve"),
    pytest.param(lambda j: {**j, "crv": "P-384"}, id="other curve"),
    pytest.param(lambda j: {**j, "kty": "RSA"}, id="other key type"),
    pytest.param(lambda j: {k: v for k, v in j.items() if k != "y"}, id="missing y"),
    pytest.param(lambda j: {**j, "x": j["x"][:-2]}, id="short x"),
    pytest.param(lambda j: {**j, "x": "%%%"}, id="garbage x"),
    pytest.param(lambda j: {**j, "x": 12}, id="x not a string"),
    pytest.param(lambda j: "not a dict", id="not an object"),
    pytest.param(lambda j: None, id="none"),
]


@pytest.mark.parametrize("mangle", BAD_JWKS)
def test_malformed_key_never_verifies(device_key: ec.EllipticCurvePrivateKey, message: str,
                                      mangle) -> None:
    jwk = mangle(public_jwk(device_key))
    assert verify_signature(jwk, message, sign_p1363(device_key, message)) is False


@pytest.mark.parametrize("mangle", BAD_JWKS)
def test_malformed_key_is_refused_at_enrollment(device_key: ec.EllipticCurvePrivateKey,
                                                mangle) -> None:
    with pytest.raises(ValueError):
        validate_public_jwk(mangle(public_jwk(device_key)))


def test_validate_public_jwk_normalizes(device_key: ec.EllipticCurvePrivateKey) -> None:
    jwk = public_jwk(device_key)
    padded = {**jwk, "x": jwk["x"] + "=", "ext": True, "key_ops": ["verify"]}
    assert validate_public_jwk(padded) == jwk


def test_non_ascii_message(device_key: ec.EllipticCurvePrivateKey) -> None:
    text = "Client : Inès GARNIER — Expire à : 12:00"
    assert verify_signature(public_jwk(device_key), text, sign_p1363(device_key, text))


# --- The 4-digit code -------------------------------------------------------------------------

SECRET = b"server-side secret for tests"


@pytest.mark.parametrize("code", ["4827", "0000", "9999"])
def test_valid_code_format(code: str) -> None:
    assert is_valid_code_format(code)


@pytest.mark.parametrize(
    "code", ["", "482", "48270", "48a7", " 4827", "4827\n", "٤٨٢٧", "４８２７", None, 4827]
)
def test_invalid_code_format(code: object) -> None:
    assert not is_valid_code_format(code)


def test_code_hash_is_keyed_and_bound_to_its_subject() -> None:
    stored = hash_code(SECRET, "enrollment-1", "4827")
    assert len(stored) == 64 and int(stored, 16) >= 0
    assert stored == hash_code(SECRET, "enrollment-1", "4827")
    assert stored != hash_code(b"another secret", "enrollment-1", "4827")
    assert stored != hash_code(SECRET, "enrollment-2", "4827")
    assert stored != hash_code(SECRET, "enrollment-1", "4828")


def test_hashing_a_malformed_code_is_refused() -> None:
    with pytest.raises(ValueError):
        hash_code(SECRET, "enrollment-1", "48270")


def test_code_matches() -> None:
    stored = hash_code(SECRET, "enrollment-1", "4827")
    assert code_matches(SECRET, "enrollment-1", "4827", stored)
    assert not code_matches(SECRET, "enrollment-1", "4828", stored)
    assert not code_matches(SECRET, "enrollment-2", "4827", stored)
    assert not code_matches(b"another secret", "enrollment-1", "4827", stored)


@pytest.mark.parametrize("code", ["４８２７", "4827 ", "48270", "", "٤٨٢٧"])
def test_a_malformed_code_never_matches(code: str) -> None:
    stored = hash_code(SECRET, "enrollment-1", "4827")
    assert not code_matches(SECRET, "enrollment-1", code, stored)


@pytest.mark.parametrize("stored", ["", "garbage", "é" * 64])
def test_a_corrupt_stored_hash_never_matches(stored: str) -> None:
    assert not code_matches(SECRET, "enrollment-1", "4827", stored)


# --- Approval decision --------------------------------------------------------------------------

GOOD = ApprovalFacts(
    status=Status.PENDING_APPROVAL,
    device_belongs_to_customer=True,
    device_active=True,
    signature_valid=True,
    nonce_already_used=False,
    code_correct=True,
    securpass_blocked=False,
    consecutive_wrong_codes=0,
    number_still_available=True,
    eligible=True,
)


def rejected(rejection: Rejection) -> ApprovalDecision:
    return ApprovalDecision(accepted=False, rejection=rejection, block_securpass=False,
                            tries_left=None)


def test_everything_right_is_accepted() -> None:
    assert decide_approval(GOOD) == ApprovalDecision(
        accepted=True, rejection=None, block_securpass=False, tries_left=None
    )


def test_earlier_wrong_codes_do_not_prevent_a_right_one() -> None:
    assert decide_approval(replace(GOOD, consecutive_wrong_codes=2)).accepted


@pytest.mark.parametrize(
    ("changes", "rejection"),
    [
        ({"status": Status.SUPERSEDED}, Rejection.SUPERSEDED),
        ({"status": Status.EXPIRED}, Rejection.EXPIRED),
        ({"status": Status.APPLYING}, Rejection.NOT_PENDING),
        ({"status": Status.COMPLETED}, Rejection.NOT_PENDING),
        ({"status": Status.CANCELLED}, Rejection.NOT_PENDING),
        ({"status": Status.REFUSED}, Rejection.NOT_PENDING),
        ({"status": Status.BLOCKED}, Rejection.NOT_PENDING),
        ({"status": Status.FAILED}, Rejection.NOT_PENDING),
        ({"securpass_blocked": True}, Rejection.SECURPASS_BLOCKED),
        ({"device_belongs_to_customer": False}, Rejection.WRONG_DEVICE),
        ({"device_active": False}, Rejection.WRONG_DEVICE),
        ({"signature_valid": False}, Rejection.BAD_SIGNATURE),
        ({"nonce_already_used": True}, Rejection.NONCE_REUSED),
        ({"eligible": False}, Rejection.NOT_ELIGIBLE),
        ({"number_still_available": False}, Rejection.NUMBER_CHANGED),
    ],
)
def test_each_rejection_alone(changes: dict[str, object], rejection: Rejection) -> None:
    assert decide_approval(replace(GOOD, **changes)) == rejected(rejection)


@pytest.mark.parametrize(
    ("wrong_before", "tries_left", "block"),
    [(0, 2, False), (1, 1, False), (2, 0, True), (5, 0, True)],
)
def test_wrong_code_counts_down_then_blocks(
    wrong_before: int, tries_left: int, block: bool
) -> None:
    facts = replace(GOOD, code_correct=False, consecutive_wrong_codes=wrong_before)
    assert decide_approval(facts) == ApprovalDecision(
        accepted=False, rejection=Rejection.WRONG_CODE, block_securpass=block,
        tries_left=tries_left,
    )


def test_wrong_code_limit_comes_from_the_policy() -> None:
    policy = replace(DEFAULT_POLICY, securpass_max_wrong_codes=5)
    decision = decide_approval(replace(GOOD, code_correct=False, consecutive_wrong_codes=2), policy)
    assert decision.tries_left == 2 and not decision.block_securpass


# Faults in checking order: each one hides every fault after it.
ORDERED_FAULTS = [
    ({"status": Status.SUPERSEDED}, Rejection.SUPERSEDED),
    ({"securpass_blocked": True}, Rejection.SECURPASS_BLOCKED),
    ({"device_belongs_to_customer": False}, Rejection.WRONG_DEVICE),
    ({"signature_valid": False}, Rejection.BAD_SIGNATURE),
    ({"nonce_already_used": True}, Rejection.NONCE_REUSED),
    ({"code_correct": False, "consecutive_wrong_codes": 2}, Rejection.WRONG_CODE),
    ({"eligible": False}, Rejection.NOT_ELIGIBLE),
    ({"number_still_available": False}, Rejection.NUMBER_CHANGED),
]


@pytest.mark.parametrize("first", range(len(ORDERED_FAULTS)))
def test_the_first_fault_in_order_decides(first: int) -> None:
    changes: dict[str, object] = {}
    for fault, _ in ORDERED_FAULTS[first:]:
        changes.update(fault)
    assert decide_approval(replace(GOOD, **changes)).rejection is ORDERED_FAULTS[first][1]


def test_a_wrong_code_after_a_bad_signature_does_not_count() -> None:
    facts = replace(GOOD, signature_valid=False, code_correct=False, consecutive_wrong_codes=2)
    assert decide_approval(facts) == rejected(Rejection.BAD_SIGNATURE)


@pytest.mark.parametrize("status", [Status.SUPERSEDED, Status.EXPIRED, Status.COMPLETED])
def test_a_dead_request_never_blocks_securpass(status: Status) -> None:
    facts = replace(GOOD, status=status, code_correct=False, consecutive_wrong_codes=2)
    assert not decide_approval(facts).block_securpass


def test_rejection_values_are_lowercase_names() -> None:
    assert all(member.value == member.name.lower() for member in Rejection)
    assert Rejection.NOT_FOUND in Rejection  # decided by the services before any facts exist
