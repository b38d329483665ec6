"""The estimate reasons table: the doc lists exactly its rows, and every row is used."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from inputtokens.core.reasons import REASONS, reason

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "counting-rules.md"
SOURCE = ROOT / "src" / "inputtokens"
# A table row of the section: | `code` | `text` | when |
_ROW = re.compile(r"^\| `([a-z0-9_]+)` \| `([^`]+)` \|")


def _documented() -> dict[str, str]:
    """The code -> text rows of the "Estimate reasons" section of counting-rules.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("\n## Estimate reasons\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        match = _ROW.match(line)
        if match:
            assert match[1] not in rows, f"{match[1]} is listed twice"
            rows[match[1]] = match[2]
    return rows


def test_the_doc_lists_exactly_the_codes_of_the_table() -> None:
    assert set(_documented()) == set(REASONS)


@pytest.mark.parametrize("code", sorted(REASONS))
def test_the_doc_shows_each_text_as_the_table_has_it(code: str) -> None:
    assert _documented()[code] == REASONS[code]


def _sources() -> str:
    """Every module of the package but the table itself."""
    table = SOURCE / "core" / "reasons.py"
    return "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(SOURCE.rglob("*.py")) if p != table
    )


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_code_is_used(code: str) -> None:
    assert f'"{code}"' in _sources(), f"no module names the reason {code!r}: a dead row"


def test_codes_are_short_snake_case() -> None:
    for code in REASONS:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", code), code
        assert len(code) <= 32, code


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("code", sorted(REASONS))
def test_each_template_fills_from_its_fields(code: str) -> None:
    fields = {name: f"<{name}>" for name in _fields(REASONS[code])}
    assert all(name.isidentifier() for name in fields)  # plain fields: no index, no attribute
    text = reason(code, **fields)
    assert "{" not in text and "}" not in text
    for value in fields.values():
        assert value in text


def test_reason_fills_fields_and_refuses_unknown_codes() -> None:
    assert (
        reason("namespace_tool", name="crm")
        == "namespace tool 'crm': its rendering is not verified"
    )
    assert reason("detail_original") == "detail 'original' has no published token budget"
    with pytest.raises(KeyError):
        reason("no_such_reason")
    with pytest.raises(KeyError):  # a field the template needs is missing
        reason("namespace_tool")
