"""Phone numbers: checking a new secure number (PRODUCT.md §5.1), display and masking."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from secure_phone.domain.policy import DEFAULT_POLICY, FRENCH_OVERSEAS_REGIONS, Policy

MASK = "\u2022"  # "•"

_SEPARATORS = re.compile(r"[\s.()\-\u2010-\u2015\u2212]")
_DIGIT_RUN = re.compile(r"[0-9]+")
_SLASH_BETWEEN_DIGITS = re.compile(r"(?<=\d)/(?=\d)")  # "0151/23456789", "079/123 45 67"
_NUMBER_SHAPED = re.compile(r"\+?\d*")
_FRENCH_PLAN_DISPLAY = frozenset({"FR", *FRENCH_OVERSEAS_REGIONS})  # grouped by two
_FRENCH_COUNTRY_CODE = 33
_FRENCH_M2M_PREFIX = "700"  # 07 00 … : machine-to-machine, 14 digits with the leading 0
_FRENCH_M2M_NSN_LENGTH = 13

_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


class NumberProblem(str, Enum):
    """Why a new secure number is refused; each has its own message on the field.

    All but UNAVAILABLE come from `parse_new_number`; UNAVAILABLE needs the database and is raised
    by the services with `reject_unavailable()`.
    """

    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    INVALID = "invalid"  # looks like a number but does not exist
    AMBIGUOUS_TERRITORY = "ambiguous_territory"  # typed with France selected, a number in several territories
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    LANDLINE = "landline"
    VOIP = "voip"
    PREMIUM = "premium"
    SHARED_COST = "shared_cost"
    M2M = "m2m"
    TOLL_FREE = "toll_free"
    PAGER = "pager"
    UAN = "uan"  # a company's or a service's single number, routed to its lines
    PERSONAL_NUMBER = "personal_number"  # a forwarding number (UK 070, Swiss 0878…)
    VOICEMAIL = "voicemail"  # the access number of a voicemail box
    OTHER_NOT_MOBILE = "other_not_mobile"  # unknown, or a type without a problem of its own
    SAME_AS_CURRENT = "same_as_current"
    UNAVAILABLE = "unavailable"  # another customer's secure number: the message must stay generic


_TYPE_PROBLEMS: dict[int, NumberProblem] = {
    PhoneNumberType.FIXED_LINE: NumberProblem.LANDLINE,
    PhoneNumberType.VOIP: NumberProblem.VOIP,
    PhoneNumberType.PREMIUM_RATE: NumberProblem.PREMIUM,
    PhoneNumberType.SHARED_COST: NumberProblem.SHARED_COST,
    PhoneNumberType.TOLL_FREE: NumberProblem.TOLL_FREE,
    PhoneNumberType.PAGER: NumberProblem.PAGER,
    PhoneNumberType.UAN: NumberProblem.UAN,
    PhoneNumberType.PERSONAL_NUMBER: NumberProblem.PERSONAL_NUMBER,
    PhoneNumberType.VOICEMAIL: NumberProblem.VOICEMAIL,
}


class NumberRejected(ValueError):
    """A new number was refused; `problem` says why.

    For AMBIGUOUS_TERRITORY, `regions` names the territories (ISO 3166 codes) where the digits
    typed are a valid number; it is empty for every other problem.
    """

    def __init__(self, problem: NumberProblem, *, regions: tuple[str, ...] = ()) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.regions = regions


@dataclass(frozen=True)
class PhoneNumber:
    """A phone number in E.164 with its region (ISO 3166 code, e.g. "FR", "RE")."""

    e164: str
    region: str

    def _parsed(self) -> phonenumbers.PhoneNumber:
        return self._number

    @functools.cached_property
    def _number(self) -> phonenumbers.PhoneNumber:  # parsed once per number (the masks read it four times)
        return phonenumbers.parse(self.e164, None)

    @functools.cached_property
    def national(self) -> str:
        """National format; numbers of the French plan grouped by two ("06 92 12 34 56")."""
        text = phonenumbers.format_number(self._parsed(), PhoneNumberFormat.NATIONAL)
        digits = phonenumbers.normalize_digits_only(text)
        if self.region in _FRENCH_PLAN_DISPLAY and len(digits) % 2 == 0:
            return " ".join(digits[i:i + 2] for i in range(0, len(digits), 2))
        return text

    @property
    def international(self) -> str:
        """International format ("+33 6 12 34 56 78")."""
        return phonenumbers.format_number(self._parsed(), PhoneNumberFormat.INTERNATIONAL)

    def _shown(self) -> tuple[str, int, int]:
        return self._shown_once

    @functools.cached_property
    def _shown_once(self) -> tuple[str, int, int]:
        """`national`, and how many of its leading and trailing digits the masked form shows.

        The trunk prefix ("0" in "06 12 34 56 78", "06" in Hungary) is the same for every number of
        its country: it is shown and not counted. Of the number's own digits (the national
        significant number) at most a third are shown: the last two, then as many of the first
        group's as the third leaves ("06 12 34 56 78": 3 of 9; "07400 123456": "07" and "56").
        """
        text = self.national
        digits = phonenumbers.normalize_digits_only(text)
        nsn = phonenumbers.national_significant_number(self._parsed())
        trunk = len(digits) - len(nsn) if nsn and digits.endswith(nsn) else 0
        budget = (len(digits) - trunk) // 3
        tail = min(2, budget)
        first_group = _DIGIT_RUN.search(text)
        first_group_digits = len(first_group.group()) if first_group else 0
        lead = trunk + min(max(first_group_digits - trunk, 0), budget - tail)
        return text, lead, tail

    @property
    def masked(self) -> str:
        """`national` with every digit hidden but the first group's and the last two, at most a third.

        "06 12 34 56 78" → "06 •• •• •• 78", "07400 123456" → "07••• ••••56", "75 12 34" → "•• •• 34";
        the layout of `national` is kept. See `_shown` for the counting.
        """
        return _mask(*self._shown())

    @property
    def masked_first(self) -> str:
        """The leading digits `masked` shows ("06"; "" when it shows none), for screen readers."""
        text, lead, _tail = self._shown()
        return phonenumbers.normalize_digits_only(text)[:lead]

    @property
    def masked_last(self) -> str:
        """The trailing digits `masked` shows: `last_two`, fewer for a number of under six digits."""
        text, _lead, tail = self._shown()
        digits = phonenumbers.normalize_digits_only(text)
        return digits[len(digits) - tail:]

    @property
    def masked_but_last(self) -> str:
        """`national` with every digit hidden but the trailing ones `masked` shows: "•• •• •• •• 78"."""
        text, _lead, tail = self._shown()
        return _mask(text, 0, tail)

    @property
    def last_two(self) -> str:
        """The last two digits ("78")."""
        return self.e164[-2:]


def _mask(text: str, lead: int, tail: int) -> str:
    """`text` with every digit hidden by MASK but the first `lead` and the last `tail`."""
    total = sum(ch.isdigit() for ch in text)
    out: list[str] = []
    seen = 0
    for ch in text:
        if ch.isdigit():
            if lead <= seen < total - tail:
                ch = MASK
            seen += 1
        out.append(ch)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def phone_from_e164(e164: str) -> PhoneNumber:
    """Rebuild a stored E.164 number (ValueError if it is not E.164).

    Works even for a number that today's metadata no longer calls valid.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException as exc:
        raise ValueError(f"not an E.164 number: {e164!r}") from exc
    if phonenumbers.format_number(number, PhoneNumberFormat.E164) != e164:
        raise ValueError(f"not an E.164 number: {e164!r}")
    assert number.country_code is not None  # parse() sets it
    region = (phonenumbers.region_code_for_number(number)
              or phonenumbers.region_code_for_country_code(number.country_code))
    return PhoneNumber(e164=e164, region=region)


