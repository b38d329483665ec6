"""Rendered tools sections kept by content (render/kept.py): the same tools give the same
section as rendering them afresh, a caller's changes to a section never reach the next
request, and content marshal cannot take is rendered every time."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from inputtokens import count_input_tokens
from inputtokens.render.families import FAMILIES
from inputtokens.render.kept import Kept
from inputtokens.render.system import _tools_section, tools_section

TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def _same(a: Any, b: Any) -> bool:
    return (a is None and b is None) or (
        (a.label, a.text, a.offsets, a.reasons) == (b.label, b.text, b.offsets, b.reasons)
    )


def test_kept_section_is_the_fresh_one_and_a_copy() -> None:
    for family in FAMILIES.values():
        style = family.tool_style
        tools = (copy.deepcopy(TOOL),)
        first = tools_section(tools, style)
        assert _same(first, _tools_section(tools, style))
        assert first is not None
        first.offsets.append(first.offsets[0] if first.offsets else None)  # type: ignore[arg-type]
        first.reasons.append("changed by a caller")
        again = tools_section((copy.deepcopy(TOOL),), style)
        assert _same(again, _tools_section(tools, style))


def test_counts_with_kept_tools_equal_counts_without() -> None:
    body = {"model": "gpt-5", "input": "Hi", "tools": [TOOL]}
    longer = {"postal_code_of_the_city": {"type": "string"}}
    other = {**TOOL, "parameters": {"type": "object", "properties": longer}}
    first = count_input_tokens(body).input_tokens
    assert count_input_tokens(copy.deepcopy(body)).input_tokens == first
    changed = count_input_tokens({**body, "tools": [other]}).input_tokens
    assert changed != first  # a different schema is not the kept one


class _Mapping(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Any:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_unmarshallable_content_is_made_every_time() -> None:
    kept: Kept[int] = Kept(4, b"test")
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    assert kept.get((_Mapping({"a": 1}),), None, make) == 1
    assert kept.get((_Mapping({"a": 1}),), None, make) == 2
    assert kept.get(({"a": 1},), None, make) == 3
    assert kept.get(({"a": 1},), None, make) == 3  # plain JSON: kept
    assert kept.get(({"a": 1.0},), None, make) == 4  # 1.0 is not 1
    assert kept.get(({"a": 1},), "other style", make) == 5


def test_bounded() -> None:
    kept: Kept[int] = Kept(2, b"test")
    for i in range(5):
        kept.get([i], None, lambda i=i: i)  # type: ignore[misc]
    assert len(kept._values) == 2
