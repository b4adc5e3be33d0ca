"""Parsing, classifying, displaying and masking phone numbers (PRODUCT.md §5.1)."""

from dataclasses import replace

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberType

from secure_phone.domain.phone import (
    NumberProblem,
    NumberRejected,
    PhoneNumber,
    format_as_you_type,
    parse_new_number,
    phone_from_e164,
    region_of,
    reject_unavailable,
    selectable_regions,
)
from secure_phone.domain.policy import DEFAULT_POLICY
from tests.unit.mask_rule import assert_mask_rule

CAMILLE = "+33612345678"


def parse(raw: str, region: str = "FR", current: str | None = None) -> PhoneNumber:
    return parse_new_number(raw, region, current_e164=current)


def problem_of(raw: str, region: str = "FR", current: str | None = None) -> NumberProblem:
    with pytest.raises(NumberRejected) as info:
        parse(raw, region, current)
    return info.value.problem


# --- Accepted mobiles -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "region", "e164", "number_region"),
    [
        # Metropolitan France, every accepted way of typing it
        ("06 12 34 56 78", "FR", "+33612345678", "FR"),
        ("07 98 76 54 32", "FR", "+33798765432", "FR"),
        ("0612345678", "FR", "+33612345678", "FR"),
        ("+33 6 12 34 56 78", "FR", "+33612345678", "FR"),
        ("+33612345678", "FR", "+33612345678", "FR"),
        ("0033 6 12 34 56 78", "FR", "+33612345678", "FR"),
        ("+33 (0)6 12 34 56 78", "FR", "+33612345678", "FR"),
        ("06.12.34.56.78", "FR", "+33612345678", "FR"),
        ("06-12-34-56-78", "FR", "+33612345678", "FR"),
        ("(06) 12 34 56 78", "FR", "+33612345678", "FR"),
        ("  06 12 34 56 78  ", "FR", "+33612345678", "FR"),
        ("06\u00a012\u202f34\t56 78", "FR", "+33612345678", "FR"),  # no-break spaces, tab
        ("06\u201012\u201334\u201456\u221278", "FR", "+33612345678", "FR"),  # unicode dashes
        ("0612345678", "fr", "+33612345678", "FR"),  # region code in lower case
        ("06/12/34/56/78", "FR", "+33612345678", "FR"),  # slashes between groups of digits
        ("06 / 12 / 34 / 56 / 78", "FR", "+33612345678", "FR"),
        ("+33 6 12 34 56 78", "BE", "+33612345678", "FR"),  # international under another region
        ("0612345678", "RE", "+33612345678", "FR"),  # metropolitan typed with Réunion selected
        # Unicode digits
        ("\uff10\uff16 \uff11\uff12 \uff13\uff14 \uff15\uff16 \uff17\uff18", "FR", CAMILLE, "FR"),
        ("\u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "FR", CAMILLE, "FR"),
        ("\u0966\u096c\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e", "FR", CAMILLE, "FR"),
        # Other allowed countries
        ("+32 470 12 34 56", "FR", "+32470123456", "BE"),
        ("0470 12 34 56", "BE", "+32470123456", "BE"),
        ("0032 470 12 34 56", "FR", "+32470123456", "BE"),
        ("+49 151 23456789", "FR", "+4915123456789", "DE"),
        ("01512 3456789", "DE", "+4915123456789", "DE"),
        ("0151/23456789", "DE", "+4915123456789", "DE"),  # slashes, as written in DE, AT and CH
        ("0151 / 234 567 89", "DE", "+4915123456789", "DE"),
        ("+49 151/23456789", "FR", "+4915123456789", "DE"),
        ("0664/123456", "AT", "+43664123456", "AT"),
        ("079/123 45 67", "CH", "+41791234567", "CH"),
        ("079/123/45/67", "CH", "+41791234567", "CH"),
        ("+41 79 123 45 67", "FR", "+41791234567", "CH"),
        ("+41 78 123 45 67", "FR", "+41781234567", "CH"),
        ("+44 7400 123456", "FR", "+447400123456", "GB"),
        ("07400 123456", "GB", "+447400123456", "GB"),
        ("+377 6 12 34 56 78", "FR", "+377612345678", "MC"),
        ("+376 312 345", "FR", "+376312345", "AD"),
        ("+39 312 345 6789", "FR", "+393123456789", "IT"),
        ("+34 612 34 56 78", "FR", "+34612345678", "ES"),
        ("+351 912 345 678", "FR", "+351912345678", "PT"),
        ("+31 6 12345678", "FR", "+31612345678", "NL"),
        ("+354 611 1234", "FR", "+3546111234", "IS"),
        ("+423 660 234 567", "FR", "+423660234567", "LI"),
        ("+47 406 12 345", "FR", "+4740612345", "NO"),
    ],
)
def test_mobile_numbers_are_accepted(raw: str, region: str, e164: str, number_region: str) -> None:
    assert parse(raw, region) == PhoneNumber(e164=e164, region=number_region)


