"""Who may change their secure number online (PRODUCT.md §5.2, §5.3 new-device lock)."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from secure_phone.domain.eligibility import (
    CustomerProfile,
    Eligibility,
    Ineligibility,
    LegalProtection,
    PersonType,
    SecurPassStatus,
    Subscription,
    age_on,
    check_eligibility,
)
from secure_phone.domain.policy import DEFAULT_POLICY

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)

CAMILLE = CustomerProfile(
    person_type=PersonType.NATURAL,
    birth_date=date(1992, 5, 14),
    emancipated=False,
    subscription=Subscription.PARTICULIER,
    legal_protection=LegalProtection.NONE,
    securpass=SecurPassStatus.ACTIVE,
    has_enrolled_device=True,
    device_enrolled_at=None,
)


def reasons(profile: CustomerProfile, now: datetime = NOW) -> tuple[Ineligibility, ...]:
    return check_eligibility(profile, now).reasons


def born_years_ago(years: int, now: datetime = NOW) -> date:
    return now.date().replace(year=now.year - years)


# --- Personas of PRODUCT.md §3 ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        pytest.param(CAMILLE, (), id="Camille, particulier"),
        pytest.param(replace(CAMILLE, subscription=Subscription.ENTREPRENEUR_INDIVIDUEL), (),
                     id="Julien, entrepreneur individuel"),
        pytest.param(replace(CAMILLE, birth_date=born_years_ago(17), emancipated=True), (),
                     id="Inès, emancipated minor"),
        pytest.param(replace(CAMILLE, birth_date=born_years_ago(16)), (Ineligibility.MINOR,),
                     id="Léa, minor"),
        pytest.param(replace(CAMILLE, securpass=SecurPassStatus.NONE, has_enrolled_device=False),
                     (Ineligibility.NO_SECURPASS,), id="Hugo, no Sécur'Pass"),
        pytest.param(
            replace(CAMILLE, person_type=PersonType.LEGAL, birth_date=None,
                    subscription=Subscription.PROFESSIONNEL),
            (Ineligibility.LEGAL_PERSON, Ineligibility.PROFESSIONAL_SUBSCRIPTION),
            id="SARL Atelier Roux",
        ),
        pytest.param(replace(CAMILLE, legal_protection=LegalProtection.TUTELLE),
                     (Ineligibility.PROTECTED_ADULT,), id="Marc, tutelle"),
    ],
)
def test_personas(profile: CustomerProfile, expected: tuple[Ineligibility, ...]) -> None:
    assert reasons(profile) == expected


# --- Each reason on its own ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"person_type": PersonType.LEGAL, "birth_date": None}, Ineligibility.LEGAL_PERSON),
        ({"subscription": Subscription.NONE}, Ineligibility.NO_REMOTE_BANKING),
        ({"subscription": Subscription.PROFESSIONNEL}, Ineligibility.PROFESSIONAL_SUBSCRIPTION),
        ({"birth_date": date(2010, 1, 1)}, Ineligibility.MINOR),
        ({"birth_date": None}, Ineligibility.MINOR),  # an unknown age is not an adult's
        ({"legal_protection": LegalProtection.TUTELLE}, Ineligibility.PROTECTED_ADULT),
        ({"legal_protection": LegalProtection.CURATELLE}, Ineligibility.PROTECTED_ADULT),
        ({"securpass": SecurPassStatus.NONE, "has_enrolled_device": False},
         Ineligibility.NO_SECURPASS),
        ({"securpass": SecurPassStatus.BLOCKED}, Ineligibility.SECURPASS_BLOCKED),
        ({"has_enrolled_device": False}, Ineligibility.NO_ENROLLED_DEVICE),
        ({"device_enrolled_at": NOW - timedelta(hours=1)}, Ineligibility.RECENT_DEVICE_CHANGE),
    ],
)
def test_each_reason_alone(changes: dict[str, object], reason: Ineligibility) -> None:
    eligibility = check_eligibility(replace(CAMILLE, **changes), NOW)
    assert eligibility.reasons == (reason,)
    assert not eligibility.eligible
    assert eligibility.primary is reason


def test_eligible_customer() -> None:
    eligibility = check_eligibility(CAMILLE, NOW)
    assert eligibility == Eligibility(reasons=())
    assert eligibility.eligible
    assert eligibility.primary is None


def test_all_reasons_are_reported_in_a_fixed_order() -> None:
    worst = CustomerProfile(
        person_type=PersonType.LEGAL,
        birth_date=None,
        emancipated=False,
        subscription=Subscription.NONE,
        legal_protection=LegalProtection.CURATELLE,
        securpass=SecurPassStatus.BLOCKED,
        has_enrolled_device=False,
        device_enrolled_at=NOW,
    )
    assert reasons(worst) == (
        Ineligibility.LEGAL_PERSON,
        Ineligibility.NO_REMOTE_BANKING,
        Ineligibility.PROTECTED_ADULT,
        Ineligibility.SECURPASS_BLOCKED,
        Ineligibility.NO_ENROLLED_DEVICE,
        Ineligibility.RECENT_DEVICE_CHANGE,
    )
    assert check_eligibility(worst, NOW).primary is Ineligibility.LEGAL_PERSON


def test_a_natural_minor_reports_every_reason_in_order() -> None:
    profile = replace(CAMILLE, birth_date=date(2012, 1, 1), subscription=Subscription.PROFESSIONNEL,
                      legal_protection=LegalProtection.TUTELLE, securpass=SecurPassStatus.NONE,
                      has_enrolled_device=False)
    assert reasons(profile) == (
        Ineligibility.PROFESSIONAL_SUBSCRIPTION,
        Ineligibility.MINOR,
        Ineligibility.PROTECTED_ADULT,
        Ineligibility.NO_SECURPASS,
    )


def test_without_securpass_the_missing_device_is_not_reported_twice() -> None:
    profile = replace(CAMILLE, securpass=SecurPassStatus.NONE, has_enrolled_device=False)
    assert Ineligibility.NO_ENROLLED_DEVICE not in reasons(profile)


def test_a_legal_person_is_not_also_called_a_minor() -> None:
    profile = replace(CAMILLE, person_type=PersonType.LEGAL, birth_date=None)
    assert Ineligibility.MINOR not in reasons(profile)


def test_an_emancipated_adult_is_just_an_adult() -> None:
    assert reasons(replace(CAMILLE, emancipated=True)) == ()


# --- Age ----------------------------------------------------------------------------------------

EIGHTEENTH_BIRTHDAY = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
BORN = date(2008, 11, 26)


@pytest.mark.parametrize(
    ("now", "minor"),
    [
        (EIGHTEENTH_BIRTHDAY - timedelta(days=1), True),
        (EIGHTEENTH_BIRTHDAY - timedelta(microseconds=1), True),
        (EIGHTEENTH_BIRTHDAY, False),
        (EIGHTEENTH_BIRTHDAY + timedelta(days=1), False),
    ],
)
def test_adult_from_the_eighteenth_birthday(now: datetime, minor: bool) -> None:
    assert (Ineligibility.MINOR in reasons(replace(CAMILLE, birth_date=BORN), now)) is minor


@pytest.mark.parametrize(
    ("today", "minor"),
    [
        (date(2026, 2, 28), True),  # born 29 Feb 2008: no 29 Feb in 2026
        (date(2026, 3, 1), False),
        (date(2028, 2, 28), False),
    ],
)
def test_born_on_29_february(today: date, minor: bool) -> None:
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    profile = replace(CAMILLE, birth_date=date(2008, 2, 29))
    assert (Ineligibility.MINOR in reasons(profile, now)) is minor


def test_age_is_taken_on_the_utc_date() -> None:
    paris = timezone(timedelta(hours=1))
    just_before_utc_midnight = datetime(2026, 11, 26, 0, 30, tzinfo=paris)  # 25 Nov, 23:30 UTC
    profile = replace(CAMILLE, birth_date=BORN)
    assert Ineligibility.MINOR in reasons(profile, just_before_utc_midnight)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 6, 15), date(2018, 6, 14), 17),
        (date(2000, 6, 15), date(2018, 6, 15), 18),
        (date(2000, 6, 15), date(2019, 1, 1), 18),
        (date(2000, 2, 29), date(2001, 2, 28), 0),
        (date(2000, 2, 29), date(2001, 3, 1), 1),
        (date(2000, 2, 29), date(2004, 2, 29), 4),
    ],
)
def test_age_on(birth: date, day: date, age: int) -> None:
    assert age_on(birth, day) == age


# --- 72-hour lock after Sécur'Pass moved to a new phone ---------------------------------------

@pytest.mark.parametrize(
    ("moved_ago", "locked"),
    [
        (timedelta(0), True),
        (timedelta(hours=71, minutes=59, seconds=59), True),
        (timedelta(hours=72), False),
        (timedelta(days=30), False),
        (-timedelta(minutes=1), True),  # clock skew: a move "in the future" is still recent
    ],
)
def test_recent_device_change(moved_ago: timedelta, locked: bool) -> None:
    profile = replace(CAMILLE, device_enrolled_at=NOW - moved_ago)
    assert (Ineligibility.RECENT_DEVICE_CHANGE in reasons(profile)) is locked


def test_device_lock_comes_from_the_policy() -> None:
    profile = replace(CAMILLE, device_enrolled_at=NOW - timedelta(hours=2))
    short_lock = replace(DEFAULT_POLICY, new_device_lock=timedelta(hours=1))
    assert check_eligibility(profile, NOW, short_lock).eligible
    assert not check_eligibility(profile, NOW).eligible


def test_enum_values_are_lowercase_names() -> None:
    for enum in (PersonType, Subscription, LegalProtection, SecurPassStatus, Ineligibility):
        for member in enum:
            assert member.value == member.name.lower()
