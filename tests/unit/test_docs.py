"""docs/security.md and docs/reliability.md stay true: every test they cite exists."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "security.md", ROOT / "docs" / "reliability.md"]
CITATION = re.compile(r"`(tests/[\w/]+\.py)((?:::\w+)?)`|`::(\w+)`")


def citations(doc: Path) -> list[tuple[str, str]]:
    """(file, test name or '') for each citation; `::name` refers to the file cited last."""
    found, current = [], ""
    for match in CITATION.finditer(doc.read_text(encoding="utf-8")):
        if match.group(1):
            current = match.group(1)
            found.append((current, match.group(2).removeprefix("::")))
        else:
            found.append((current, match.group(3)))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_cited_test_exists(doc: Path) -> None:
    cited = citations(doc)
    assert cited, f"{doc.name} cites no test"
    missing = []
    for file, name in cited:
        path = ROOT / file
        if not path.exists() or (name and not re.search(rf"^def {name}\(", path.read_text(encoding="utf-8"), re.M)):
            missing.append(f"{file}::{name}" if name else file)
    assert missing == []