# Overseas mobiles: (typed nationally, own region, E.164, region of the number)
OVERSEAS_MOBILES = [
    ("0692 12 34 56", "RE", "+262692123456", "RE"),  # La Réunion
    ("0693 12 34 56", "RE", "+262693123456", "RE"),
    ("0639 01 23 45", "YT", "+262639012345", "YT"),  # Mayotte
    ("0690 12 34 56", "GP", "+590690123456", "GP"),  # Guadeloupe
    ("0696 20 12 34", "MQ", "+596696201234", "MQ"),  # Martinique
    ("0697 12 34 56", "MQ", "+596697123456", "MQ"),
    ("0694 20 12 34", "GF", "+594694201234", "GF"),  # Guyane
    ("055 12 34", "PM", "+508551234", "PM"),  # Saint-Pierre-et-Miquelon
    ("0690 00 12 34", "BL", "+590690001234", "GP"),  # Saint-Barthélemy shares +590 with GP
    ("0690 00 12 34", "MF", "+590690001234", "GP"),  # Saint-Martin likewise
    ("82 12 34", "WF", "+681821234", "WF"),  # Wallis-et-Futuna
    ("87 12 34 56", "PF", "+68987123456", "PF"),  # Polynésie française
    ("75 12 34", "NC", "+687751234", "NC"),  # Nouvelle-Calédonie
]


# Six digits without a trunk prefix mean a mobile in more than one territory
AMBIGUOUS_FROM_FRANCE = {"82 12 34", "75 12 34"}


@pytest.mark.parametrize(
    ("raw", "own_region", "e164", "number_region"),
    [case for case in OVERSEAS_MOBILES if case[0] not in AMBIGUOUS_FROM_FRANCE],
)
def test_overseas_mobile_typed_with_france_selected(
    raw: str, own_region: str, e164: str, number_region: str
) -> None:
    assert parse(raw, "FR") == PhoneNumber(e164=e164, region=number_region)


@pytest.mark.parametrize("raw", sorted(AMBIGUOUS_FROM_FRANCE))
def test_ambiguous_overseas_digits_need_the_territory_selected(raw: str) -> None:
    assert problem_of(raw, "FR") is NumberProblem.AMBIGUOUS_TERRITORY


def regions_of(raw: str, region: str = "FR") -> tuple[str, ...]:
    with pytest.raises(NumberRejected) as info:
        parse(raw, region)
    assert info.value.problem is NumberProblem.AMBIGUOUS_TERRITORY
    return info.value.regions


# Six digits typed with France selected: (raw, territories where they are a number, the territory
# the example comes from, what they are there). Before, "the one valid mobile" among these readings
# was taken: "20.12.34", a landline of New Caledonia, was stored as a Saint-Pierre-et-Miquelon number.
AMBIGUOUS_NON_MOBILES = [
    ("20.12.34", ("PM", "NC"), "NC", NumberProblem.LANDLINE),
    ("36.67.11", ("PM", "NC"), "NC", NumberProblem.PREMIUM),
    ("44 01 23", ("PM", "PF", "NC"), "PF", NumberProblem.UAN),
    ("40 12 34", ("PM", "WF"), "WF", NumberProblem.VOICEMAIL),
    ("92 12 34", ("PM", "WF", "NC"), "WF", NumberProblem.VOIP),
]


