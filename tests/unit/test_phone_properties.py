"""Bad input to the number rules: property-based tests (PRODUCT.md §5.1, §10 "bad input gets a clear
message, never a crash").

``parse_new_number`` either returns a ``PhoneNumber`` that is a mobile of an allowed region whose E.164
round-trips through ``phone_from_e164``, or raises ``NumberRejected`` whose problem has a French and an
English message; never any other exception. ``format_as_you_type`` never raises and returns a str.

Generated inputs per run (``max_examples`` of each test; hypothesis stops there):

==============================================================  ======
test                                                            inputs
==============================================================  ======
test_any_text_is_accepted_or_rejected_with_a_message             2,200
test_control_chars_and_unicode_are_accepted_or_rejected            1,500
test_very_long_text_is_rejected_with_a_message                       400
test_digitish_text_is_accepted_or_rejected_with_a_message          2,000
test_random_region_codes_never_accept_outside_the_policy             800
test_french_national_numbers                                       1,000
test_digits_of_several_territories_are_never_taken_for_one           500
test_a_slash_between_groups_of_digits_is_a_separator                 300
test_a_slash_anywhere_else_is_not_a_number                           300
test_accepted_numbers_round_trip_and_mask                          1,300
test_format_as_you_type_never_raises                               1,000
test_format_as_you_type_on_number_shaped_text_keeps_the_digits       500
test_format_as_you_type_on_very_long_text                            200
==============================================================  ======
total                                                             12,000
==============================================================  ======
"""

from __future__ import annotations

import string

import phonenumbers
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from secure_phone.domain.phone import (
    NumberProblem,
    NumberRejected,
    PhoneNumber,
    format_as_you_type,
    parse_new_number,
    phone_from_e164,
    selectable_regions,
)
from secure_phone.domain.policy import DEFAULT_POLICY, FRENCH_OVERSEAS_REGIONS, Policy
from secure_phone.i18n import MESSAGES
from tests.unit.mask_rule import assert_mask_rule

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
FRENCH_PLAN = ("FR", *FRENCH_OVERSEAS_REGIONS)

# --- strategies ------------------------------------------------------------------------------------

VALID_REGIONS = selectable_regions()
INVALID_REGIONS = ["US", "CA", "CN", "RU", "JE", "GG", "IM", "TR", "MA", "DZ", "ZZ", "XK", "001", "UN", "EU",
                   "UK", "", " ", "F", "FRA", "fr ", "\x00", "R\u00c9", "\uff26\uff32", "🇫🇷", "F\u0301R"]
regions = st.one_of(
    st.sampled_from(VALID_REGIONS),
    st.sampled_from([r.lower() for r in VALID_REGIONS]),
    st.sampled_from(INVALID_REGIONS),
    st.text(max_size=4),
    st.text(alphabet=string.ascii_letters, min_size=2, max_size=2),
)

POLICIES = [
    DEFAULT_POLICY,
    Policy(allowed_regions=frozenset(FRENCH_PLAN)),
    Policy(allowed_regions=frozenset({*FRENCH_PLAN, "BE", "CH", "GB"})),
    Policy(allowed_regions=frozenset({"FR", "RE", "DE"}), overseas_regions=("RE",)),
]
policies = st.sampled_from(POLICIES)

currents = st.one_of(
    st.none(),
    st.sampled_from(["+33612345678", "+33798765432", "+262692123456", "+32470123456", "+447400123456", ""]),
    st.text(max_size=20),
)

DIGIT_SETS = ["0123456789"] * 6 + [
    "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19",  # fullwidth
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9",  # Eastern Arabic-Indic
    "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f",  # Devanagari
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079",  # superscripts (NFKC → digits)
    "\u24ea\u2460\u2461\u2462\u2463\u2464\u2465\u2466\u2467\u2468",  # circled (NFKC → digits)
]
SEPARATORS = ["", "", "", " ", " ", ".", "-", "/", "(", ")", "\t", "\n", "\u00a0", "\u202f", "\u2009",
              "\u2010", "\u2013", "\u2014", "\u2212", "_", ",", "  ", "\u200b"]
PREFIXES = ["", "", "", "+", "00", "0", "+33", "+33 ", "0033", "+33 (0)", "+330", "+262", "+590", "+596",
            "+594", "+269", "+508", "+681", "+687", "+689", "+32", "+41", "+44", "+49", "+376", "+377",
            "+423", "+1", "+7", "+86", "+999", "++", "+0", "000", "+ ", "(+33)", "00 33", "+33-"]
STRAY = ["", "", "", "", "", "", "a", "x", "#", "*", "p", "w", ";", "ext. 12", "+", "++", "\x00", "\u202e",
         "é", "O", "l"]


