"""libphonenumber's own example numbers, for every allowed region and every number type, through the
number rule (PRODUCT.md §5.1) and the mask.

`phonenumbers.example_number_for_type(region, type)` gives one number per region and type (``None``
where the region has none). What an example *is* comes from `phonenumbers.number_type` on it: the
example asked for FIXED_LINE_OR_MOBILE is often a plain landline ("01 23 45 67 89" in France), and
the Saint-Barthélemy mobile is a Guadeloupe number (+590 shares its ranges).

- Typed in international form, or nationally with its own region selected: a mobile (or
  fixed-line-or-mobile) example is accepted as that very number; every other type is refused with
  its own problem.
- Typed nationally with any allowed region selected: the number stored is the example itself, the
  digits' number in the region selected, or (France selected) the digits' only reading in the
  overseas territories, or (a territory selected) their metropolitan reading; digits that are a
  number in several territories are refused as ambiguous. Never a third region's number otherwise.
- The mask rule holds for every example.
"""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from secure_phone.domain.phone import (
    NumberProblem,
    NumberRejected,
    PhoneNumber,
    parse_new_number,
    phone_from_e164,
)
from secure_phone.domain.policy import DEFAULT_POLICY, FRENCH_OVERSEAS_REGIONS
from tests.unit.mask_rule import assert_mask_rule

REGIONS = sorted(DEFAULT_POLICY.allowed_regions)
TYPES = {name: value for name, value in vars(PhoneNumberType).items() if name.isupper() and name != "UNKNOWN"}
ACCEPTED_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
REFUSED_AS = {  # written out here rather than read from the module under test
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
FRENCH_PLAN = ("FR", *FRENCH_OVERSEAS_REGIONS)


class Example:
    """One example number: where it was asked for, what it is, how it is written."""

    def __init__(self, region: str, asked: str, number: phonenumbers.PhoneNumber) -> None:
        self.region, self.asked = region, asked
        self.e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        self.international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        self.national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
        self.valid = phonenumbers.is_valid_number(number)
        self.type = phonenumbers.number_type(number)
        self.number_region = phonenumbers.region_code_for_number(number)

    @property
    def expected(self) -> PhoneNumber | NumberProblem:
        if self.type in ACCEPTED_TYPES:
            return PhoneNumber(e164=self.e164, region=self.number_region)
        return REFUSED_AS[self.type]

    def __repr__(self) -> str:
        return f"{self.region}-{self.asked}"


EXAMPLES = [
    Example(region, name, number)
    for region in REGIONS
    for name, value in sorted(TYPES.items())
    if (number := phonenumbers.example_number_for_type(region, value)) is not None
]


def outcome(raw: str, region: str) -> PhoneNumber | NumberProblem:
    try:
        return parse_new_number(raw, region, current_e164=None)
    except NumberRejected as rejected:
        return rejected.problem


def test_there_are_examples_of_every_kind() -> None:
    assert len(EXAMPLES) > 300
    assert {e.region for e in EXAMPLES} == set(REGIONS)  # every allowed region has examples
    assert {e.type for e in EXAMPLES} == ACCEPTED_TYPES | set(REFUSED_AS)  # and every type appears
    assert all(e.valid and e.number_region in DEFAULT_POLICY.allowed_regions for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=repr)
def test_an_example_typed_internationally_is_itself(example: Example) -> None:
    for raw in (example.e164, example.international, "00" + example.e164[1:]):
        for selected in ("FR", example.region, "DE"):
            assert outcome(raw, selected) == example.expected, (raw, selected)


@pytest.mark.parametrize("example", EXAMPLES, ids=repr)
def test_an_example_typed_nationally_with_its_region_selected_is_itself(example: Example) -> None:
    assert outcome(example.national, example.region) == example.expected


def _readings(raw: str, regions: tuple[str, ...]) -> dict[str, str]:
    """E.164 → region of each distinct valid number the digits are when typed under `regions`."""
    found = {}
    for region in regions:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            found[phonenumbers.format_number(number, PhoneNumberFormat.E164)] = (
                phonenumbers.region_code_for_number(number))
    return found


@pytest.mark.parametrize("selected", REGIONS)
def test_an_example_typed_nationally_elsewhere_is_never_a_third_regions_number(selected: str) -> None:
    """Every example typed as its owner writes it at home, under another region selected."""
    third_region_numbers = []
    for example in EXAMPLES:
        result = outcome(example.national, selected)
        in_selected = _readings(example.national, (selected,))
        if isinstance(result, PhoneNumber):
            if result.e164 == example.e164 or result.e164 in in_selected:
                continue  # the example itself, or what the digits are in the country selected
            assert not in_selected, (example, result)  # the country selected reads them otherwise
            assert selected in FRENCH_PLAN, (example, result)
            elsewhere = _readings(example.national, FRENCH_OVERSEAS_REGIONS if selected == "FR" else ("FR",))
            assert list(elsewhere) == [result.e164], (example, result, elsewhere)  # the one reading
            third_region_numbers.append((example, result))
        elif result is NumberProblem.AMBIGUOUS_TERRITORY:
            assert selected == "FR" and not in_selected, example
            with pytest.raises(NumberRejected) as info:
                parse_new_number(example.national, selected, current_e164=None)
            readings = _readings(example.national, FRENCH_OVERSEAS_REGIONS)
            assert len(readings) >= 2 and set(info.value.regions) == set(readings.values()), example
        elif example.region == selected:
            assert result == example.expected, example
    for example, result in third_region_numbers:  # only ever a number of the French plan
        assert result.region in FRENCH_PLAN, (example, result)


def test_french_plan_mobiles_typed_with_france_selected() -> None:
    """As their owners type them: accepted, unless the digits are a number in several territories."""
    ambiguous = {}
    for example in EXAMPLES:
        if example.region not in FRENCH_PLAN or example.type not in ACCEPTED_TYPES:
            continue
        result = outcome(example.national, "FR")
        if result is NumberProblem.AMBIGUOUS_TERRITORY:
            with pytest.raises(NumberRejected) as info:
                parse_new_number(example.national, "FR", current_e164=None)
            assert example.number_region in info.value.regions  # the customer can pick theirs
            ambiguous[example.national] = info.value.regions
        else:
            assert result == example.expected, example
    # The six-digit numbers of New Caledonia and Wallis-et-Futuna are numbers of Saint-Pierre-et-
    # Miquelon too (its plan takes almost any six digits): the territory must be selected.
    assert ambiguous == {"75.12.34": ("PM", "NC"), "82 12 34": ("PM", "WF", "NC"), "72 12 34": ("PM", "WF", "NC")}


def test_french_plan_non_mobiles_typed_with_france_selected_are_never_stored() -> None:
    for example in EXAMPLES:
        if example.region in FRENCH_PLAN and example.type not in ACCEPTED_TYPES:
            result = outcome(example.national, "FR")
            assert isinstance(result, NumberProblem), (example, result)


@pytest.mark.parametrize("example", EXAMPLES, ids=repr)
def test_the_mask_rule_holds_for_every_example(example: Example) -> None:
    assert_mask_rule(phone_from_e164(example.e164))
