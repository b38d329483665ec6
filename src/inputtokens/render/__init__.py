"""Render a validated request into the ``Prompt`` the model sees.

Layout (both families; framing differs, see framing.py):

1. the system section: ``instructions``, then the function tools, then the response format.
   Harmony puts all three in one developer message joined by blank lines; chat models get the
   instructions as a system message and tools/format as a second one.
2. every input item, in order.
3. the reply priming.

``render`` is the single function behind counting, ``inputtokens render`` and the
golden tests. It is pure: no I/O, no global state.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import ModelInfo
from ..request import CountRequest
from .framing import FRAMINGS, HarmonyFraming
from .items import ItemContext, render_item
from .prompt import Block, Prompt, Text
from .tools import render_function_namespace

__all__ = ["render", "Prompt", "Block"]

_SECTION_JOIN = "\n\n"


def _tool_sections(request: CountRequest) -> tuple[str | None, list[str]]:
    """The function namespace text and the estimate reasons for all tools."""
    functions = [t for t in request.tools if t.get("type") == "function"]
    reasons = []
    if functions:
        reasons.append("function tools: rendering not yet fitted on recorded counts")
    others = sorted({str(t.get("type")) for t in request.tools if t.get("type") != "function"})
    text = render_function_namespace(functions) if functions else None
    if others:
        # Hosted tools have no published overhead; their visible definition is counted.
        extra = [json.dumps(t, ensure_ascii=False, separators=(",", ":"))
                 for t in request.tools if t.get("type") != "function"]
        text = _SECTION_JOIN.join(filter(None, [text, "# Tools\n\n" + "\n".join(extra)]))
        reasons.extend(
            "custom tools: rendering not yet fitted on recorded counts" if kind == "custom"
            else f"hosted tool '{kind}': no published token overhead"
            for kind in others
        )
    return text, reasons


def _format_section(request: CountRequest) -> tuple[str | None, list[str]]:
    fmt = (request.text or {}).get("format") or {}
    if fmt.get("type") != "json_schema":
        return None, []  # plain text and json_object add nothing
    lines = ["# Response Formats", "", f"## {fmt.get('name', 'response')}", ""]
    if isinstance(fmt.get("description"), str):
        lines.append(f"// {fmt['description']}")
    lines.append(json.dumps(fmt.get("schema", {}), ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines), ["text.format json_schema: rule not yet fitted on recorded counts"]


def _system_blocks(request: CountRequest, model: ModelInfo) -> list[Block]:
    if not (request.instructions or request.tools or request.text):
        return []
    framing = FRAMINGS[model.family]
    tools_text, tool_reasons = _tool_sections(request)
    format_text, format_reasons = _format_section(request)
    sections: list[tuple[str, str, list[str]]] = []
    blocks: list[Block] = []
    # Empty instructions add nothing (recorded: computer-use-preview, instructions "").
    if request.instructions:
        if isinstance(framing, HarmonyFraming):
            sections.append(("instructions", request.instructions, []))
        else:
            body: list[Any] = [Text(request.instructions, "instructions")]
            blocks.append(Block("instructions", framing.message("system", body)))
    if tools_text is not None:
        sections.append(("tools", tools_text, tool_reasons))
    if format_text is not None:
        sections.append(("text.format", format_text, format_reasons))
    if not sections:
        return blocks
    # One message holds the sections, joined by a blank line. Sections are tokenized apart
    # (each is its own block): the recorded +1 for tools after instructions shows that a
    # trailing "." of the instructions never merges with the "\n\n" that follows it.
    for i, (label, text, reasons) in enumerate(sections):
        last = i == len(sections) - 1
        segments = framing.open(framing.system_role) if i == 0 else []
        segments.append(Text(text if i == 0 else _SECTION_JOIN + text, label))
        if last:
            segments.extend(framing.close())
        blocks.append(Block(label, segments, list(reasons)))
    return blocks


def render(request: CountRequest, model: ModelInfo) -> Prompt:
    """Render `request` for `model`.

    >>> from inputtokens.models import lookup_model
    >>> from inputtokens.request import parse_request
    >>> req = parse_request({"model": "gpt-5", "input": "Tell me a joke."}, default_model="")
    >>> render(req, lookup_model("gpt-5")).text
    '<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant'
    """
    framing = FRAMINGS[model.family]
    prompt = Prompt(model=model.id, encoding=model.encoding)
    prompt.blocks.extend(_system_blocks(request, model))
    ctx = ItemContext(model, framing)
    if request.input_is_text:  # errors and the breakdown name the field the client sent
        text = Text(request.input[0]["content"], "input")
        prompt.blocks.append(Block("input", framing.message("user", [text]), []))
    else:
        for i, item in enumerate(request.input):
            prompt.blocks.append(render_item(item, f"input[{i}]", ctx))
    priming = Block("priming", framing.priming(), [])
    if not model.framing_verified:
        priming.estimate_reasons.append(f"prompt framing of '{model.id}' is not yet verified")
    if (request.reasoning or {}).get("mode") == "pro":
        priming.estimate_reasons.append("reasoning mode 'pro' adds a hidden prompt of unknown size")
    if request.previous_response_id is not None:
        priming.estimate_reasons.append(
            "previous_response_id: stored items are not included (no store configured)"
        )
    if request.conversation is not None:
        priming.estimate_reasons.append(
            "conversation: stored items are not included (no store configured)"
        )
    prompt.blocks.append(priming)
    return prompt

