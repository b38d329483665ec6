"""Items of hosted and built-in tools (web and file search, computer use, shells, patches, code
interpreter, image generation, MCP, tool search), rendered as calls and results.

No published rule says how the model sees them. The assumption, applied alike to every kind
(docs/counting-rules.md §7): a call is an assistant message addressed to the tool, carrying the
fields that describe what was asked (never ids or statuses); a result is a message from the tool
carrying what it returned; images inside results (screenshots, generated images, code output)
are counted by the model's image rule, never as base64 text. Every such item is an estimate
that names its type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..core.reasons import reason
from ..core.types import JSON
from .content import content_segments
from .context import ItemContext, ItemRenderer
from .prompt import Block, Offset, Segment, Text
from .tools import HOSTED_STYLE, FunctionNamespace

# Fitted constants of hosted-tool items, in tokens, per item (docs/counting-rules.md, "Tool
# history items"), with the recorded cases behind them.
FITTED_ITEMS = {
    # An additional_tools item costs 80 tokens beyond its developer message (framing and tool
    # namespace): gpt-5.6, tool_availability_delta ...additional_tool#0 (2 recordings) and
    # tool_availability_portability ...[R4-T3-additional-tools]#0 (2 recordings, one of them also
    # flagged for its own bare tool). Each holds one function tool: per item or per tool is not
    # told apart, so other shapes are flagged.
    "additional_tools": 80,
    # Estimates, not exact: a tool_search_output that loads tools costs 98 beyond its result
    # message holding each loaded function as a namespace of its own, on gpt-5.4
    # (cross_provider_capability_replay ...#1/#2@59ffe5fd1, 4 cases) and gpt-5.4-mini
    # (keeps_native_tool_search#1/#2); an empty one 11 (the three empty outputs of
    # cross_provider_capability_replay[google-gemini-...-openai-responses-gpt-5.4]#6/#7).
    "tool_search_output": 98,
    "tool_search_output_empty": 11,
}
# Hosted-tool items whose renderer carries a fitted rule and adds its own reasons (render_item adds
# ``unpublished_item`` to the others).
VERIFIED_ITEMS = frozenset({"additional_tools", "tool_search_output"})


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _image(
    url: str | None, file_id: str | None, path: str, ctx: ItemContext, block: Block
) -> list[Segment]:
    part: JSON = {"type": "input_image", "detail": "auto"}
    if url:
        part["image_url"] = url
    if file_id:
        part["file_id"] = file_id
    return content_segments([part], path, ctx, block)


def _call(
    ctx: ItemContext, block: Block, recipient: str, text: str, path: str, json_args: bool = True
) -> None:
    block.segments = ctx.framing.tool_call(recipient, [Text(text, path)], json=json_args)


def _result(ctx: ItemContext, block: Block, author: str, body: list[Segment]) -> None:
    block.segments = ctx.framing.tool_result(author, body)


def _file_search_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "file_search", _compact({"queries": item["queries"]}), f"{path}.queries")
    results = item.get("results") or []
    if results:
        text = "\n\n".join(f"{r.get('filename', '')}\n{r.get('text', '')}".strip() for r in results)
        block.segments += ctx.framing.tool_result("file_search", [Text(text, f"{path}.results")])


def _computer_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    actions = item.get("actions") or ([item["action"]] if item.get("action") else [])
    _call(ctx, block, "computer", _compact(actions[0] if len(actions) == 1 else actions), path)


def _computer_call_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    shot = item["output"]
    body = _image(shot.get("image_url"), shot.get("file_id"), f"{path}.output", ctx, block)
    _result(ctx, block, "computer", body)


def _web_search_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "web_search", _compact(item.get("action") or {}), f"{path}.action")


def _tool_search_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "tool_search", _compact(item["arguments"]), f"{path}.arguments")


def _tools_text(tools: list[Mapping[str, Any]]) -> str:
    """Loaded tools as the model reads tool definitions: functions as a namespace, others JSON."""
    functions = [t for t in tools if t.get("type") == "function"]
    # Tools loaded by a hosted tool: declared as the hosted models declare them, on any family.
    parts = [FunctionNamespace(functions, HOSTED_STYLE).text] if functions else []
    parts += [_compact(t) for t in tools if t.get("type") != "function"]
    return "\n\n".join(parts)


def _loaded_tools_text(tools: list[Mapping[str, Any]]) -> str:
    """Tools loaded by a tool search, each as a namespace of its own.

    A deferred function is loaded as a namespace named after it, its description that of the
    namespace (calls to it come back with ``namespace`` set to its name); a namespace tool as
    itself; any other tool as JSON."""
    parts = []
    for tool in tools:
        if tool.get("type") == "function":
            bare = {k: v for k, v in tool.items() if k != "description"}
            desc = tool.get("description") if isinstance(tool.get("description"), str) else None
            parts.append(
                FunctionNamespace(
                    [bare], HOSTED_STYLE, name=tool["name"], description=desc, headings=False
                ).text
            )
        elif tool.get("type") == "namespace":
            members = [t for t in tool.get("tools") or [] if t.get("type") == "function"]
            parts.append(
                FunctionNamespace(
                    members,
                    HOSTED_STYLE,
                    name=tool["name"],
                    description=tool.get("description"),
                    headings=False,
                ).text
            )
        else:
            parts.append(_compact(tool))
    return "\n\n".join(parts)


def _tool_search_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """The loaded tools, each as a namespace, in the tool's result, plus a fitted constant for
    what OpenAI injects with them (an estimate)."""
    tools = item["tools"]
    key = "tool_search_output" if tools else "tool_search_output_empty"
    body: list[Segment] = [Text(_loaded_tools_text(tools), f"{path}.tools")] if tools else []
    body.append(Offset(FITTED_ITEMS[key], "tool_search_output hidden text"))
    _result(ctx, block, "tool_search", body)
    block.estimate_reasons.append(reason("tool_search_output"))


def _additional_tools(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """A developer message declaring the tools, plus a hidden text no record shows (a fitted
    constant per item, ``FITTED_ITEMS``). Exact only in the shape the records cover: one function
    tool, on a hosted reasoning model."""
    tools = item["tools"]
    block.segments = ctx.framing.message(
        "developer",
        [
            Text(_tools_text(tools), f"{path}.tools"),
            Offset(FITTED_ITEMS["additional_tools"], "additional_tools hidden text"),
        ],
    )
    if not (ctx.hosted_tools and len(tools) == 1 and tools[0].get("type") == "function"):
        kinds = ", ".join(str(t.get("type")) for t in tools) or "no tool"
        block.estimate_reasons.append(reason("additional_tools_shape", tools=kinds))


def _image_generation_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "image_generation", item.get("revised_prompt") or "", path, json_args=False)
    if item.get("result"):
        fmt = item.get("output_format") or "png"
        url = f"data:image/{fmt};base64,{item['result']}"
        block.segments += ctx.framing.tool_result(
            "image_generation", _image(url, None, f"{path}.result", ctx, block)
        )


def _code_interpreter_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "python", item.get("code") or "", f"{path}.code", json_args=False)
    body: list[Segment] = []
    for i, out in enumerate(item.get("outputs") or []):
        if out.get("type") == "logs":
            body.append(Text(out["logs"], f"{path}.outputs[{i}].logs"))
        elif out.get("type") == "image":
            body += _image(out["url"], None, f"{path}.outputs[{i}].url", ctx, block)
    if body:
        block.segments += ctx.framing.tool_result("python", body)


def _local_shell_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    action = {k: v for k, v in item["action"].items() if k != "type" and v is not None}
    _call(ctx, block, "local_shell", _compact(action), f"{path}.action")


def _local_shell_call_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _result(ctx, block, "local_shell", [Text(item["output"], f"{path}.output")])


def _shell_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "shell", _compact(item["action"]), f"{path}.action")


def _shell_call_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    texts = []
    for chunk in item["output"]:
        texts += [t for t in (chunk.get("stdout"), chunk.get("stderr")) if t]
    _result(ctx, block, "shell", [Text("\n".join(texts), f"{path}.output")])


def _apply_patch_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    op = item["operation"]
    text = f"{op['type']} {op['path']}" + (f"\n{op['diff']}" if op.get("diff") else "")
    _call(ctx, block, "apply_patch", text, f"{path}.operation", json_args=False)


def _apply_patch_call_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _result(ctx, block, "apply_patch", [Text(item.get("output") or item["status"], path)])


def _mcp_list_tools(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    tools = [
        {
            "name": t.get("name"),
            "description": t.get("description"),
            "input_schema": t.get("input_schema"),
        }
        for t in item["tools"]
    ]
    _result(ctx, block, item["server_label"], [Text(_compact(tools), f"{path}.tools")])


def _mcp_call(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(
        ctx, block, f"{item['server_label']}.{item['name']}", item["arguments"], f"{path}.arguments"
    )
    result = item.get("output") or (item.get("error") and _compact(item["error"]))
    if result:
        block.segments += ctx.framing.tool_result(
            f"{item['server_label']}.{item['name']}", [Text(result, f"{path}.output")]
        )


def _mcp_approval_request(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(
        ctx, block, f"{item['server_label']}.{item['name']}", item["arguments"], f"{path}.arguments"
    )


def _mcp_approval_response(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    answer = {
        "approve": item["approve"],
        **({"reason": item["reason"]} if item.get("reason") else {}),
    }
    _result(ctx, block, "mcp_approval", [Text(_compact(answer), path)])


def _program(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _call(ctx, block, "program", item["code"], f"{path}.code", json_args=False)


def _program_output(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    _result(ctx, block, "program", [Text(item["result"], f"{path}.result")])


def _invisible(item: JSON, path: str, ctx: ItemContext, block: Block) -> None:
    """Items that change settings or trigger work but put no text before the model."""


HOSTED_RENDERERS: dict[str, ItemRenderer] = {
    "file_search_call": _file_search_call,
    "computer_call": _computer_call,
    "computer_call_output": _computer_call_output,
    "web_search_call": _web_search_call,
    "tool_search_call": _tool_search_call,
    "tool_search_output": _tool_search_output,
    "additional_tools": _additional_tools,
    "configuration_update": _invisible,
    "compaction_trigger": _invisible,
    "image_generation_call": _image_generation_call,
    "code_interpreter_call": _code_interpreter_call,
    "local_shell_call": _local_shell_call,
    "local_shell_call_output": _local_shell_call_output,
    "shell_call": _shell_call,
    "shell_call_output": _shell_call_output,
    "apply_patch_call": _apply_patch_call,
    "apply_patch_call_output": _apply_patch_call_output,
    "mcp_list_tools": _mcp_list_tools,
    "mcp_call": _mcp_call,
    "mcp_approval_request": _mcp_approval_request,
    "mcp_approval_response": _mcp_approval_response,
    "program": _program,
    "program_output": _program_output,
}