@pytest.mark.parametrize(("raw", "regions", "own_region", "problem"), AMBIGUOUS_NON_MOBILES)
def test_digits_of_several_territories_are_never_guessed(
    raw: str, regions: tuple[str, ...], own_region: str, problem: NumberProblem
) -> None:
    assert regions_of(raw) == regions
    assert problem_of(raw, own_region) is problem  # read in the territory selected, and only there


def test_ambiguous_mobiles_name_their_territories() -> None:
    assert regions_of("82 12 34") == ("PM", "WF", "NC")
    assert regions_of("75.12.34") == ("PM", "NC")
    assert regions_of("312 345") == ("PM", "NC")  # Andorra's example mobile, typed with France selected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("20 12 34", "PM", "+508201234"),  # what the digits are in the territory selected
        ("20 12 34", "NC", NumberProblem.LANDLINE),
        ("75 12 34", "NC", "+687751234"),
        ("75 12 34", "WF", NumberProblem.INVALID),  # not a Wallis number: never read as New Caledonia's
        ("82 12 34", "NC", "+687821234"),
        ("0692 12 34 56", "GP", NumberProblem.INVALID),  # not Guadeloupe's: never read as La Réunion's
        ("0612345678", "NC", "+33612345678"),  # a metropolitan mobile typed from a territory
        ("0612345678", "PM", "+33612345678"),
    ],
)
def test_with_a_territory_selected_the_digits_are_read_there_or_as_metropolitan(
    raw: str, region: str, expected: str | NumberProblem
) -> None:
    try:
        outcome: str | NumberProblem = parse(raw, region).e164
    except NumberRejected as rejected:
        outcome = rejected.problem
    assert outcome == expected


def test_only_an_ambiguous_refusal_names_regions() -> None:
    with pytest.raises(NumberRejected) as info:
        parse("01 23 45 67 89")
    assert info.value.regions == ()
    assert NumberRejected(NumberProblem.INVALID).regions == ()


@pytest.mark.parametrize(("raw", "own_region", "e164", "number_region"), OVERSEAS_MOBILES)
def test_overseas_mobile_typed_with_its_own_region(
    raw: str, own_region: str, e164: str, number_region: str
) -> None:
    assert parse(raw, own_region) == PhoneNumber(e164=e164, region=number_region)


@pytest.mark.parametrize(("raw", "own_region", "e164", "number_region"), OVERSEAS_MOBILES)
def test_overseas_mobile_typed_internationally(
    raw: str, own_region: str, e164: str, number_region: str
) -> None:
    assert parse(e164, "FR").e164 == e164
    assert parse("00" + e164[1:], "FR").e164 == e164


def test_reunion_mobile_with_country_code_and_spaces() -> None:
    assert parse("+262 692 12 34 56").e164 == "+262692123456"


@pytest.mark.parametrize(
    "e164", ["+508430123", "+681721234"],  # PM and WF cannot tell fixed lines from mobiles
)
def test_fixed_line_or_mobile_is_accepted(e164: str) -> None:
    number = phonenumbers.parse(e164)
    assert phonenumbers.number_type(number) == PhoneNumberType.FIXED_LINE_OR_MOBILE
    assert parse(e164).e164 == e164


