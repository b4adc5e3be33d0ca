"""The masking rule, checked on any number (PRODUCT.md §5.1, UX.md "Numbers are readable").

`PhoneNumber.masked` shows, of the national form, at most the digits of its first group and the
last two, and never more than a third of the number's own digits. The trunk prefix (the "0" of
"06 12 34 56 78", "06" in Hungary) is the same for every number of its country: it is shown and
not counted, so "06 •• •• •• 78" shows 3 of its 9 digits (6, 7, 8).
"""

from __future__ import annotations

import re

import phonenumbers

from secure_phone.domain.phone import MASK, PhoneNumber


def assert_mask_rule(phone: PhoneNumber) -> None:
    national, masked = phone.national, phone.masked
    assert len(masked) == len(national), (national, masked)
    for shown, real in zip(masked, national, strict=True):
        if not real.isdigit():
            assert shown == real, (national, masked)  # the layout is kept
        else:
            assert shown in (real, MASK), (national, masked)
    visible = [shown != MASK for shown, real in zip(masked, national, strict=True) if real.isdigit()]
    digits = phonenumbers.normalize_digits_only(national)
    lead = visible.index(False)  # something is always hidden
    tail = len(visible) - 1 - max(i for i, v in enumerate(visible) if not v)
    assert visible == [True] * lead + [False] * (len(visible) - lead - tail) + [True] * tail, masked

    nsn = phonenumbers.national_significant_number(phonenumbers.parse(phone.e164))
    trunk = len(digits) - len(nsn) if digits.endswith(nsn) else 0
    own = len(digits) - trunk
    first_group = len(re.search(r"\d+", national).group())  # type: ignore[union-attr]
    shown_own = max(lead - trunk, 0) + tail
    assert shown_own <= own // 3, (national, masked)  # never more than a third
    assert tail == min(2, own // 3), (national, masked)  # the last two stay
    assert lead == trunk + min(max(first_group - trunk, 0), own // 3 - tail), (national, masked)
    assert lead <= max(first_group, trunk)  # at most the first group

    # What the screens and the screen readers use.
    assert phone.masked_first == digits[:lead]
    assert phone.masked_last == digits[len(digits) - tail:]
    if tail == 2:
        assert phone.masked_last == phone.last_two == phone.e164[-2:]
    but_last = phone.masked_but_last
    assert [ch for ch in but_last if ch.isdigit()] == list(phone.masked_last)
    assert len(but_last) == len(national)