def region_of(e164: str) -> str:
    """The region (ISO 3166 code) of a stored E.164 number."""
    return phone_from_e164(e164).region


def selectable_regions(policy: Policy = DEFAULT_POLICY) -> list[str]:
    """Regions offered by the country selector: the default region first, then alphabetical."""
    others = sorted(policy.allowed_regions - {policy.default_region})
    return [policy.default_region, *others]


def _normalize(raw: str) -> str | None:
    """ASCII "+digits" or "digits" without separators, or None if the text is not number-shaped.

    A slash separates two groups of digits (spaces around it allowed: "0151 / 23456789"); anywhere
    else ("//", a leading or trailing slash, next to a dot or a bracket) the text is not a number.
    """
    text = unicodedata.normalize("NFKC", raw)
    if "/" in text:
        text = _SLASH_BETWEEN_DIGITS.sub("", re.sub(r"\s*/\s*", "/", text))
    text = _SEPARATORS.sub("", text)
    if not _NUMBER_SHAPED.fullmatch(text):
        return None
    plus = "+" if text.startswith("+") else ""
    return plus + phonenumbers.normalize_digits_only(text)


def format_as_you_type(raw: str, region: str) -> str:
    """Format a number being typed ("0612" → "06 12"); text that is not number-shaped is kept."""
    normalized = _normalize(raw)
    if normalized is None:
        return raw
    formatter = phonenumbers.AsYouTypeFormatter(region.upper())
    formatted = ""
    for ch in normalized:
        formatted = formatter.input_digit(ch)
    return formatted


def _parse(normalized: str, region: str) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(normalized, region)
    except NumberParseException as exc:
        raise NumberRejected(NumberProblem.INVALID) from exc