# --- Refused numbers ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "region", "problem"),
    [
        # French landlines 01-05, and overseas landlines
        ("01 23 45 67 89", "FR", NumberProblem.LANDLINE),
        ("02 98 12 34 56", "FR", NumberProblem.LANDLINE),
        ("03 88 12 34 56", "FR", NumberProblem.LANDLINE),
        ("04 72 12 34 56", "FR", NumberProblem.LANDLINE),
        ("05 56 00 00 00", "FR", NumberProblem.LANDLINE),
        ("+33 1 23 45 67 89", "FR", NumberProblem.LANDLINE),
        ("0590 20 12 34", "FR", NumberProblem.LANDLINE),  # Guadeloupe landline typed from FR
        ("0262 21 12 34", "FR", NumberProblem.LANDLINE),  # La Réunion landline
        ("+262 262 16 12 34", "FR", NumberProblem.LANDLINE),
        ("+32 12 34 56 78", "FR", NumberProblem.LANDLINE),
        ("+44 121 234 5678", "FR", NumberProblem.LANDLINE),
        ("+49 30 123456", "FR", NumberProblem.LANDLINE),
        # VoIP
        ("09 51 23 45 67", "FR", NumberProblem.VOIP),
        ("0033 9 51 23 45 67", "FR", NumberProblem.VOIP),
        ("+44 56 1234 5678", "FR", NumberProblem.VOIP),
        # Premium rate
        ("08 91 23 45 67", "FR", NumberProblem.PREMIUM),
        ("08 97 12 34 56", "FR", NumberProblem.PREMIUM),
        ("08 99 12 34 56", "FR", NumberProblem.PREMIUM),
        ("+44 90 1234 5678", "FR", NumberProblem.PREMIUM),
        # Shared cost
        ("08 10 12 34 56", "FR", NumberProblem.SHARED_COST),
        ("08 11 22 33 44", "FR", NumberProblem.SHARED_COST),
        ("08 21 12 34 56", "FR", NumberProblem.SHARED_COST),
        ("08 84 01 23 45", "FR", NumberProblem.SHARED_COST),
        # Toll free
        ("08 00 12 34 56", "FR", NumberProblem.TOLL_FREE),
        ("08 01 23 45 67", "FR", NumberProblem.TOLL_FREE),
        ("+44 800 123 4567", "FR", NumberProblem.TOLL_FREE),
        # M2M, 14 digits with the leading 0
        ("07 00 12 34 56 78 90", "FR", NumberProblem.M2M),
        ("+33 7 00 12 34 56 78 90", "FR", NumberProblem.M2M),
        ("0033 700 1234567890", "FR", NumberProblem.M2M),
        # Pagers, UAN, personal numbers and voicemail: each its own problem
        ("08 06 12 34 56", "FR", NumberProblem.UAN),
        ("+41 58 123 45 67", "FR", NumberProblem.UAN),
        ("+44 7640 123456", "FR", NumberProblem.PAGER),
        ("+41 74 012 34 56", "FR", NumberProblem.PAGER),
        ("+44 70 1234 5678", "FR", NumberProblem.PERSONAL_NUMBER),
        ("+41 878 123 456", "FR", NumberProblem.PERSONAL_NUMBER),
        ("+49 177 991234567", "FR", NumberProblem.VOICEMAIL),
        ("40 12 34", "WF", NumberProblem.VOICEMAIL),
    ],
)
def test_non_mobile_numbers_are_refused_with_their_own_problem(
    raw: str, region: str, problem: NumberProblem
) -> None:
    assert problem_of(raw, region) is problem


def test_a_number_of_unknown_type_is_refused_as_not_mobile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phonenumbers, "number_type", lambda number: PhoneNumberType.UNKNOWN)
    assert problem_of("06 12 34 56 78") is NumberProblem.OTHER_NOT_MOBILE


