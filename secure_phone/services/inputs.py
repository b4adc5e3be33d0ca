"""Text from outside used as a lookup key or stored as free text.

PostgreSQL refuses NUL bytes in text: a key containing one can match nothing, so it becomes ``""``
(« not found ») instead of a database error; stored free text loses its control characters.
"""

from __future__ import annotations

import unicodedata

# What the services read of a field, at most (a longer value is cut there, whatever the page sent).
NUMBER_LIMIT = 40  # a phone number as typed
CODE_LIMIT = 20  # an SMS code, a Sécur'Pass code as typed (their formats are checked after)
IDENTIFIER_LIMIT = 40  # a customer identifier, an advisor login
PASSWORD_LIMIT = 200
QUERY_LIMIT = 60  # the advisor's search
DOCUMENT_LIMIT = 40  # an identity document's number
REASON_LIMIT = 60  # a reason's key (contact, refusal, operation kind)


def key(value: object, limit: int = 100) -> str:
    """A lookup key (identifier, id, query): bounded, and ``""`` when it cannot match anything."""
    return value[:limit] if isinstance(value, str) and "\x00" not in value else ""


def free_text(value: object, limit: int = 500) -> str:
    """Free text to store (an advisor's note): no control characters, bounded, trimmed."""
    if not isinstance(value, str):
        return ""
    kept = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return kept.strip()[:limit]
