"""Text from outside used as a lookup key or stored as free text.

PostgreSQL refuses NUL bytes in text: a key containing one can match nothing, so it becomes ``""``
(« not found ») instead of a database error; stored free text loses its control characters.
"""

from __future__ import annotations

import unicodedata


def key(value: object, limit: int = 100) -> str:
    """A lookup key (identifier, id, query): bounded, and ``""`` when it cannot match anything."""
    return value[:limit] if isinstance(value, str) and "\x00" not in value else ""


def free_text(value: object, limit: int = 500) -> str:
    """Free text to store (an advisor's note): no control characters, bounded, trimmed."""
    if not isinstance(value, str):
        return ""
    kept = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return kept.strip()[:limit]