def test_every_type_but_mobiles_has_a_problem_with_a_message_of_its_own() -> None:
    from secure_phone.domain.phone import _MOBILE_TYPES, _TYPE_PROBLEMS
    from secure_phone.i18n import MESSAGES

    types = {value for name, value in vars(PhoneNumberType).items() if name.isupper()}
    refused = types - _MOBILE_TYPES - {PhoneNumberType.UNKNOWN}
    assert set(_TYPE_PROBLEMS) == refused
    assert len(set(_TYPE_PROBLEMS.values())) == len(refused)
    assert NumberProblem.OTHER_NOT_MOBILE not in _TYPE_PROBLEMS.values()
    texts = [MESSAGES[lang][f"number.{problem.value}"] for problem in _TYPE_PROBLEMS.values() for lang in MESSAGES]
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("+1 202 555 0123", "FR"),  # valid US number
        ("+1 202 555", "FR"),  # even when incomplete: +1 is never allowed
        ("+212 650 123456", "FR"),  # Moroccan mobile
        ("00212 650 123456", "FR"),
        ("0650123456", "MA"),  # Morocco selected
        ("0612345678", "US"),
        ("0612345678", "XX"),  # unknown region
        ("+44 7797 712345", "FR"),  # Jersey shares +44 but is not the United Kingdom
        ("+44 7781 123456", "FR"),  # Guernsey
        ("+800 1234 5678", "FR"),  # international freephone
    ],
)
def test_countries_outside_the_policy_are_refused(raw: str, region: str) -> None:
    assert problem_of(raw, region) is NumberProblem.COUNTRY_NOT_ALLOWED


def test_allowed_countries_come_from_the_policy() -> None:
    france_only = replace(
        DEFAULT_POLICY, allowed_regions=frozenset({"FR", *DEFAULT_POLICY.overseas_regions})
    )
    with pytest.raises(NumberRejected) as info:
        parse_new_number("+32 470 12 34 56", "FR", current_e164=None, policy=france_only)
    assert info.value.problem is NumberProblem.COUNTRY_NOT_ALLOWED


def test_overseas_fallback_uses_the_policy_regions() -> None:
    no_overseas = replace(DEFAULT_POLICY, overseas_regions=())
    with pytest.raises(NumberRejected) as info:
        parse_new_number("0692 12 34 56", "FR", current_e164=None, policy=no_overseas)
    assert info.value.problem is NumberProblem.INVALID


@pytest.mark.parametrize(
    "raw",
    [
        "06 12",
        "0",
        "00",
        "06 12 34 56 7",
        "06 12 34 56 78 9",
        "+33 6 12",
        "0700 12 34 56",  # M2M prefix with a mobile's length: does not exist
        "0691 12 34 56",  # unallocated overseas range
        "+44 7700 900123",  # Ofcom's range reserved for drama: not a real number
        "+999 1234",  # no such country code
        "1" * 40,
        "0" * 300,
    ],
)
def test_numbers_that_do_not_exist_are_invalid(raw: str) -> None:
    assert problem_of(raw) is NumberProblem.INVALID


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "+",
        "...",
        "()",
        "++33612345678",
        "06 12 34 56 7a",
        "06 12 34 56 78 ext 2",
        "tel:+33612345678",
        "0612345678+",
        # a slash only ever separates two groups of digits
        "06//12/34/56/78",
        "/06 12 34 56 78",
        "06 12 34 56 78/",
        "/",
        "06 / / 12 34 56 78",
        "06./12.34.56.78",
        "(0151)/23456789",
        "0151/-23456789",
        "+/49 151 23456789",
        "camille@example.com",
        "06 12 34 56 78 \U0001f4f1",
    ],
)
def test_text_that_is_not_a_number(raw: str) -> None:
    assert problem_of(raw) is NumberProblem.NOT_A_NUMBER


@pytest.mark.parametrize("raw", ["", " ", "\t\n", "\u00a0"])
def test_empty_input(raw: str) -> None:
    assert problem_of(raw) is NumberProblem.EMPTY


@pytest.mark.parametrize(
    "raw",
    ["06 12 34 56 78", "+33 6 12 34 56 78", "0033 6 12 34 56 78", "+33612345678", "06.12.34.56.78"],
)
def test_the_current_number_in_any_form_is_refused(raw: str) -> None:
    assert problem_of(raw, current=CAMILLE) is NumberProblem.SAME_AS_CURRENT


def test_current_overseas_number_typed_from_france_is_refused() -> None:
    assert problem_of("0692 12 34 56", current="+262692123456") is NumberProblem.SAME_AS_CURRENT


def test_sameness_is_checked_after_validity() -> None:
    assert problem_of("06 12", current=CAMILLE) is NumberProblem.INVALID


