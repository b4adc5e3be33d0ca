"""No link in a notification (PRODUCT.md §7, issue 14): a bank's SMS or email with a link is what a phishing
one looks like, so none of ours has any — the customer goes to the app or the web area by themselves.

The WebOTP line that ends the SMS to a new number (``@host #code``, origin-bound one-time codes) names the
origin without a scheme: a browser reads it, it is not a link; it is checked apart.
"""

from __future__ import annotations

import re

import pytest

from secure_phone import i18n

SMS_KEYS = [key for key in i18n.MESSAGES["fr"] if key.startswith("sms.body.")] + [
    "notif.change", "notif.welcome", "notif.activation", "notif.move.refused"]
EMAIL_KEYS = [key for key in i18n.MESSAGES["fr"] if key.startswith("notif.")]
WEBOTP_LINE = re.compile(r"^@(?P<host>[a-z0-9.-]+(?::\d+)?) #(?P<code>\d+)$")
LINK = re.compile(r"https?://|www\.|\b[\w-]+\.(?:fr|com|net|org|eu|example|bank|banque|io)\b|<a\b", re.IGNORECASE)


class _Any(dict):
    def __missing__(self, key: str) -> str:
        return {"host": "banque.example", "code": "12345678"}.get(key, "X")


def test_the_sms_and_email_keys_exist() -> None:
    assert {"sms.body.new_number", "notif.email.body", "notif.change"} <= set(SMS_KEYS) | set(EMAIL_KEYS)


@pytest.mark.parametrize("lang", i18n.LANGS)
@pytest.mark.parametrize("key", sorted(set(SMS_KEYS) | set(EMAIL_KEYS)))
def test_no_notification_has_a_link(key: str, lang: str) -> None:
    text = i18n.MESSAGES[lang][key].format_map(_Any())
    lines = text.split("\n")
    if lines and WEBOTP_LINE.match(lines[-1]):
        assert key.startswith("sms.body.") and WEBOTP_LINE.match(lines[-1])["host"] == "banque.example"
        lines = lines[:-1]
    assert not LINK.search("\n".join(lines)), f"{key} ({lang}) carries a link"


def test_the_link_check_sees_links() -> None:
    """Control: the check above would see one."""
    for text in ("Voir https://x.y", "www.ma-banque", "ma-banque.fr/aide", '<a href="#">ici</a>'):
        assert LINK.search(text), text