@st.composite
def digitish(draw: st.DrawFn) -> str:
    """Digits in groups, with separators, +/00 prefixes, unicode digits and the odd stray character."""
    digits = draw(st.sampled_from(DIGIT_SETS))
    prefix = draw(st.sampled_from(PREFIXES))
    groups = draw(st.lists(st.text(alphabet=digits, min_size=1, max_size=4), max_size=6))
    parts = [prefix]
    for group in groups:
        parts += [draw(st.sampled_from(SEPARATORS)), group]
    text = "".join(parts)
    stray = draw(st.sampled_from(STRAY))
    if stray:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + stray + text[at:]
    return text


@st.composite
def very_long_text(draw: st.DrawFn) -> str:
    """Up to 10,000 characters: a generated chunk repeated (hypothesis would not build them by itself)."""
    chunk = draw(st.one_of(st.text(min_size=1, max_size=40), digitish().map(lambda s: s or "0"),
                           st.sampled_from(["0", "6", "06 12 ", "+33", "00", " ", "+", "\u0660"])))
    length = draw(st.integers(200, 10_000))
    return (chunk * (length // len(chunk) + 1))[:length]


control_and_unicode = st.text(
    alphabet=st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Nd", "No", "Nl", "Pd", "Ps", "Pe",
                                       "Sm", "Mn", "Lo"]),
    max_size=30,
)


# --- the oracle --------------------------------------------------------------------------------