def test_another_number_than_the_current_one_is_accepted() -> None:
    assert parse("07 98 76 54 32", current=CAMILLE).e164 == "+33798765432"


def test_unavailable_is_rejected_by_the_services() -> None:
    with pytest.raises(NumberRejected) as info:
        reject_unavailable()
    assert info.value.problem is NumberProblem.UNAVAILABLE


def test_number_rejected_is_a_value_error_naming_its_problem() -> None:
    error = NumberRejected(NumberProblem.LANDLINE)
    assert isinstance(error, ValueError)
    assert str(error) == "landline"


# --- Display -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("e164", "national", "international", "masked", "last_two"),
    [
        ("+33612345678", "06 12 34 56 78", "+33 6 12 34 56 78", "06 •• •• •• 78", "78"),
        ("+33798765432", "07 98 76 54 32", "+33 7 98 76 54 32", "07 •• •• •• 32", "32"),
        ("+262692123456", "06 92 12 34 56", "+262 692 12 34 56", "06 •• •• •• 56", "56"),
        ("+262639012345", "06 39 01 23 45", "+262 639 01 23 45", "06 •• •• •• 45", "45"),
        ("+590690123456", "06 90 12 34 56", "+590 690 12 34 56", "06 •• •• •• 56", "56"),
        ("+596696201234", "06 96 20 12 34", "+596 696 20 12 34", "06 •• •• •• 34", "34"),
        ("+594694201234", "06 94 20 12 34", "+594 694 20 12 34", "06 •• •• •• 34", "34"),
        ("+508551234", "055 12 34", "+508 55 12 34", "0•• •• 34", "34"),
        ("+687751234", "75 12 34", "+687 75.12.34", "•• •• 34", "34"),
        ("+68987123456", "87 12 34 56", "+689 87 12 34 56", "•• •• •• 56", "56"),
        ("+32470123456", "0470 12 34 56", "+32 470 12 34 56", "04•• •• •• 56", "56"),
        ("+4915123456789", "01512 3456789", "+49 1512 3456789", "01••• •••••89", "89"),
        ("+41791234567", "079 123 45 67", "+41 79 123 45 67", "07• ••• •• 67", "67"),
        ("+447400123456", "07400 123456", "+44 7400 123456", "07••• ••••56", "56"),
    ],
)
def test_display_formats(e164: str, national: str, international: str, masked: str,
                         last_two: str) -> None:
    number = phone_from_e164(e164)
    assert number.national == national
    assert number.international == international
    assert number.masked == masked
    assert number.last_two == last_two


@pytest.mark.parametrize(
    ("e164", "masked", "first", "last", "but_last"),
    [
        ("+33612345678", "06 •• •• •• 78", "06", "78", "•• •• •• •• 78"),  # 3 of 9 digits (the 0 is the trunk)
        ("+262692123456", "06 •• •• •• 56", "06", "56", "•• •• •• •• 56"),
        ("+447400123456", "07••• ••••56", "07", "56", "••••• ••••56"),  # was 07400 ••••56: 6 of 10
        ("+4915123456789", "01••• •••••89", "01", "89", "••••• •••••89"),  # was 01512 •••••89: 6 of 11
        ("+376312345", "••• •45", "", "45", "••• •45"),  # was 312 •45: 5 of 6
        ("+687751234", "•• •• 34", "", "34", "•• •• 34"),
        ("+508551234", "0•• •• 34", "0", "34", "••• •• 34"),
        ("+34612345678", "6•• •• •• 78", "6", "78", "••• •• •• 78"),
        ("+37061234567", "(0-•••) •••67", "0", "67", "(•-•••) •••67"),  # the first group after a bracket
        ("+3614123456", "(06 •) ••• ••56", "06", "56", "(•• •) ••• ••56"),  # Hungary's trunk prefix is 06
    ],
)
def test_the_mask_shows_at_most_a_third_of_the_digits(
    e164: str, masked: str, first: str, last: str, but_last: str
) -> None:
    number = phone_from_e164(e164)
    assert (number.masked, number.masked_first, number.masked_last, number.masked_but_last) == (
        masked, first, last, but_last)
    assert_mask_rule(number)


