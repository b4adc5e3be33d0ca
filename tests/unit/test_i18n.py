"""The translation catalogue: complete in both languages, no key defined twice, French typography."""

import ast
import re
from pathlib import Path

from secure_phone import i18n

SOURCE = Path(i18n.__file__).read_text(encoding="utf-8")


def test_no_key_is_defined_twice() -> None:
    """A dict literal silently keeps the last of two equal keys: one text would vanish."""
    catalog = next(node.value for node in ast.walk(ast.parse(SOURCE))
                   if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "_CATALOG")
    keys = [k.value for k in catalog.keys]
    assert sorted({k for k in keys if keys.count(k) > 1}) == []


def test_both_languages_have_every_key_and_no_empty_text() -> None:
    assert i18n.MESSAGES["fr"].keys() == i18n.MESSAGES["en"].keys()
    assert all(text.strip() for lang in i18n.LANGS for text in i18n.MESSAGES[lang].values())


def test_french_typography_uses_no_break_spaces() -> None:
    for text in i18n.MESSAGES["fr"].values():
        assert not re.search(r" [:;!?]", text), text


def test_placeholders_match_between_languages() -> None:
    for key, fr in i18n.MESSAGES["fr"].items():
        assert set(re.findall(r"{(\w+)}", fr)) == set(re.findall(r"{(\w+)}", i18n.MESSAGES["en"][key])), key


def test_every_key_used_by_the_code_exists() -> None:
    root = Path(i18n.__file__).parent
    used = set()
    for path in root.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    assert sorted(used - i18n.MESSAGES["fr"].keys()) == []


def test_every_country_of_the_number_field_and_every_page_has_its_name() -> None:
    from secure_phone.domain.phone import selectable_regions
    from secure_phone.domain.policy import DEFAULT_POLICY
    from secure_phone.ui.paths import TITLES

    keys = [f"region.{code}" for code in selectable_regions(DEFAULT_POLICY)] + list(TITLES.values())
    assert [k for k in keys if k not in i18n.MESSAGES["fr"]] == []


def test_every_code_on_the_advisor_timeline_has_words() -> None:
    """No raw code on a screen (issue 14): each code an audit entry's reason can carry has its label."""
    from secure_phone.domain.change_request import RefusalReason
    from secure_phone.domain.eligibility import MoveRefusal
    from secure_phone.domain.phone import NumberProblem
    from secure_phone.domain.securpass import Rejection
    from secure_phone.services.advisor import detail_key
    from secure_phone.services.contact import REASONS

    codes = [*Rejection, *RefusalReason, *NumberProblem, *MoveRefusal]
    extra = ["factor_changed", "advisor", "number_unavailable", "mysys_unavailable", "proof_failed",
             "activation.not_possible", "change.in_progress", "number.unavailable"]
    for code in [c.value for c in codes] + list(REASONS) + extra:
        key = detail_key(code)
        assert key != "detail.other" or code == "other", code
        for lang in ("fr", "en"):
            words = i18n.text(key, lang)
            assert words and "_" not in words and not ("." in code and code in words), (code, lang)
    from secure_phone.domain.operator import Reason

    for reason in Reason:  # the operator's signals (§12.4), recorded as the entry's ``signal``
        assert detail_key(reason.value, "signal") != "detail.other", reason
    assert detail_key("unavailable", "signal") == "detail.signal.unavailable"  # not the number rule's
    assert detail_key("unavailable", "problem") == "detail.unavailable"
    assert detail_key("no_such_code") == "detail.other"
