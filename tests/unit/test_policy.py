"""Policy defaults are the values of PRODUCT.md; backoff; configuration checks."""

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest

from secure_phone.domain.policy import DEFAULT_POLICY, Policy

EU_27 = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}
OVERSEAS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("approval_ttl", timedelta(minutes=5)),
        ("securpass_max_wrong_codes", 3),
        ("sms_code_digits", 8),
        ("sms_code_ttl", timedelta(minutes=10)),
        ("sms_code_max_tries", 3),
        ("sms_codes_per_day", 3),
        ("change_requests_per_day", 3),
        ("rolling_window", timedelta(hours=24)),
        ("flow_inactivity_timeout", timedelta(minutes=5)),
        ("session_idle_timeout", timedelta(minutes=5)),  # PSD2 RTS Art. 4(3)(d), §12.2
        ("session_max_age", timedelta(hours=8)),
        ("login_max_failures", 5),
        ("login_lockout", timedelta(minutes=15)),
        ("login_failures_per_address", 20),
        ("login_address_window", timedelta(minutes=15)),
        ("password_hash_memory_kib", 19456),
        ("password_hash_iterations", 2),
        ("password_hash_lanes", 1),
        ("new_device_lock", timedelta(hours=72)),
        ("securpass_move_lock_after_change", timedelta(hours=72)),
        ("call_max_duration", timedelta(minutes=30)),
        ("call_report_interval", timedelta(minutes=2)),
        ("number_reuse_window", timedelta(days=365)),
        ("cooling_off", timedelta(hours=72)),
        ("stale_number_after", timedelta(days=365)),
        ("stale_prompt_max_later", 3),
        ("audit_retention", timedelta(days=365)),
        ("notification_max_attempts", 8),
        ("notification_backoff_base", timedelta(seconds=2)),
        ("notification_backoff_max", timedelta(minutes=5)),
        ("default_region", "FR"),
        ("overseas_regions", OVERSEAS),
    ],
)
def test_defaults_are_the_specified_values(name: str, expected: object) -> None:
    assert getattr(DEFAULT_POLICY, name) == expected


def test_default_policy_is_the_default_instance() -> None:
    assert Policy() == DEFAULT_POLICY


def test_allowed_regions_are_france_overseas_eu_eea_ch_gb_mc_ad() -> None:
    expected = {"FR", *OVERSEAS, *EU_27, "IS", "LI", "NO", "CH", "GB", "MC", "AD"}
    assert DEFAULT_POLICY.allowed_regions == expected


@pytest.mark.parametrize("region", ["US", "MA", "DZ", "TN", "RU", "TR", "CN", "GG", "JE", "IM"])
def test_other_countries_are_not_allowed(region: str) -> None:
    assert region not in DEFAULT_POLICY.allowed_regions


def test_every_allowed_region_is_known_to_phonenumbers() -> None:
    assert DEFAULT_POLICY.allowed_regions <= phonenumbers.SUPPORTED_REGIONS


def test_policy_is_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        DEFAULT_POLICY.approval_ttl = timedelta(hours=1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 64), (7, 128), (8, 256), (9, 300), (10, 300),
     (10_000, 300)],
)
def test_notification_backoff_doubles_then_is_capped(attempt: int, seconds: int) -> None:
    assert DEFAULT_POLICY.notification_backoff(attempt) == timedelta(seconds=seconds)


@pytest.mark.parametrize("attempt", [0, -1])
def test_notification_backoff_attempts_start_at_one(attempt: int) -> None:
    with pytest.raises(ValueError):
        DEFAULT_POLICY.notification_backoff(attempt)


def test_a_policy_can_be_tuned() -> None:
    tuned = replace(DEFAULT_POLICY, securpass_max_wrong_codes=5, allowed_regions=frozenset({"FR"}),
                    overseas_regions=())
    assert tuned.securpass_max_wrong_codes == 5
    assert DEFAULT_POLICY.securpass_max_wrong_codes == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"approval_ttl": timedelta(0)},
        {"sms_code_digits": 0},
        {"securpass_max_wrong_codes": -1},
        {"notification_backoff_max": timedelta(seconds=-1)},
        {"default_region": "US"},
        {"allowed_regions": frozenset({"FR"})},  # overseas regions no longer allowed
        {"password_hash_memory_kib": 4096, "password_hash_iterations": 20},  # too little memory
        {"password_hash_iterations": 1},  # 19 MiB × 1 pass: below OWASP's rows
    ],
)
def test_an_unworkable_policy_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(DEFAULT_POLICY, **changes)


@pytest.mark.parametrize(("memory_kib", "iterations"), [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)])
def test_owasp_argon2id_settings_are_accepted(memory_kib: int, iterations: int) -> None:
    tuned = replace(DEFAULT_POLICY, password_hash_memory_kib=memory_kib, password_hash_iterations=iterations)
    assert tuned.password_hash_memory_kib * tuned.password_hash_iterations >= 35840


def test_the_change_flow_ends_after_five_minutes_without_a_step() -> None:
    """§5.3: 5 minutes of inactivity end the flow; exactly 5 minutes do not; a flow not started never does."""
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    policy = DEFAULT_POLICY
    assert not policy.flow_timed_out(start, start + timedelta(minutes=5))
    assert policy.flow_timed_out(start, start + timedelta(minutes=5, seconds=1))
    assert not policy.flow_timed_out(None, start + timedelta(days=1))
    assert Policy(flow_inactivity_timeout=timedelta(minutes=1)).flow_timed_out(start, start + timedelta(seconds=61))


def test_a_bank_call_not_ended_by_its_advisor_ends_by_itself() -> None:
    """§12.5: a forgotten call stops vouching for the bank after call_max_duration (the limit itself included)."""
    start = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    policy = DEFAULT_POLICY
    assert not policy.call_timed_out(start, start)
    assert not policy.call_timed_out(start, start + timedelta(minutes=29, seconds=59))
    assert policy.call_timed_out(start, start + timedelta(minutes=30))
    assert policy.call_timed_out(start, start + timedelta(days=3))
    assert Policy(call_max_duration=timedelta(minutes=1)).call_timed_out(start, start + timedelta(seconds=60))
    with pytest.raises(ValueError):
        Policy(call_max_duration=timedelta(0))


def test_a_report_without_a_bank_call_is_counted_once_per_interval() -> None:
    """§12.5: taps on « Signaler cet appel » within call_report_interval of the last report repeat it."""
    last = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
    policy = DEFAULT_POLICY
    assert not policy.call_report_repeated(None, last)
    assert policy.call_report_repeated(last, last)
    assert policy.call_report_repeated(last, last + timedelta(minutes=1, seconds=59))
    assert not policy.call_report_repeated(last, last + timedelta(minutes=2))
