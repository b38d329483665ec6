"""The request schema: every input item and tool validates; bad bodies fail at the right path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inputtokens.core.errors import InvalidRequestError
from inputtokens.formats.responses_schema import (
    BODY,
    CONTENT_PART,
    INPUT_ITEM,
    INPUT_MAX_LENGTH,
    TOOL,
    TOOL_CHOICE,
)

CASES = Path(__file__).resolve().parents[2] / "shared" / "accuracy" / "cases.jsonl"

_SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
_TEXT = {"type": "input_text", "text": "hi"}
_IMAGE = {"type": "input_image", "detail": "high", "image_url": "data:image/png;base64,AAAA"}
_FILE = {
    "type": "input_file",
    "detail": "auto",
    "file_data": "JVBERi0=",
    "file_id": None,
    "file_url": None,
    "filename": "a.pdf",
}
_OUTPUT_TEXT = {
    "type": "output_text",
    "text": "Hello!",
    "annotations": [
        {
            "type": "url_citation",
            "url": "https://x.y",
            "title": "t",
            "start_index": 0,
            "end_index": 3,
        },
        {"type": "file_citation", "file_id": "file_1", "filename": "f.txt", "index": 0},
    ],
    "logprobs": [{"token": "Hello", "bytes": [72], "logprob": -0.1, "top_logprobs": []}],
}
_CONTAINER_AUTO = {
    "type": "container_auto",
    "file_ids": ["file_1"],
    "memory_limit": "4g",
    "network_policy": {
        "type": "allowlist",
        "allowed_domains": ["pypi.org"],
        "domain_secrets": [{"domain": "pypi.org", "name": "TOKEN", "value": "s"}],
    },
    "skills": [
        {"type": "skill_reference", "skill_id": "sk_1", "version": "latest"},
        {
            "type": "inline",
            "name": "csv",
            "description": "CSV helpers",
            "source": {"type": "base64", "media_type": "application/zip", "data": "UEsDBA=="},
        },
    ],
}
_LOCAL_ENV = {"type": "local", "skills": [{"name": "n", "description": "d", "path": "/skills/n"}]}
_BREAKPOINT = {"mode": "explicit", "ttl": "30m"}
_PROGRAM_CALLER = {"type": "program", "caller_id": "call_prog"}

# (minimal, fuller) example of every input item variant.
ITEMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "message": (
        {"role": "user", "content": "Hello"},
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "phase": "final_answer",
            "content": [_OUTPUT_TEXT, {"type": "refusal", "refusal": "No."}],
        },
    ),
    "file_search_call": (
        {"type": "file_search_call", "id": "fs_1", "queries": ["q"], "status": "completed"},
        {
            "type": "file_search_call",
            "id": "fs_1",
            "queries": ["q"],
            "status": "failed",
            "results": [
                {
                    "attributes": {"a": 1, "b": "x", "c": True},
                    "file_id": "file_1",
                    "filename": "f.txt",
                    "score": 0.5,
                    "text": "chunk",
                }
            ],
        },
    ),
    "computer_call": (
        {
            "type": "computer_call",
            "id": "cu_1",
            "call_id": "call_1",
            "pending_safety_checks": [],
            "status": "completed",
        },
        {
            "type": "computer_call",
            "id": "cu_1",
            "call_id": "call_1",
            "pending_safety_checks": [{"id": "sc_1", "code": "malicious", "message": "m"}],
            "status": "in_progress",
            "action": {"type": "click", "button": "left", "x": 1, "y": 2, "keys": ["ctrl"]},
            "actions": [
                {"type": "double_click", "keys": [], "x": 1, "y": 2},
                {"type": "drag", "path": [{"x": 1, "y": 2}, {"x": 3, "y": 4}], "keys": None},
                {"type": "keypress", "keys": ["ctrl", "c"]},
                {"type": "move", "x": 5, "y": 6},
                {"type": "screenshot"},
                {"type": "scroll", "scroll_x": 0, "scroll_y": 100, "x": 5, "y": 6},
                {"type": "type", "text": "hello"},
                {"type": "wait"},
            ],
        },
    ),
    "computer_call_output": (
        {
            "type": "computer_call_output",
            "call_id": "call_1",
            "output": {"type": "computer_screenshot"},
        },
        {
            "type": "computer_call_output",
            "id": "cuo_1",
            "call_id": "call_1",
            "output": {
                "type": "computer_screenshot",
                "image_url": "data:image/png;base64,AA",
                "file_id": None,
            },
            "acknowledged_safety_checks": [{"id": "sc_1"}],
            "status": "completed",
        },
    ),
    "web_search_call": (
        {"type": "web_search_call", "id": "ws_1", "status": "completed"},
        {
            "type": "web_search_call",
            "id": "ws_1",
            "status": "incomplete",
            "action": {
                "type": "search",
                "query": "weather",
                "queries": ["weather", "forecast"],
                "sources": [{"type": "url", "url": "https://x.y"}],
            },
        },
    ),
    "function_call": (
        {"type": "function_call", "arguments": "{}", "call_id": "call_1", "name": "f"},
        {
            "type": "function_call",
            "arguments": '{"q": "x"}',
            "call_id": "call_1",
            "name": "f",
            "id": "fc_1",
            "namespace": "crm",
            "status": "completed",
            "async": True,
            "caller": _PROGRAM_CALLER,
        },
    ),
    "function_call_output": (
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": [
                {**_TEXT, "prompt_cache_breakpoint": _BREAKPOINT},
                {"type": "input_image", "file_id": "file_1", "prompt_cache_breakpoint": None},
                _FILE,
            ],
            "id": "fco_1",
            "status": "incomplete",
            "caller": {"type": "direct"},
            "name": "f",
            "namespace": "crm",
        },
    ),
    "tool_search_call": (
        {"type": "tool_search_call", "arguments": {"query": "crm"}},
        {
            "type": "tool_search_call",
            "arguments": {"query": "crm"},
            "id": "ts_1",
            "call_id": "call_1",
            "execution": "client",
            "status": "completed",
        },
    ),
    "tool_search_output": (
        {"type": "tool_search_output", "tools": []},
        {
            "type": "tool_search_output",
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "parameters": _SCHEMA,
                    "strict": True,
                    "defer_loading": True,
                },
                {"type": "apply_patch"},
            ],
            "id": "tso_1",
            "call_id": "call_1",
            "execution": "server",
            "status": "completed",
        },
    ),
    "reasoning": (
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [{"type": "summary_text", "text": "Thinking."}],
            "content": [{"type": "reasoning_text", "text": "Step 1."}],
            "encrypted_content": "gAAAA",
            "status": "completed",
        },
    ),
    "additional_tools": (
        {"type": "additional_tools", "role": "developer", "tools": []},
        {
            "type": "additional_tools",
            "role": "developer",
            "id": "at_1",
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "parameters": _SCHEMA,
                    "strict": True,
                    "allowed_callers": ["programmatic"],
                },
                {"type": "programmatic_tool_calling"},
            ],
        },
    ),
    "configuration_update": (
        {"type": "configuration_update"},
        {
            "type": "configuration_update",
            "id": "cu_1",
            "reasoning": {"effort": "xhigh"},
            "text": {"format": {"type": "json_schema", "name": "r", "schema": _SCHEMA}},
        },
    ),
    "compaction": (
        {"type": "compaction", "encrypted_content": "gAAAA"},
        {"type": "compaction", "encrypted_content": "gAAAA", "id": "cmp_1"},
    ),
    "image_generation_call": (
        {"type": "image_generation_call", "id": "ig_1", "result": None, "status": "generating"},
        {
            "type": "image_generation_call",
            "id": "ig_1",
            "result": "iVBORw0",
            "status": "failed",
            "action": "generate",
            "background": "opaque",
            "error": {
                "code": "moderation_blocked",
                "message": "Blocked.",
                "param": None,
                "type": "image_generation_user_error",
                "moderation_details": {"categories": ["violence"], "moderation_stage": "input"},
            },
            "output_format": "svg",
            "quality": "max",
            "revised_prompt": "A cat.",
            "size": "1024x1024",
            "svg_usage": {
                "input_tokens": 10,
                "model": "gpt-5",
                "output_tokens": 20,
                "reasoning_tokens": 5,
                "total_tokens": 30,
            },
        },
    ),
    "code_interpreter_call": (
        {
            "type": "code_interpreter_call",
            "id": "ci_1",
            "code": None,
            "container_id": "cntr_1",
            "outputs": None,
            "status": "interpreting",
        },
        {
            "type": "code_interpreter_call",
            "id": "ci_1",
            "code": "print(1)",
            "container_id": "cntr_1",
            "outputs": [{"type": "logs", "logs": "1\n"}, {"type": "image", "url": "https://i"}],
            "status": "completed",
        },
    ),
    "local_shell_call": (
        {
            "type": "local_shell_call",
            "id": "ls_1",
            "call_id": "call_1",
            "status": "completed",
            "action": {"type": "exec", "command": ["ls"], "env": {}},
        },
        {
            "type": "local_shell_call",
            "id": "ls_1",
            "call_id": "call_1",
            "status": "in_progress",
            "action": {
                "type": "exec",
                "command": ["ls", "-la"],
                "env": {"PATH": "/bin"},
                "timeout_ms": 1000,
                "user": "root",
                "working_directory": "/tmp",
            },
        },
    ),
    "local_shell_call_output": (
        {"type": "local_shell_call_output", "id": "ls_1", "output": "{}"},
        {"type": "local_shell_call_output", "id": "ls_1", "output": "{}", "status": "completed"},
    ),
    "shell_call": (
        {"type": "shell_call", "call_id": "call_1", "action": {"commands": ["ls"]}},
        {
            "type": "shell_call",
            "call_id": "call_1",
            "action": {"commands": ["ls", "pwd"], "max_output_length": 1000, "timeout_ms": 500},
            "id": "sh_1",
            "environment": {"type": "container_reference", "container_id": "cntr_1"},
            "status": "completed",
            "caller": _PROGRAM_CALLER,
        },
    ),
    "shell_call_output": (
        {"type": "shell_call_output", "call_id": "call_1", "output": []},
        {
            "type": "shell_call_output",
            "call_id": "call_1",
            "output": [
                {"outcome": {"type": "exit", "exit_code": 0}, "stdout": "a\n", "stderr": ""},
                {"outcome": {"type": "timeout"}, "stdout": "", "stderr": "slow"},
            ],
            "id": "sho_1",
            "max_output_length": 1000,
            "status": "completed",
            "caller": {"type": "direct"},
        },
    ),
    "apply_patch_call": (
        {
            "type": "apply_patch_call",
            "call_id": "call_1",
            "status": "completed",
            "operation": {"type": "delete_file", "path": "a.txt"},
        },
        {
            "type": "apply_patch_call",
            "call_id": "call_1",
            "status": "in_progress",
            "operation": {"type": "update_file", "path": "a.txt", "diff": "@@ -1 +1 @@\n-a\n+b"},
            "id": "ap_1",
            "caller": _PROGRAM_CALLER,
        },
    ),
    "apply_patch_call_output": (
        {"type": "apply_patch_call_output", "call_id": "call_1", "status": "failed"},
        {
            "type": "apply_patch_call_output",
            "call_id": "call_1",
            "status": "completed",
            "id": "apo_1",
            "output": "patched",
            "caller": _PROGRAM_CALLER,
        },
    ),
    "mcp_list_tools": (
        {"type": "mcp_list_tools", "id": "ml_1", "server_label": "wiki", "tools": []},
        {
            "type": "mcp_list_tools",
            "id": "ml_1",
            "server_label": "wiki",
            "tools": [
                {
                    "name": "ask",
                    "input_schema": _SCHEMA,
                    "annotations": {"readOnlyHint": True},
                    "description": "Ask.",
                },
            ],
            "error": None,
        },
    ),
    "mcp_approval_request": (
        {
            "type": "mcp_approval_request",
            "id": "mr_1",
            "arguments": "{}",
            "name": "ask",
            "server_label": "wiki",
        },
        {
            "type": "mcp_approval_request",
            "id": "mr_1",
            "arguments": '{"q": "x"}',
            "name": "ask",
            "server_label": "wiki",
        },
    ),
    "mcp_approval_response": (
        {"type": "mcp_approval_response", "approval_request_id": "mr_1", "approve": True},
        {
            "type": "mcp_approval_response",
            "approval_request_id": "mr_1",
            "approve": False,
            "id": "ma_1",
            "reason": "no",
        },
    ),
    "mcp_call": (
        {"type": "mcp_call", "id": "mc_1", "arguments": "{}", "name": "ask", "server_label": "w"},
        {
            "type": "mcp_call",
            "id": "mc_1",
            "arguments": "{}",
            "name": "ask",
            "server_label": "w",
            "approval_request_id": "mr_1",
            "error": {"type": "mcp_protocol_error", "code": -32600, "message": "bad"},
            "output": "answer",
            "status": "calling",
        },
    ),
    "custom_tool_call_output": (
        {"type": "custom_tool_call_output", "call_id": "call_1", "output": "ok"},
        {
            "type": "custom_tool_call_output",
            "call_id": "call_1",
            "output": [_TEXT, _IMAGE, _FILE],
            "id": "cto_1",
            "caller": _PROGRAM_CALLER,
        },
    ),
    "custom_tool_call": (
        {"type": "custom_tool_call", "call_id": "call_1", "input": "x", "name": "grep"},
        {
            "type": "custom_tool_call",
            "call_id": "call_1",
            "input": "x",
            "name": "grep",
            "id": "ctc_1",
            "namespace": "crm",
            "async": False,
            "caller": {"type": "direct"},
        },
    ),
    "compaction_trigger": (
        {"type": "compaction_trigger"},
        {"type": "compaction_trigger", "id": "ct_1"},
    ),
    "item_reference": (
        {"id": "msg_1"},
        {"type": "item_reference", "id": "msg_1"},
    ),
    "program": (
        {
            "type": "program",
            "id": "prg_1",
            "call_id": "call_prog",
            "code": "return 1;",
            "fingerprint": "fp_1",
        },
        {
            "type": "program",
            "id": "prg_1",
            "call_id": "call_prog",
            "code": "const r = await tools.f({q: 'x'});\nreturn r;",
            "fingerprint": "fp_1",
        },
    ),
    "program_output": (
        {
            "type": "program_output",
            "id": "prgo_1",
            "call_id": "call_prog",
            "result": "1",
            "status": "completed",
        },
        {
            "type": "program_output",
            "id": "prgo_1",
            "call_id": "call_prog",
            "result": "",
            "status": "incomplete",
        },
    ),
}

# (minimal, fuller) example of every tool variant.
TOOLS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "function": (
        {"type": "function", "name": "f"},
        {
            "type": "function",
            "name": "f",
            "description": "Does f.",
            "parameters": _SCHEMA,
            "strict": True,
            "defer_loading": False,
            "async": True,
            "allowed_callers": ["direct", "programmatic"],
            "output_schema": _SCHEMA,
        },
    ),
    "file_search": (
        {"type": "file_search", "vector_store_ids": ["vs_1"]},
        {
            "type": "file_search",
            "vector_store_ids": ["vs_1"],
            "max_num_results": 10,
            "filters": {
                "type": "and",
                "filters": [
                    {"type": "eq", "key": "lang", "value": "en"},
                    {
                        "type": "or",
                        "filters": [
                            {"type": "in", "key": "year", "value": [2024, "2025"]},
                            {"type": "gte", "key": "score", "value": 0.5},
                        ],
                    },
                ],
            },
            "ranking_options": {
                "ranker": "default-2024-11-15",
                "score_threshold": 0.2,
                "hybrid_search": {"embedding_weight": 0.7, "text_weight": 0.3},
            },
        },
    ),
    "computer": ({"type": "computer"}, {"type": "computer"}),
    "computer_use_preview": (
        {
            "type": "computer_use_preview",
            "display_width": 1024,
            "display_height": 768,
            "environment": "browser",
        },
        {
            "type": "computer_use_preview",
            "display_width": 1920.0,
            "display_height": 1080,
            "environment": "ubuntu",
        },
    ),
    "web_search": (
        {"type": "web_search"},
        {
            "type": "web_search",
            "external_web_access": False,
            "filters": {"allowed_domains": ["pubmed.ncbi.nlm.nih.gov"]},
            "search_context_size": "high",
            "user_location": {
                "type": "approximate",
                "city": "Paris",
                "country": "FR",
                "region": None,
                "timezone": "Europe/Paris",
            },
        },
    ),
    "web_search_2025_08_26": (
        {"type": "web_search_2025_08_26"},
        {
            "type": "web_search_2025_08_26",
            "search_context_size": "low",
            "user_location": {"country": "US"},
        },
    ),
    "mcp": (
        {"type": "mcp", "server_label": "wiki"},
        {
            "type": "mcp",
            "server_label": "wiki",
            "server_url": "https://mcp.example/sse",
            "server_description": "A wiki.",
            "allowed_tools": {"read_only": True, "tool_names": ["ask"]},
            "authorization": "token",
            "connector_id": "connector_gmail",
            "defer_loading": True,
            "headers": {"X-Key": "v"},
            "require_approval": {"never": {"tool_names": ["ask"]}, "always": {"read_only": False}},
            "allowed_callers": ["programmatic"],
            "tunnel_id": "tun_1",
        },
    ),
    "code_interpreter": (
        {"type": "code_interpreter", "container": "cntr_1"},
        {
            "type": "code_interpreter",
            "container": {
                "type": "auto",
                "file_ids": ["file_1"],
                "memory_limit": "1g",
                "network_policy": {"type": "disabled"},
            },
            "allowed_callers": ["direct"],
        },
    ),
    "programmatic_tool_calling": (
        {"type": "programmatic_tool_calling"},
        {"type": "programmatic_tool_calling"},
    ),
    "image_generation": (
        {"type": "image_generation"},
        {
            "type": "image_generation",
            "action": "edit",
            "background": "transparent",
            "complexity": "high",
            "frame_count": 4,
            "frame_duration_ms": 100,
            "svg": {"model": "gpt-5", "reasoning": {"effort": "low"}},
            "input_fidelity": "high",
            "input_image_mask": {"file_id": "file_1"},
            "model": "gpt-image-1.5",
            "moderation": "low",
            "output_compression": 80,
            "output_format": "gif",
            "partial_images": 2,
            "quality": "xhigh",
            "size": "1024x1536",
        },
    ),
    "local_shell": ({"type": "local_shell"}, {"type": "local_shell"}),
    "shell": (
        {"type": "shell"},
        {"type": "shell", "environment": _CONTAINER_AUTO, "allowed_callers": ["programmatic"]},
    ),
    "custom": (
        {"type": "custom", "name": "grep"},
        {
            "type": "custom",
            "name": "grep",
            "description": "Search.",
            "defer_loading": False,
            "format": {"type": "grammar", "syntax": "lark", "definition": "start: WORD"},
            "async": False,
            "allowed_callers": ["direct"],
        },
    ),
    "namespace": (
        {"type": "namespace", "name": "crm", "description": "CRM tools.", "tools": []},
        {
            "type": "namespace",
            "name": "crm",
            "description": "CRM tools.",
            "tools": [
                {
                    "type": "function",
                    "name": "lookup",
                    "description": "d",
                    "parameters": _SCHEMA,
                    "strict": False,
                    "defer_loading": True,
                    "async": True,
                    "allowed_callers": ["programmatic"],
                    "output_schema": _SCHEMA,
                },
                {"type": "custom", "name": "sql", "format": {"type": "text"}},
            ],
        },
    ),
    "tool_search": (
        {"type": "tool_search"},
        {
            "type": "tool_search",
            "description": "Find tools.",
            "execution": "client",
            "parameters": _SCHEMA,
        },
    ),
    "web_search_preview": (
        {"type": "web_search_preview"},
        {
            "type": "web_search_preview",
            "search_content_types": ["text", "image"],
            "search_context_size": "medium",
            "user_location": {"type": "approximate", "city": "Berlin"},
        },
    ),
    "web_search_preview_2025_03_11": (
        {"type": "web_search_preview_2025_03_11"},
        {"type": "web_search_preview_2025_03_11", "search_context_size": "low"},
    ),
    "apply_patch": (
        {"type": "apply_patch"},
        {"type": "apply_patch", "allowed_callers": ["direct", "programmatic"]},
    ),
}


def _body(input_: Any = "Hi", tools: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-5", "input": input_, **extra}
    if tools is not None:
        body["tools"] = tools
    return body


def _error(body: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        BODY.validate(body, "")
    return info.value


def test_examples_cover_every_variant() -> None:
    assert set(ITEMS) == set(INPUT_ITEM.variants)
    assert set(TOOLS) == set(TOOL.variants)


@pytest.mark.parametrize("kind", ["minimal", "full"])
@pytest.mark.parametrize("name", sorted(ITEMS))
def test_input_item_validates(name: str, kind: str) -> None:
    item = ITEMS[name][kind == "full"]
    BODY.validate(_body([{"role": "user", "content": "x"}, item]), "")
    assert INPUT_ITEM.variant_of(item) == name


@pytest.mark.parametrize("kind", ["minimal", "full"])
@pytest.mark.parametrize("name", sorted(TOOLS))
def test_tool_validates(name: str, kind: str) -> None:
    BODY.validate(_body(tools=[TOOLS[name][kind == "full"]]), "")


def _cases() -> list[Any]:
    lines = CASES.read_text(encoding="utf-8").splitlines()
    return [pytest.param(c["request"], id=c["id"]) for c in map(json.loads, filter(None, lines))]


@pytest.mark.parametrize("request_body", _cases())
def test_accuracy_case_validates(request_body: dict[str, Any]) -> None:
    BODY.validate(request_body, "")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"input": ""},
        {"input": "Hi", "conversation": "conv_1"},
        {"input": "Hi", "conversation": {"id": "conv_1"}, "previous_response_id": None},
        {
            "model": "gpt-5",
            "instructions": "Be brief.",
            "input": [
                {"role": "developer", "content": [_TEXT]},
                {"role": "user", "content": [_TEXT, _IMAGE, _FILE], "type": "message"},
                {"role": "system", "content": "s", "status": "completed", "type": None},
            ],
            "parallel_tool_calls": False,
            "reasoning": {
                "effort": "high",
                "summary": "auto",
                "generate_summary": None,
                "mode": "pro",
                "context": "all_turns",
            },
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "r",
                    "schema": _SCHEMA,
                    "strict": True,
                    "description": "d",
                },
                "verbosity": "low",
            },
            "tool_choice": {"type": "function", "name": "f"},
            "tools": [TOOLS["function"][1]],
            "truncation": "auto",
            "personality": "friendly",
        },
        # Fields of a Responses create call (or a gateway) that do not affect the count.
        {
            "input": "Hi",
            "stream": True,
            "max_output_tokens": 100,
            "max_tool_calls": 3,
            "metadata": {"k": "v"},
            "store": False,
            "temperature": 0.2,
            "top_p": 1,
            "top_logprobs": 2,
            "user": "u",
            "safety_identifier": "s",
            "prompt_cache_key": "k",
            "prompt_cache_retention": "24h",
            "service_tier": "flex",
            "include": ["reasoning.encrypted_content"],
            "background": False,
            "prompt": {"id": "pmpt_1", "variables": {"a": "b"}},
            "stream_options": {"include_obfuscation": False},
            "fallbacks": ["gpt-4o"],
        },
    ],
)
def test_body_validates(body: dict[str, Any]) -> None:
    BODY.validate(body, "")


@pytest.mark.parametrize(
    "choice",
    [
        "none",
        "auto",
        "required",
        {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "f"}]},
        {"type": "file_search"},
        {"type": "web_search_preview"},
        {"type": "computer_use_preview"},
        {"type": "image_generation"},
        {"type": "code_interpreter"},
        {"type": "function", "name": "f"},
        {"type": "mcp", "server_label": "wiki", "name": "ask"},
        {"type": "custom", "name": "grep"},
        {"type": "programmatic_tool_calling"},
        {"type": "apply_patch"},
        {"type": "shell"},
    ],
)
def test_tool_choice_validates(choice: Any) -> None:
    TOOL_CHOICE.validate(choice, "tool_choice")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (_body(foo=1), "foo", "unknown_parameter"),
        (
            _body([{"role": "user", "content": [{"type": "input_txt", "text": "x"}]}]),
            "input[0].content[0].type",
            "invalid_value",
        ),
        (_body([{"type": "bogus"}]), "input[0].type", "invalid_value"),
        (_body(42), "input", "invalid_type"),
        (_body([{"role": "user", "content": 5}]), "input[0].content", "invalid_type"),
        (
            _body([{"role": "user", "content": [{"type": "input_text", "text": 1}]}]),
            "input[0].content[0].text",
            "invalid_type",
        ),
        (_body([{"role": "robot", "content": "x"}]), "input[0].role", "invalid_value"),
        (
            _body([{"type": "message", "content": "x"}]),
            "input[0].role",
            "missing_required_parameter",
        ),
        (_body([{"role": "user"}]), "input[0].content", "missing_required_parameter"),
        (_body([{"content": "x"}]), "input[0].type", "missing_required_parameter"),
        (
            _body([{"role": "user", "content": "x"}, {"role": "user", "content": "y", "foo": 1}]),
            "input[1].foo",
            "unknown_parameter",
        ),
        (
            _body([ITEMS["function_call"][0], {**ITEMS["function_call_output"][0], "extra": 1}]),
            "input[1].extra",
            "unknown_parameter",
        ),
        (
            _body([{**ITEMS["computer_call"][0], "action": {"type": "click", "x": 1, "y": 2}}]),
            "input[0].action.button",
            "missing_required_parameter",
        ),
        (_body(tools=[{"type": "function"}]), "tools[0].name", "missing_required_parameter"),
        (_body(tools=[{"name": "f"}]), "tools[0].type", "missing_required_parameter"),
        (
            _body(tools=[{"type": "function", "name": "f", "parameters": []}]),
            "tools[0].parameters",
            "invalid_type",
        ),
        (_body(tools=[{"type": "hammer"}]), "tools[0].type", "invalid_value"),
        (_body(tool_choice="sometimes"), "tool_choice", "invalid_value"),
        (_body(tool_choice=1), "tool_choice", "invalid_type"),
        (_body(truncation="maybe"), "truncation", "invalid_value"),
        (_body(reasoning={"effort": "huge"}), "reasoning.effort", "invalid_value"),
        (
            _body(text={"format": {"type": "json_schema", "schema": {}}}),
            "text.format.name",
            "missing_required_parameter",
        ),
        (_body(conversation=1), "conversation", "invalid_type"),
        (
            _body([{**ITEMS["function_call"][0], "caller": {"type": "program"}}]),
            "input[0].caller.caller_id",
            "missing_required_parameter",
        ),
        (
            _body([{**ITEMS["custom_tool_call"][0], "caller": {"type": "model"}}]),
            "input[0].caller.type",
            "invalid_value",
        ),
        (
            _body(tools=[{"type": "function", "name": "f", "allowed_callers": ["anyone"]}]),
            "tools[0].allowed_callers[0]",
            "invalid_value",
        ),
        (
            _body([{"type": "additional_tools", "role": "user", "tools": []}]),
            "input[0].role",
            "invalid_value",
        ),
        (
            _body([{"type": "additional_tools", "role": "developer"}]),
            "input[0].tools",
            "missing_required_parameter",
        ),
        (
            _body([{"type": "configuration_update", "text": {"format": {"type": "json_object"}}}]),
            "input[0].text.format.type",
            "invalid_value",
        ),
        (
            _body([{**ITEMS["program"][0], "fingerprint": None}]),
            "input[0].fingerprint",
            "invalid_type",
        ),
        (
            _body([{**ITEMS["program_output"][0], "status": "failed"}]),
            "input[0].status",
            "invalid_value",
        ),
        (
            _body([{**ITEMS["mcp_call"][0], "error": {"type": "http_error", "code": 500}}]),
            "input[0].error.message",
            "missing_required_parameter",
        ),
        (
            _body("x" * (INPUT_MAX_LENGTH + 1)),
            "input",
            "string_above_max_length",
        ),
    ],
)
def test_invalid_body(body: dict[str, Any], param: str, code: str) -> None:
    error = _error(body)
    assert (error.param, error.code) == (param, code)


def test_content_part_rejects_unknown_type() -> None:
    with pytest.raises(InvalidRequestError) as info:
        CONTENT_PART.validate({"type": "input_audio"}, "p")
    assert info.value.code == "invalid_value"
    assert "'input_text'" in info.value.message
