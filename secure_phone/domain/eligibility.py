"""Who may change their secure number online (PRODUCT.md §5.2 and the 72-hour lock of §5.3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum

from secure_phone.domain.policy import DEFAULT_POLICY, Policy

ADULT_AGE = 18


class PersonType(str, Enum):
    """Natural person (individual) or legal person (company, association…)."""

    NATURAL = "natural"
    LEGAL = "legal"


class Subscription(str, Enum):
    """Type of *Banque à distance* subscription."""

    PARTICULIER = "particulier"
    ENTREPRENEUR_INDIVIDUEL = "entrepreneur_individuel"
    PROFESSIONNEL = "professionnel"
    NONE = "none"


class LegalProtection(str, Enum):
    """Legal protection measure of an adult."""

    NONE = "none"
    TUTELLE = "tutelle"
    CURATELLE = "curatelle"


class SecurPassStatus(str, Enum):
    """State of the customer's Sécur'Pass: never activated, active, or blocked."""

    NONE = "none"
    ACTIVE = "active"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class CustomerProfile:
    """What eligibility depends on.

    `device_enrolled_at` is when Sécur'Pass was last bound to a phone by an SMS code (J4, a first
    activation included: a swapped SIM plus a stolen password must not be enough to take over the
    number); None when the binding was made otherwise (e.g. in branch).
    """

    person_type: PersonType
    birth_date: date | None
    emancipated: bool
    subscription: Subscription
    legal_protection: LegalProtection
    securpass: SecurPassStatus
    has_enrolled_device: bool
    device_enrolled_at: datetime | None
    frozen: bool = False  # after a « not me » refusal, until an advisor clears it (§12.2)


class Ineligibility(str, Enum):
    """Why a customer cannot change their secure number online; listed in checking order."""

    LEGAL_PERSON = "legal_person"
    NO_REMOTE_BANKING = "no_remote_banking"
    PROFESSIONAL_SUBSCRIPTION = "professional_subscription"
    MINOR = "minor"
    PROTECTED_ADULT = "protected_adult"
    FROZEN = "frozen"
    NO_SECURPASS = "no_securpass"
    SECURPASS_BLOCKED = "securpass_blocked"
    NO_ENROLLED_DEVICE = "no_enrolled_device"
    RECENT_DEVICE_CHANGE = "recent_device_change"


@dataclass(frozen=True)
class Eligibility:
    """All the reasons that apply, in `Ineligibility` order; none means eligible."""

    reasons: tuple[Ineligibility, ...]

    @property
    def eligible(self) -> bool:
        """True when no reason applies."""
        return not self.reasons

    @property
    def primary(self) -> Ineligibility | None:
        """The reason to show first, or None when eligible."""
        return self.reasons[0] if self.reasons else None


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on `day` (someone born on 29 February ages on 1 March in common years)."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def _is_minor(profile: CustomerProfile, now: datetime) -> bool:
    """A natural person without a known birth date cannot prove they are an adult."""
    if profile.birth_date is None:
        return True
    today = now.astimezone(UTC).date()
    return age_on(profile.birth_date, today) < ADULT_AGE


def check_eligibility(
    profile: CustomerProfile, now: datetime, policy: Policy = DEFAULT_POLICY
) -> Eligibility:
    """Every reason why `profile` may not change the secure number online at `now` (aware UTC)."""
    natural = profile.person_type is PersonType.NATURAL
    securpass_on = profile.securpass is not SecurPassStatus.NONE
    checks = {
        Ineligibility.LEGAL_PERSON: not natural,
        Ineligibility.NO_REMOTE_BANKING: profile.subscription is Subscription.NONE,
        Ineligibility.PROFESSIONAL_SUBSCRIPTION: profile.subscription is Subscription.PROFESSIONNEL,
        Ineligibility.MINOR: natural and not profile.emancipated and _is_minor(profile, now),
        Ineligibility.PROTECTED_ADULT: profile.legal_protection is not LegalProtection.NONE,
        Ineligibility.FROZEN: profile.frozen,
        Ineligibility.NO_SECURPASS: not securpass_on,
        Ineligibility.SECURPASS_BLOCKED: profile.securpass is SecurPassStatus.BLOCKED,
        Ineligibility.NO_ENROLLED_DEVICE: securpass_on and not profile.has_enrolled_device,
        Ineligibility.RECENT_DEVICE_CHANGE: (
            profile.device_enrolled_at is not None
            and now - profile.device_enrolled_at < policy.new_device_lock
        ),
    }
    return Eligibility(tuple(reason for reason in Ineligibility if checks[reason]))


class MoveRefusal(str, Enum):
    """Why Sécur'Pass cannot move to a new phone online (J4); each sends the customer to the advisor."""

    FROZEN = "frozen"
    SECURPASS_BLOCKED = "securpass_blocked"
    RECENT_NUMBER_CHANGE = "recent_number_change"


def securpass_move_refusal(
    *, frozen: bool, securpass_blocked: bool, number_changed_at: datetime | None, now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> MoveRefusal | None:
    """Whether J4 may move Sécur'Pass to a new phone at ``now``, or why not (§5.3, §12.2).

    Within ``policy.securpass_move_lock_after_change`` of a change of secure number the move is refused:
    a customer talked into approving a change to a fraudster's number must not lose Sécur'Pass to the
    activation code that number now receives.
    """
    if frozen:
        return MoveRefusal.FROZEN
    if securpass_blocked:  # unblocking goes through the advisor
        return MoveRefusal.SECURPASS_BLOCKED
    if number_changed_at is not None and now - number_changed_at < policy.securpass_move_lock_after_change:
        return MoveRefusal.RECENT_NUMBER_CHANGE
    return None