def check(raw: str, region: str, current: str | None, policy: Policy = DEFAULT_POLICY) -> PhoneNumber | None:
    """Parse; assert the outcome is one of the two allowed ones; return the number or None."""
    try:
        phone = parse_new_number(raw, region, current_e164=current, policy=policy)
    except NumberRejected as rejected:
        problem = rejected.problem
        assert isinstance(problem, NumberProblem)
        assert problem is not NumberProblem.UNAVAILABLE  # needs the database: never from the parser
        key = "number." + problem.value
        assert MESSAGES["fr"][key].strip() and MESSAGES["en"][key].strip()
        assert str(rejected) == problem.value
        if problem is NumberProblem.AMBIGUOUS_TERRITORY:  # the territories, for the customer to choose
            assert len(rejected.regions) >= 2 and set(rejected.regions) <= set(FRENCH_PLAN)
            assert region.upper() == "FR"
        else:
            assert rejected.regions == ()
        return None
    assert isinstance(phone, PhoneNumber)
    assert phone.region in policy.allowed_regions
    assert phone.e164 != current
    assert phone_from_e164(phone.e164) == phone
    parsed = phonenumbers.parse(phone.e164, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.number_type(parsed) in MOBILE_TYPES
    assert phonenumbers.region_code_for_number(parsed) == phone.region
    assert region.upper() in policy.allowed_regions  # the selected country itself must be allowed
    return phone


def problem_of(raw: str, region: str, current: str | None = None, policy: Policy = DEFAULT_POLICY) -> NumberProblem:
    with pytest.raises(NumberRejected) as info:
        parse_new_number(raw, region, current_e164=current, policy=policy)
    return info.value.problem


# --- parse_new_number: anything goes in, a number or a clear refusal comes out ----------------


@settings(max_examples=2200, deadline=None)
@given(raw=st.text(max_size=60), region=regions, current=currents, policy=policies)
def test_any_text_is_accepted_or_rejected_with_a_message(raw: str, region: str, current: str | None,
                                                         policy: Policy) -> None:
    check(raw, region, current, policy)


@settings(max_examples=1500, deadline=None)
@given(raw=control_and_unicode, region=regions, current=currents)
def test_control_chars_and_unicode_are_accepted_or_rejected(raw: str, region: str, current: str | None) -> None:
    phone = check(raw, region, current)
    if not raw.strip():
        assert problem_of(raw, region, current) is NumberProblem.EMPTY
    if phone is not None:  # an accepted number was made of digits and separators only
        assert any(ch.isdigit() for ch in raw)


@settings(max_examples=400, deadline=None)
@given(raw=very_long_text(), region=regions, current=currents)
def test_very_long_text_is_rejected_with_a_message(raw: str, region: str, current: str | None) -> None:
    assert len(raw) >= 200
    phone = check(raw, region, current)
    if sum(ch.isdigit() for ch in raw) > 40:  # no phone number is that long (E.164: at most 15 digits)
        assert phone is None


@settings(max_examples=2000, deadline=None)
@given(raw=digitish(), region=regions, current=currents, policy=policies)
def test_digitish_text_is_accepted_or_rejected_with_a_message(raw: str, region: str, current: str | None,
                                                              policy: Policy) -> None:
    check(raw, region, current, policy)


@settings(max_examples=800, deadline=None)
@given(raw=st.one_of(digitish(), st.text(max_size=20)),
       region=st.one_of(st.text(max_size=6), st.sampled_from(INVALID_REGIONS)), current=currents)
def test_random_region_codes_never_accept_outside_the_policy(raw: str, region: str, current: str | None) -> None:
    phone = check(raw, region, current)
    if region.upper() not in DEFAULT_POLICY.allowed_regions:
        assert phone is None


# --- French national numbers, as customers type them ------------------------------------------

NATIONAL_STYLES = {
    "compact": lambda d: d,
    "pairs": lambda d: " ".join(d[i:i + 2] for i in range(0, 10, 2)),
    "dots": lambda d: ".".join(d[i:i + 2] for i in range(0, 10, 2)),
    "dashes": lambda d: "-".join(d[i:i + 2] for i in range(0, 10, 2)),
    "no-break": lambda d: "\u00a0".join(d[i:i + 2] for i in range(0, 10, 2)),
    "narrow": lambda d: "\u202f".join(d[i:i + 2] for i in range(0, 10, 2)),
    "unicode dashes": lambda d: "\u2010".join(d[i:i + 2] for i in range(0, 10, 2)),
    "slashes": lambda d: "/".join(d[i:i + 2] for i in range(0, 10, 2)),
    "brackets": lambda d: f"({d[:2]}) {d[2:]}",
    "padded": lambda d: f"  {d}\t",
    "fours": lambda d: f"{d[:4]} {d[4:6]} {d[6:8]} {d[8:]}",
    "fullwidth": lambda d: d.translate(str.maketrans("0123456789", DIGIT_SETS[6])),
}


@settings(max_examples=1000, deadline=None)
@given(first=st.sampled_from("123456789"), rest=st.text(alphabet="0123456789", min_size=8, max_size=8),
       style=st.sampled_from(sorted(NATIONAL_STYLES)), region=st.sampled_from(FRENCH_PLAN + ("fr", "re")))
def test_french_national_numbers(first: str, rest: str, style: str, region: str) -> None:
    digits = "0" + first + rest
    raw = NATIONAL_STYLES[style](digits)
    phone = check(raw, region, None)
    # The separators never change the outcome.
    try:
        compact: PhoneNumber | NumberProblem = parse_new_number(digits, region, current_e164=None)
    except NumberRejected as rejected:
        compact = rejected.problem
    if phone is None:
        assert problem_of(raw, region) is compact
    else:
        assert phone == compact
    # What each French prefix is (ARCEP plan): only 06 and 07 can be mobiles.
    if first in "12345":
        assert phone is None and problem_of(raw, region) in {NumberProblem.LANDLINE, NumberProblem.INVALID}
    elif first == "9":
        assert phone is None and problem_of(raw, region) in {NumberProblem.VOIP, NumberProblem.INVALID}
    elif first == "8":
        assert phone is None
    elif phone is not None:
        assert phone.region in FRENCH_PLAN
        assert phone.national.replace(" ", "")[-8:] == digits[-8:]


# --- short overseas digits typed with France selected: one reading, or the territory asked ----


def _overseas_readings(raw: str) -> set[str]:
    found = set()
    for region in FRENCH_OVERSEAS_REGIONS:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found


@settings(max_examples=500, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=6, max_size=10))
def test_digits_of_several_territories_are_never_taken_for_one(digits: str) -> None:
    """What France reads them as, else the one territory that reads them, else a refusal."""
    try:
        phone = parse_new_number(digits, "FR", current_e164=None)
    except NumberRejected as rejected:
        if rejected.problem is NumberProblem.AMBIGUOUS_TERRITORY:
            assert len(_overseas_readings(digits)) >= 2
        return
    france = phonenumbers.parse(digits, "FR")
    if not phonenumbers.is_valid_number(france):
        assert _overseas_readings(digits) == {phone.e164}  # the only one


# --- slashes: a separator between two groups of digits, nothing else ------------------------


digit_groups = st.lists(st.text(alphabet="0123456789", min_size=1, max_size=4), min_size=2, max_size=5)


@settings(max_examples=300, deadline=None)
@given(groups=digit_groups, region=st.sampled_from(VALID_REGIONS), spaced=st.booleans())
def test_a_slash_between_groups_of_digits_is_a_separator(groups: list[str], region: str, spaced: bool) -> None:
    def outcome(raw: str) -> PhoneNumber | NumberProblem:
        try:
            return parse_new_number(raw, region, current_e164=None)
        except NumberRejected as rejected:
            return rejected.problem

    assert outcome((" / " if spaced else "/").join(groups)) == outcome(" ".join(groups))