def test_mask_is_the_bullet_character() -> None:
    assert "\u2022" in phone_from_e164(CAMILLE).masked


# --- Stored numbers and regions --------------------------------------------------------------

@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+33612345678", "FR"),
        ("+262692123456", "RE"),
        ("+262639012345", "YT"),
        ("+590690123456", "GP"),
        ("+32470123456", "BE"),
        ("+262639123456", "RE"),  # not valid by today's metadata: keeps its country's region
    ],
)
def test_stored_numbers_and_their_region(e164: str, region: str) -> None:
    assert phone_from_e164(e164) == PhoneNumber(e164=e164, region=region)
    assert region_of(e164) == region


@pytest.mark.parametrize("bad", ["0612345678", "+33 6 12 34 56 78", "abc", "", "+33612345678 "])
def test_phone_from_e164_refuses_what_is_not_e164(bad: str) -> None:
    with pytest.raises(ValueError):
        phone_from_e164(bad)


def test_selectable_regions_start_with_france_then_alphabetical() -> None:
    regions = selectable_regions()
    assert regions[0] == "FR"
    assert regions[1:] == sorted(regions[1:])
    assert set(regions) == DEFAULT_POLICY.allowed_regions
    assert len(regions) == len(DEFAULT_POLICY.allowed_regions)


def test_selectable_regions_follow_the_policy() -> None:
    policy = replace(DEFAULT_POLICY, allowed_regions=frozenset({"FR", "BE", "AD"}),
                     overseas_regions=())
    assert selectable_regions(policy)[:3] == ["FR", "AD", "BE"]


# --- Formatting while typing -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "region", "formatted"),
    [
        ("0612345678", "FR", "06 12 34 56 78"),
        ("0612", "FR", "06 12"),
        ("06.12.34", "FR", "06 12 34"),
        ("06 1234 5678", "FR", "06 12 34 56 78"),
        ("+33612345678", "FR", "+33 6 12 34 56 78"),
        ("0692123456", "FR", "06 92 12 34 56"),
        ("0470123456", "BE", "0470 12 34 56"),
        ("0151/23456789", "DE", "01512 3456789"),
        ("0612345678", "fr", "06 12 34 56 78"),
        ("\uff10\uff16\uff11\uff12", "FR", "06 12"),
        ("+", "FR", "+"),
        ("", "FR", ""),
        ("abc", "FR", "abc"),
        ("06 12 ab", "FR", "06 12 ab"),
        ("tel:0612", "FR", "tel:0612"),
    ],
)
def test_format_as_you_type(raw: str, region: str, formatted: str) -> None:
    assert format_as_you_type(raw, region) == formatted


def test_format_as_you_type_gives_up_formatting_overlong_input() -> None:
    assert format_as_you_type("06123456789999", "FR") == "06123456789999"


# --- Robustness ----------------------------------------------------------------------------------

def _assert_accepted_or_rejected(raw: str, region: str) -> None:
    try:
        number = parse(raw, region)
    except NumberRejected:
        return
    assert number.region in DEFAULT_POLICY.allowed_regions
    parsed = phonenumbers.parse(number.e164)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.number_type(parsed) in (
        PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE
    )


@settings(max_examples=2000, deadline=None)
@given(raw=st.text(max_size=40), region=st.sampled_from(["FR", "RE", "BE", "GB", "US"]))
def test_any_text_is_a_mobile_in_an_allowed_region_or_a_rejection(raw: str, region: str) -> None:
    _assert_accepted_or_rejected(raw, region)


@settings(max_examples=1000, deadline=None)
@given(raw=st.text(alphabet="0123456789 +.-()", max_size=25),
       region=st.sampled_from(selectable_regions()))
def test_number_like_text_is_a_mobile_in_an_allowed_region_or_a_rejection(
    raw: str, region: str
) -> None:
    _assert_accepted_or_rejected(raw, region)
