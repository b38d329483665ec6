"""The prompt families table: every model has a row, and renderers read rows, not names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from inputtokens.core.models import MODELS
from inputtokens.core.types import JSON
from inputtokens.render.families import FAMILIES
from inputtokens.render.framing import ChatFraming, HarmonyFraming
from inputtokens.render.items import analysis_before_final, ended_turn_reasoning

RENDER = Path(__file__).resolve().parents[1] / "src" / "inputtokens" / "render"


def test_every_model_family_has_a_row() -> None:
    assert {m.family for m in MODELS.values()} <= set(FAMILIES)
    assert all(name == row.name for name, row in FAMILIES.items())


def test_the_rows() -> None:
    chat, harmony, oss = FAMILIES["chat"], FAMILIES["harmony"], FAMILIES["oss"]
    assert isinstance(chat.framing, ChatFraming)
    assert isinstance(harmony.framing, HarmonyFraming) and not harmony.framing.constrain_json
    assert isinstance(oss.framing, HarmonyFraming) and oss.framing.constrain_json
    assert (chat.tool_style.name, harmony.tool_style.name, oss.tool_style.name) == (
        "chat",
        "hosted",
        "reference",
    )
    assert chat.dropped_reasoning is harmony.dropped_reasoning is ended_turn_reasoning
    assert oss.dropped_reasoning is analysis_before_final
    assert [f.reasoning_confirmed for f in (chat, harmony, oss)] == [False, False, True]


@pytest.mark.parametrize("path", sorted(RENDER.glob("*.py")), ids=lambda p: p.name)
def test_no_renderer_compares_family_names(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not re.search(r"family\s*(==|!=)", source)
    assert not re.search(r'family\s+(not\s+)?in\s+[(\[{]\s*"', source)
    assert not re.search(r"FAMILIES\[\s*\"", source)  # a row is looked up by the model's family


def _imports(path: Path) -> set[str]:
    """The render modules `path` imports, at run time or for type checking alike."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names.add(node.module or "")
    return names


def test_item_modules_do_not_import_each_other() -> None:
    assert "items" not in _imports(RENDER / "hosted_items.py")
    assert "context" in _imports(RENDER / "hosted_items.py")
    assert "context" in _imports(RENDER / "items.py")


def _user(text: str) -> JSON:
    return {"type": "message", "role": "user", "content": text}


def _assistant(text: str) -> JSON:
    return {"type": "message", "role": "assistant", "content": text}


_REASONING: JSON = {"type": "reasoning", "summary": []}


def test_hosted_models_drop_the_reasoning_of_ended_turns() -> None:
    items = [_user("a"), _REASONING, _assistant("b"), _user("c"), _REASONING]
    assert ended_turn_reasoning(items) == frozenset({1})
    assert ended_turn_reasoning([_user("a"), _assistant("b")]) == frozenset()


def test_gpt_oss_drops_analysis_before_the_first_final_answer() -> None:
    items = [_user("a"), _REASONING, _assistant("b"), _user("c"), _REASONING, _assistant("d")]
    assert analysis_before_final(items) == frozenset({1})
    # The last assistant item is not a final answer: nothing is dropped.
    call: JSON = {"type": "function_call", "call_id": "1", "name": "f", "arguments": "{}"}
    assert analysis_before_final([*items, _REASONING, call]) == frozenset()