@settings(max_examples=300, deadline=None)
@given(groups=digit_groups, region=st.sampled_from(VALID_REGIONS),
       misplaced=st.sampled_from(["lead", "trail", "double", "dot", "bracket", "dash", "plus"]))
def test_a_slash_anywhere_else_is_not_a_number(groups: list[str], region: str, misplaced: str) -> None:
    raw = {"lead": "/" + " ".join(groups), "trail": " ".join(groups) + "/", "double": "//".join(groups),
           "dot": "./".join(groups), "bracket": f"({groups[0]})/" + "".join(groups[1:]),
           "dash": "/-".join(groups), "plus": "+/" + "".join(groups)}[misplaced]
    assert problem_of(raw, region) is NumberProblem.NOT_A_NUMBER


# --- accepted numbers: idempotent, round-trip, masked -----------------------------------------


def _mobile_examples() -> list[tuple[str, int, str]]:
    out = []
    for region in sorted(DEFAULT_POLICY.allowed_regions):
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is not None:
            out.append((region, example.country_code, phonenumbers.national_significant_number(example)))
    return out


MOBILE_EXAMPLES = _mobile_examples()


@st.composite
def likely_mobiles(draw: st.DrawFn) -> tuple[str, str]:
    """(raw, region): an example mobile of an allowed region with its tail digits replaced, in some form."""
    region, country_code, nsn = draw(st.sampled_from(MOBILE_EXAMPLES))
    keep = draw(st.integers(min_value=min(3, len(nsn)), max_value=len(nsn)))
    tail = draw(st.text(alphabet="0123456789", min_size=len(nsn) - keep, max_size=len(nsn) - keep))
    digits = nsn[:keep] + tail
    form = draw(st.sampled_from(["e164", "00", "spaced"]))
    raw = {"e164": f"+{country_code}{digits}", "00": f"00{country_code}{digits}",
           "spaced": f"+{country_code} " + " ".join(digits[i:i + 3] for i in range(0, len(digits), 3))}[form]
    return raw, region


@settings(max_examples=1300, deadline=None)
@given(sample=likely_mobiles(), typed_under=st.sampled_from(VALID_REGIONS))
def test_accepted_numbers_round_trip_and_mask(sample: tuple[str, str], typed_under: str) -> None:
    raw, region = sample
    phone = check(raw, region, None)
    assume(phone is not None)
    assert phone is not None
    # Idempotent: the stored E.164 (and the displayed forms) parse back to the same number.
    assert parse_new_number(phone.e164, region, current_e164=None) == phone
    assert parse_new_number(phone.e164, typed_under, current_e164=None) == phone
    assert parse_new_number(phone.international, typed_under, current_e164=None) == phone
    assert parse_new_number(phone.national, phone.region, current_e164=None) == phone
    assert parse_new_number(raw, region, current_e164=None) == phone  # deterministic
    # The same number again is refused as the current one, whichever way it is typed.
    assert problem_of(raw, region, current=phone.e164) is NumberProblem.SAME_AS_CURRENT
    assert problem_of(phone.national, phone.region, current=phone.e164) is NumberProblem.SAME_AS_CURRENT
    # Masked: at most the first group and the last two, never more than a third of the digits.
    assert_mask_rule(phone)
    assert phone.masked_last == phone.last_two == phone.e164[-2:]  # a mobile has six digits or more


# --- format_as_you_type: never raises ---------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(raw=st.one_of(st.text(max_size=40), control_and_unicode, digitish()), region=regions)
def test_format_as_you_type_never_raises(raw: str, region: str) -> None:
    out = format_as_you_type(raw, region)
    assert isinstance(out, str)


@settings(max_examples=500, deadline=None)
@given(raw=digitish(), region=st.one_of(st.sampled_from(VALID_REGIONS), regions))
def test_format_as_you_type_on_number_shaped_text_keeps_the_digits(raw: str, region: str) -> None:
    out = format_as_you_type(raw, region)
    assert isinstance(out, str)
    typed = phonenumbers.normalize_digits_only(raw)
    if out != raw:  # reformatted: every digit typed is still there, in order, as ASCII
        assert phonenumbers.normalize_digits_only(out) == typed or not typed


@settings(max_examples=200, deadline=None)
@given(raw=very_long_text(), region=regions)
def test_format_as_you_type_on_very_long_text(raw: str, region: str) -> None:
    assert isinstance(format_as_you_type(raw, region), str)