def _valid_readings(normalized: str, regions: tuple[str, ...]) -> list[phonenumbers.PhoneNumber]:
    """The distinct valid numbers that `normalized` is when typed under each of `regions`, in order."""
    readings: dict[str, phonenumbers.PhoneNumber] = {}
    for other in regions:
        try:
            candidate = phonenumbers.parse(normalized, other)
        except NumberParseException:
            continue
        if phonenumbers.is_valid_number(candidate):
            readings.setdefault(phonenumbers.format_number(candidate, PhoneNumberFormat.E164), candidate)
    return list(readings.values())


def _french_plan_reading(
    normalized: str, region: str, number: phonenumbers.PhoneNumber, policy: Policy
) -> phonenumbers.PhoneNumber:
    """The number meant by digits that are no valid number of the selected region of the French plan.

    - France selected (the selector's default, where overseas customers leave it): digits that are a
      valid number of one overseas territory only are that number ("0692 12 34 56" in La Réunion,
      "87 12 34 56" in Polynesia). Valid in several territories ("82 12 34" is a number in Wallis,
      New Caledonia and Saint-Pierre-et-Miquelon), they are ambiguous, whatever the type of each
      reading: AMBIGUOUS_TERRITORY names the territories, and the customer selects theirs.
    - An overseas territory selected: the digits are read in that territory, or else as a
      metropolitan number (a customer of New Caledonia with a metropolitan mobile); never as another
      territory's number.

    `number` (the reading in the selected region) is returned when no other reading is valid.
    """
    if region == "FR":
        readings = _valid_readings(normalized, policy.overseas_regions)
    else:
        readings = _valid_readings(normalized, ("FR",))
    if len(readings) > 1:
        regions = tuple(dict.fromkeys(phonenumbers.region_code_for_number(n) or "" for n in readings))
        raise NumberRejected(NumberProblem.AMBIGUOUS_TERRITORY, regions=regions)
    return readings[0] if readings else number


def _is_french_m2m(number: phonenumbers.PhoneNumber) -> bool:
    nsn = phonenumbers.national_significant_number(number)
    return (number.country_code == _FRENCH_COUNTRY_CODE
            and len(nsn) == _FRENCH_M2M_NSN_LENGTH
            and nsn.startswith(_FRENCH_M2M_PREFIX))


def _check_mobile(number: phonenumbers.PhoneNumber) -> None:
    number_type = phonenumbers.number_type(number)
    if number_type not in _MOBILE_TYPES:
        raise NumberRejected(_TYPE_PROBLEMS.get(number_type, NumberProblem.OTHER_NOT_MOBILE))


def parse_new_number(
    raw: str, region: str, *, current_e164: str | None, policy: Policy = DEFAULT_POLICY
) -> PhoneNumber:
    """Check a new secure number typed by the customer under the selected `region`.

    Accepts national input, "+33…" and "0033…", ignoring spaces, dots, dashes, parentheses and
    slashes between digits.
    Raises NumberRejected. Whether the number belongs to another customer is not checked here
    (it needs the database): the services call `reject_unavailable()`.
    """
    if not raw.strip():
        raise NumberRejected(NumberProblem.EMPTY)
    normalized = _normalize(raw)
    if normalized is None or not normalized.lstrip("+"):
        raise NumberRejected(NumberProblem.NOT_A_NUMBER)
    region = region.upper()
    if region not in policy.allowed_regions:
        raise NumberRejected(NumberProblem.COUNTRY_NOT_ALLOWED)

    number = _parse(normalized, region)
    french_plan = ("FR", *policy.overseas_regions)
    if region in french_plan and not phonenumbers.is_valid_number(number):
        number = _french_plan_reading(normalized, region, number, policy)
    assert number.country_code is not None  # parse() sets it
    if policy.allowed_regions.isdisjoint(
            phonenumbers.region_codes_for_country_code(number.country_code)):
        raise NumberRejected(NumberProblem.COUNTRY_NOT_ALLOWED)
    if _is_french_m2m(number):
        raise NumberRejected(NumberProblem.M2M)
    if not phonenumbers.is_valid_number(number):
        raise NumberRejected(NumberProblem.INVALID)
    number_region = phonenumbers.region_code_for_number(number)
    if number_region not in policy.allowed_regions:  # e.g. Jersey, which shares +44 with the UK
        raise NumberRejected(NumberProblem.COUNTRY_NOT_ALLOWED)
    _check_mobile(number)

    phone = PhoneNumber(e164=phonenumbers.format_number(number, PhoneNumberFormat.E164),
                        region=number_region)
    if phone.e164 == current_e164:
        raise NumberRejected(NumberProblem.SAME_AS_CURRENT)
    return phone


def reject_unavailable() -> NoReturn:
    """Refuse a number that is already another customer's secure number (generic message)."""
    raise NumberRejected(NumberProblem.UNAVAILABLE)
