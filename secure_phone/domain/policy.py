"""Every configurable figure of the product (PRODUCT.md, figures marked *policy*), in one place."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

FRENCH_OVERSEAS_REGIONS: tuple[str, ...] = (
    "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC",
)
"""Overseas departments and territories numbered in the French plan (ISO 3166 codes)."""

EU_EEA_REGIONS: frozenset[str] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    "IS", "LI", "NO",
})
"""Member states of the European Union and of the European Economic Area."""

DEFAULT_ALLOWED_REGIONS: frozenset[str] = frozenset(
    {"FR", *FRENCH_OVERSEAS_REGIONS, *EU_EEA_REGIONS, "CH", "GB", "MC", "AD"}
)
"""France and its overseas, the EU/EEA, Switzerland, the United Kingdom, Monaco and Andorra."""


@dataclass(frozen=True)
class Policy:
    """Limits, durations and accepted countries; `DEFAULT_POLICY` holds the specified values."""

    # Sécur'Pass approval (§5.3, §6)
    approval_ttl: timedelta = timedelta(minutes=5)
    securpass_max_wrong_codes: int = 3
    # The new number is proven (§12.3): a code to the new number before any Sécur'Pass request (off: the
    # seed's journey exactly). Its tries, lifetime and daily sends are the SMS codes' below.
    new_number_proof: bool = True
    proof_code_digits: int = 6
    # SMS codes (J4, J7)
    sms_code_digits: int = 8
    sms_code_ttl: timedelta = timedelta(minutes=10)
    sms_code_max_tries: int = 3
    sms_codes_per_day: int = 3
    # Rate limits and sessions
    change_requests_per_day: int = 3
    rolling_window: timedelta = timedelta(hours=24)
    flow_inactivity_timeout: timedelta = timedelta(minutes=5)
    # PSD2 RTS Art. 4(3)(d): at most 5 minutes of inactivity; the server's timer, not the page's (§12.2).
    session_idle_timeout: timedelta = timedelta(minutes=5)
    session_max_age: timedelta = timedelta(hours=8)
    login_max_failures: int = 5
    login_lockout: timedelta = timedelta(minutes=15)
    # Failures from one client address, whatever the identifiers tried: beyond, that address is refused
    # for the rest of the window (nobody can probe or lock every identifier from one place).
    login_failures_per_address: int = 20
    login_address_window: timedelta = timedelta(minutes=15)
    # New phones registered from one client address (the app's first start, outside demo mode).
    device_registrations_per_address: int = 10
    device_registration_window: timedelta = timedelta(hours=1)
    # Password hashes: argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane: ~40 ms of
    # one core here). argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs ~300 ms of CPU per login,
    # which a login burst turns into seconds of queueing for everyone (docs/benchmarks.md). Stored
    # hashes made with other parameters are rehashed at the next successful login.
    password_hash_memory_kib: int = 19456
    password_hash_iterations: int = 2
    password_hash_lanes: int = 1
    # Anti-takeover
    new_device_lock: timedelta = timedelta(hours=72)
    cooling_off: timedelta = timedelta(hours=72)
    # No Sécur'Pass move to a new phone online this long after a change of secure number (§12.2): a
    # fraudster who had a victim approve a change to his number must not take Sécur'Pass with it.
    securpass_move_lock_after_change: timedelta = timedelta(hours=72)
    # A number that was another customer's secure number this recently is refused like a number held now
    # (mule numbers, §12.2).
    number_reuse_window: timedelta = timedelta(days=365)
    # An advisor's in-branch operation waiting for the second advisor's validation (four eyes).
    advisor_validation_ttl: timedelta = timedelta(hours=2)
    # « Is my bank calling me? » (§12.5): a call an advisor forgot to end stops showing in the app by itself
    # after this long — a call still shown once it is over would vouch for the next fraudster's call.
    call_max_duration: timedelta = timedelta(minutes=30)
    # The customer's report of a call: once per bank call; without one, at most once per this interval.
    call_report_interval: timedelta = timedelta(minutes=2)
    # The operator's fraud signals (§12.4): a SIM change of the current secure number this recent stops the online
    # change and the online Sécur'Pass move (J6); of the new number, it sends the change to the advisor. With no
    # answer from the operator, fail closed (the advisor) or open (go on, the missing answer recorded).
    sim_swap_max_age: timedelta = timedelta(hours=72)
    operator_fail_closed: bool = True
    # The operator is asked only once every local rule let the request through, and sparingly: the same questions
    # (purpose, numbers, names) within this window after answers that stopped the journey (or warned the advisor)
    # get those answers again (a replayed, refused « Confirmer » costs no call; a clean answer is always asked
    # again); at most so many assessments of one customer, or by one advisor, per window — beyond, nothing is
    # asked and the verdict is that of no answer, failing closed whatever operator_fail_closed says.
    operator_answer_reuse: timedelta = timedelta(minutes=2)
    operator_check_window: timedelta = timedelta(hours=1)
    operator_checks_per_customer: int = 20
    operator_checks_per_advisor: int = 120
    # Stale number prompt (J7)
    stale_number_after: timedelta = timedelta(days=365)
    stale_prompt_max_later: int = 3
    # Audit and notifications
    audit_retention: timedelta = timedelta(days=365)
    notification_max_attempts: int = 8
    notification_backoff_base: timedelta = timedelta(seconds=2)
    notification_backoff_max: timedelta = timedelta(minutes=5)
    # Phone numbers (§5.1)
    default_region: str = "FR"
    allowed_regions: frozenset[str] = DEFAULT_ALLOWED_REGIONS
    overseas_regions: tuple[str, ...] = FRENCH_OVERSEAS_REGIONS

    def __post_init__(self) -> None:
        """Refuse a configuration that cannot work (non-positive figures, inconsistent regions)."""
        for f in fields(self):
            value = getattr(self, f.name)
            too_small = (value <= timedelta(0) if isinstance(value, timedelta)
                         else isinstance(value, int) and not isinstance(value, bool) and value <= 0)
            if too_small:
                raise ValueError(f"Policy.{f.name} must be positive, got {value!r}")
        memory, passes = self.password_hash_memory_kib, self.password_hash_iterations
        if memory < 7168 or memory * passes < 35840:
            # OWASP's weakest acceptable argon2id setting: 7 MiB × 5 passes (its other rows trade memory for passes).
            raise ValueError("Policy.password_hash_* is weaker than OWASP's argon2id minimum")
        if self.default_region not in self.allowed_regions:
            raise ValueError("Policy.default_region must be one of allowed_regions")
        if not set(self.overseas_regions) <= self.allowed_regions:
            raise ValueError("Policy.overseas_regions must be a subset of allowed_regions")

    def flow_timed_out(self, last_step: datetime | None, now: datetime) -> bool:
        """§5.3: a change flow whose last step was at ``last_step`` (None: not started) has ended by ``now``."""
        return last_step is not None and now - last_step > self.flow_inactivity_timeout

    def call_timed_out(self, started_at: datetime, now: datetime) -> bool:
        """§12.5: a bank call started at ``started_at`` and not ended by its advisor has ended by itself by ``now``."""
        return now - started_at >= self.call_max_duration

    def call_report_repeated(self, last_report: datetime | None, now: datetime) -> bool:
        """§12.5: a report of a call made without a bank call in progress repeats one made at ``last_report``
        (a double tap, a frightened customer tapping again): one audit entry and one alert, not ten."""
        return last_report is not None and now - last_report < self.call_report_interval

    def notification_backoff(self, attempt: int) -> timedelta:
        """Delay before retry `attempt` (1-based): base, 2×base, 4×base… capped at the max."""
        if attempt < 1:
            raise ValueError("attempt is 1-based")
        delay = self.notification_backoff_base
        for _ in range(attempt - 1):
            if delay >= self.notification_backoff_max:
                break
            delay *= 2
        return min(delay, self.notification_backoff_max)


DEFAULT_POLICY = Policy()
