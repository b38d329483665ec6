"""The request schema of ``POST /v1/responses/input_tokens``, as data for ``validation``.

This module only builds ``Spec`` trees; it does no I/O and holds no logic beyond two tiny
builders and the rule that infers a missing item ``type``. ``BODY`` is the entry point; the
other exported specs (``INPUT_ITEM``, ``CONTENT_PART``, ``TOOL``, ``TOOL_CHOICE``,
``TEXT_CONFIG``, ``REASONING_CONFIG``, ``CONVERSATION``) are its parts, exposed for reuse and
for tests.

Invariants:
- Every object is closed (see ``validation.Obj``): a key that is not listed here is rejected
  as ``unknown_parameter``, so a field OpenAI accepts must be listed here to be accepted.
- Every variant of a ``Tagged`` spec lists its own tag key (``type``) with an ``Enum`` of its
  name, required unless the tag may be omitted (messages, item references, where ``infer``
  supplies it).
- Precise where the API reference is precise (required keys, closed enums of statuses and
  options); lenient (``Str``, ``FreeObject``, ``AnyValue``) where values are open-ended or
  likely to grow (model names, connector ids, annotations, JSON Schemas, opaque arguments).
- An optional key whose value is ``null`` counts as absent (``Obj``), so outputs echoed back
  with ``null`` fields validate; a required key that may be ``null`` is wrapped in
  ``Nullable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .validation import (
    AnyValue,
    Array,
    Bool,
    Enum,
    FreeObject,
    Int,
    Nullable,
    Num,
    Obj,
    Spec,
    Str,
    Tagged,
    Union,
)

__all__ = [
    "BODY",
    "CONTENT_PART",
    "CONVERSATION",
    "INPUT_ITEM",
    "INPUT_MAX_LENGTH",
    "REASONING_CONFIG",
    "TEXT_CONFIG",
    "TOOL",
    "TOOL_CHOICE",
]

# Longest string accepted for a plain-string `input`.
INPUT_MAX_LENGTH = 10_485_760


def _variant(
    name: str,
    required: Mapping[str, Spec] | None = None,
    optional: Mapping[str, Spec] | None = None,
) -> Obj:
    """The object of one ``Tagged`` variant: ``type`` is required and must be ``name``."""
    return Obj({"type": Enum(name), **(required or {})}, optional)


def _tagged(*variants: tuple[str, Obj]) -> Tagged:
    """A ``Tagged`` spec on ``type`` from ``(name, spec)`` pairs, in the order given."""
    return Tagged(dict(variants))


_STRINGS = Array(Str())
_STATUS = Enum("in_progress", "completed", "incomplete")
_EXECUTION = Enum("server", "client")
_MEMORY_LIMIT = Enum("1g", "4g", "16g", "64g")
_CONTEXT_SIZE = Enum("low", "medium", "high")
_EFFORT = Enum("none", "minimal", "low", "medium", "high", "xhigh", "max")

# Programmatic tool calling: which callers a tool admits, and which caller made a tool call
# (the model directly, or a `program` item identified by its call id).
_ALLOWED_CALLERS = Array(Enum("direct", "programmatic"))
_CALLER = _tagged(
    ("direct", _variant("direct")),
    ("program", _variant("program", {"caller_id": Str()})),
)

# --------------------------------------------------------------------------------------------
# Content parts
# --------------------------------------------------------------------------------------------

# `prompt_cache_breakpoint` was first seen in recorded real traffic ({"mode": "explicit"}); the
# SDK now lists it (a `mode` and an optional `ttl`) on text, image and file parts. Its options
# are likely to grow, so it is checked loosely.
_CACHE_BREAKPOINT = FreeObject()
_INPUT_TEXT = _variant(
    "input_text",
    {"text": Str()},
    {"prompt_cache_breakpoint": _CACHE_BREAKPOINT},
)
# The reference marks `detail` required inside messages but optional in tool outputs, and the
# API defaults it to "auto"; it is optional everywhere here.
_INPUT_IMAGE = _variant(
    "input_image",
    optional={
        "detail": Enum("low", "high", "auto", "original"),
        "file_id": Str(),
        "image_url": Str(),
        "prompt_cache_breakpoint": _CACHE_BREAKPOINT,
    },
)
_INPUT_FILE = _variant(
    "input_file",
    optional={
        "detail": Enum("auto", "low", "high"),
        "file_data": Str(),
        "file_id": Str(),
        "file_url": Str(),
        "filename": Str(),
        "prompt_cache_breakpoint": _CACHE_BREAKPOINT,
    },
)
# Annotations and logprobs only echo a previous output; they are checked loosely and may be
# omitted.
_OUTPUT_TEXT = _variant(
    "output_text",
    {"text": Str()},
    {"annotations": Array(FreeObject()), "logprobs": Array(FreeObject())},
)
_REFUSAL = _variant("refusal", {"refusal": Str()})

CONTENT_PART: Tagged = _tagged(
    ("input_text", _INPUT_TEXT),
    ("input_image", _INPUT_IMAGE),
    ("input_file", _INPUT_FILE),
    ("output_text", _OUTPUT_TEXT),
    ("refusal", _REFUSAL),
)
"""A part of a message's `content` array."""

# Parts allowed in a function/custom tool call output: text, image or file.
_TOOL_OUTPUT_PART = _tagged(
    ("input_text", _INPUT_TEXT),
    ("input_image", _INPUT_IMAGE),
    ("input_file", _INPUT_FILE),
)
_TOOL_OUTPUT = Union(Str(), Array(_TOOL_OUTPUT_PART))

# Parts of a reasoning item.
_SUMMARY_TEXT = _tagged(("summary_text", _variant("summary_text", {"text": Str()})))
_REASONING_TEXT = _tagged(("reasoning_text", _variant("reasoning_text", {"text": Str()})))

# --------------------------------------------------------------------------------------------
# Shared pieces of tools and items
# --------------------------------------------------------------------------------------------

# File search attribute filter: a comparison, or `and`/`or` over nested filters (recursive,
# so the compound variants are added once the spec exists).
_COMPARISON_VALUE = Union(Str(), Num(), Bool(), Array(Union(Str(), Num())))
_FILTER: Tagged = _tagged(
    *(
        (op, _variant(op, {"key": Str(), "value": _COMPARISON_VALUE}))
        for op in ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
    )
)
_FILTER.variants.update((op, _variant(op, {"filters": Array(_FILTER)})) for op in ("and", "or"))

_NETWORK_POLICY = _tagged(
    ("disabled", _variant("disabled")),
    (
        "allowlist",
        _variant(
            "allowlist",
            {"allowed_domains": _STRINGS},
            {"domain_secrets": Array(Obj({"domain": Str(), "name": Str(), "value": Str()}))},
        ),
    ),
)

_SKILL = _tagged(
    (
        "skill_reference",
        _variant("skill_reference", {"skill_id": Str()}, {"version": Str()}),
    ),
    (
        "inline",
        _variant(
            "inline",
            {
                "description": Str(),
                "name": Str(),
                "source": Obj(
                    {
                        "data": Str(),
                        "media_type": Enum("application/zip"),
                        "type": Enum("base64"),
                    }
                ),
            },
        ),
    ),
)
_LOCAL_SKILL = Obj({"description": Str(), "name": Str(), "path": Str()})
_LOCAL_ENVIRONMENT = _variant("local", optional={"skills": Array(_LOCAL_SKILL)})
_CONTAINER_REFERENCE = _variant("container_reference", {"container_id": Str()})

_SHELL_TOOL_ENVIRONMENT = _tagged(
    (
        "container_auto",
        _variant(
            "container_auto",
            optional={
                "file_ids": _STRINGS,
                "memory_limit": _MEMORY_LIMIT,
                "network_policy": _NETWORK_POLICY,
                "skills": Array(_SKILL),
            },
        ),
    ),
    ("local", _LOCAL_ENVIRONMENT),
    ("container_reference", _CONTAINER_REFERENCE),
)
_SHELL_CALL_ENVIRONMENT = _tagged(
    ("local", _LOCAL_ENVIRONMENT),
    ("container_reference", _CONTAINER_REFERENCE),
)

_CUSTOM_FORMAT = _tagged(
    ("text", _variant("text")),
    (
        "grammar",
        _variant("grammar", {"definition": Str(), "syntax": Enum("lark", "regex")}),
    ),
)

_MCP_TOOL_FILTER = Obj(optional={"read_only": Bool(), "tool_names": _STRINGS})

# Options shared by the image generation tool and the image generation calls it produces.
_IMAGE_ACTION = Enum("generate", "edit", "auto")
_IMAGE_BACKGROUND = Enum("transparent", "opaque", "auto")
_IMAGE_FORMAT = Enum("png", "webp", "jpeg", "gif", "svg")
_IMAGE_QUALITY = Enum("low", "medium", "high", "xhigh", "max", "auto")

# `text.format`: plain text or a JSON Schema (also the formats a configuration update may
# switch to); the request's own `text` also accepts the older JSON mode.
_FORMAT_TEXT = _variant("text")
_FORMAT_JSON_SCHEMA = _variant(
    "json_schema",
    {"name": Str(), "schema": FreeObject()},
    {"description": Str(), "strict": Bool()},
)

# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------

# The reference lists `parameters` and `strict` as required, but the API accepts a function
# tool without them (recorded real requests omit `strict`).
_FUNCTION_TOOL = _variant(
    "function",
    {"name": Str()},
    {
        "parameters": Nullable(FreeObject()),
        "strict": Bool(),
        "description": Str(),
        "defer_loading": Bool(),
        "async": Bool(),
        "allowed_callers": _ALLOWED_CALLERS,
        "output_schema": FreeObject(),
    },
)
_CUSTOM_TOOL = _variant(
    "custom",
    {"name": Str()},
    {
        "defer_loading": Bool(),
        "description": Str(),
        "format": _CUSTOM_FORMAT,
        "async": Bool(),
        "allowed_callers": _ALLOWED_CALLERS,
    },
)

_USER_LOCATION = Obj(
    optional={
        "city": Str(),
        "country": Str(),
        "region": Str(),
        "timezone": Str(),
        "type": Enum("approximate"),
    }
)
_PREVIEW_USER_LOCATION = Obj(
    {"type": Enum("approximate")},
    {"city": Str(), "country": Str(), "region": Str(), "timezone": Str()},
)


def _web_search_tool(name: str) -> Obj:
    return _variant(
        name,
        optional={
            "external_web_access": Bool(),
            "filters": Obj(optional={"allowed_domains": _STRINGS}),
            "search_context_size": _CONTEXT_SIZE,
            "user_location": _USER_LOCATION,
        },
    )


def _web_search_preview_tool(name: str) -> Obj:
    return _variant(
        name,
        optional={
            "search_content_types": Array(Enum("text", "image")),
            "search_context_size": _CONTEXT_SIZE,
            "user_location": _PREVIEW_USER_LOCATION,
        },
    )


TOOL: Tagged = _tagged(
    ("function", _FUNCTION_TOOL),
    (
        "file_search",
        _variant(
            "file_search",
            {"vector_store_ids": _STRINGS},
            {
                "filters": _FILTER,
                "max_num_results": Num(),
                "ranking_options": Obj(
                    optional={
                        "hybrid_search": Obj({"embedding_weight": Num(), "text_weight": Num()}),
                        # Dated ranker names grow over time: any string.
                        "ranker": Str(),
                        "score_threshold": Num(),
                    }
                ),
            },
        ),
    ),
    ("computer", _variant("computer")),
    (
        "computer_use_preview",
        _variant(
            "computer_use_preview",
            {
                "display_height": Num(),
                "display_width": Num(),
                "environment": Enum("windows", "mac", "linux", "ubuntu", "browser"),
            },
        ),
    ),
    ("web_search", _web_search_tool("web_search")),
    ("web_search_2025_08_26", _web_search_tool("web_search_2025_08_26")),
    (
        "mcp",
        _variant(
            "mcp",
            {"server_label": Str()},
            {
                "allowed_callers": _ALLOWED_CALLERS,
                "allowed_tools": Union(_STRINGS, _MCP_TOOL_FILTER),
                "authorization": Str(),
                # Connectors are added over time: any string.
                "connector_id": Str(),
                "defer_loading": Bool(),
                "headers": FreeObject(),
                "require_approval": Union(
                    Obj(optional={"always": _MCP_TOOL_FILTER, "never": _MCP_TOOL_FILTER}),
                    Enum("always", "never"),
                ),
                "server_description": Str(),
                "server_url": Str(),
                "tunnel_id": Str(),
            },
        ),
    ),
    (
        "code_interpreter",
        _variant(
            "code_interpreter",
            {
                "container": Union(
                    Str(),
                    _tagged(
                        (
                            "auto",
                            _variant(
                                "auto",
                                optional={
                                    "file_ids": _STRINGS,
                                    "memory_limit": _MEMORY_LIMIT,
                                    "network_policy": _NETWORK_POLICY,
                                },
                            ),
                        )
                    ),
                )
            },
            {"allowed_callers": _ALLOWED_CALLERS},
        ),
    ),
    ("programmatic_tool_calling", _variant("programmatic_tool_calling")),
    (
        "image_generation",
        _variant(
            "image_generation",
            optional={
                "action": _IMAGE_ACTION,
                "background": _IMAGE_BACKGROUND,
                "complexity": Enum("low", "medium", "high"),
                "frame_count": Int(),
                "frame_duration_ms": Int(),
                "input_fidelity": Enum("high", "low"),
                "input_image_mask": Obj(optional={"file_id": Str(), "image_url": Str()}),
                # Any image model name.
                "model": Str(),
                "moderation": Enum("auto", "low"),
                "output_compression": Num(),
                "output_format": _IMAGE_FORMAT,
                "partial_images": Num(),
                "quality": _IMAGE_QUALITY,
                # Listed as 1024x1024, 1024x1536, 1536x1024 or auto; newer models add sizes.
                "size": Str(),
                # Options of SVG output; the model is any string.
                "svg": Obj(
                    optional={"model": Str(), "reasoning": Obj(optional={"effort": _EFFORT})}
                ),
            },
        ),
    ),
    ("local_shell", _variant("local_shell")),
    (
        "shell",
        _variant(
            "shell",
            optional={
                "allowed_callers": _ALLOWED_CALLERS,
                "environment": _SHELL_TOOL_ENVIRONMENT,
            },
        ),
    ),
    ("custom", _CUSTOM_TOOL),
    (
        "namespace",
        _variant(
            "namespace",
            {
                "description": Str(),
                "name": Str(),
                "tools": Array(
                    _tagged(
                        (
                            "function",
                            _variant(
                                "function",
                                {"name": Str()},
                                {
                                    "defer_loading": Bool(),
                                    "description": Str(),
                                    "parameters": AnyValue(),
                                    "strict": Bool(),
                                    "async": Bool(),
                                    "allowed_callers": _ALLOWED_CALLERS,
                                    "output_schema": FreeObject(),
                                },
                            ),
                        ),
                        ("custom", _CUSTOM_TOOL),
                    )
                ),
            },
        ),
    ),
    (
        "tool_search",
        _variant(
            "tool_search",
            optional={
                "description": Str(),
                "execution": _EXECUTION,
                "parameters": AnyValue(),
            },
        ),
    ),
    ("web_search_preview", _web_search_preview_tool("web_search_preview")),
    (
        "web_search_preview_2025_03_11",
        _web_search_preview_tool("web_search_preview_2025_03_11"),
    ),
    ("apply_patch", _variant("apply_patch", optional={"allowed_callers": _ALLOWED_CALLERS})),
)
"""One entry of `tools`."""

# --------------------------------------------------------------------------------------------
# Input items
# --------------------------------------------------------------------------------------------

_MESSAGE = Obj(
    {
        "role": Enum("user", "assistant", "system", "developer"),
        "content": Union(Str(), Array(CONTENT_PART)),
    },
    {
        "id": Str(),
        "status": _STATUS,
        "phase": Enum("commentary", "final_answer"),
        "type": Enum("message"),
    },
)

_SAFETY_CHECK = Obj({"id": Str()}, {"code": Str(), "message": Str()})

_KEYS = {"keys": _STRINGS}
_XY = {"x": Num(), "y": Num()}
# Held-down `keys` are optional on every pointer action (older outputs omit them or send
# null); only `keypress` requires them.
_COMPUTER_ACTION = _tagged(
    (
        "click",
        _variant(
            "click",
            {"button": Enum("left", "right", "wheel", "back", "forward"), **_XY},
            _KEYS,
        ),
    ),
    ("double_click", _variant("double_click", _XY, _KEYS)),
    ("drag", _variant("drag", {"path": Array(Obj(_XY))}, _KEYS)),
    ("keypress", _variant("keypress", _KEYS)),
    ("move", _variant("move", _XY, _KEYS)),
    ("screenshot", _variant("screenshot")),
    (
        "scroll",
        _variant("scroll", {"scroll_x": Num(), "scroll_y": Num(), **_XY}, _KEYS),
    ),
    ("type", _variant("type", {"text": Str()})),
    ("wait", _variant("wait")),
)

# Sources may be of other kinds than "url" in newer outputs: checked loosely.
_WEB_SEARCH_ACTION = _tagged(
    (
        "search",
        _variant(
            "search",
            optional={
                # Deprecated in favour of `queries`, so not required.
                "query": Str(),
                "queries": _STRINGS,
                "sources": Array(FreeObject()),
            },
        ),
    ),
    ("open_page", _variant("open_page", optional={"url": Str()})),
    ("find_in_page", _variant("find_in_page", {"pattern": Str(), "url": Str()})),
)

_CODE_INTERPRETER_OUTPUT = _tagged(
    ("logs", _variant("logs", {"logs": Str()})),
    ("image", _variant("image", {"url": Str()})),
)

_LOCAL_SHELL_ACTION = _tagged(
    (
        "exec",
        _variant(
            "exec",
            {"command": _STRINGS, "env": FreeObject()},
            {"timeout_ms": Num(), "user": Str(), "working_directory": Str()},
        ),
    ),
)

_SHELL_OUTCOME = _tagged(
    ("timeout", _variant("timeout")),
    ("exit", _variant("exit", {"exit_code": Num()})),
)

_APPLY_PATCH_OPERATION = _tagged(
    ("create_file", _variant("create_file", {"diff": Str(), "path": Str()})),
    ("delete_file", _variant("delete_file", {"path": Str()})),
    ("update_file", _variant("update_file", {"diff": Str(), "path": Str()})),
)

_MCP_LISTED_TOOL = Obj(
    {"input_schema": AnyValue(), "name": Str()},
    {"annotations": AnyValue(), "description": Str()},
)

# An MCP call's `error`: a plain string in older outputs, a typed object in newer ones.
_MCP_CALL_ERROR = Union(
    Str(),
    _tagged(
        (
            "mcp_protocol_error",
            _variant("mcp_protocol_error", {"code": Int(), "message": Str()}),
        ),
        ("mcp_tool_execution_error", _variant("mcp_tool_execution_error", {"content": AnyValue()})),
        ("http_error", _variant("http_error", {"code": Int(), "message": Str()})),
    ),
    expected="a string or an object",
)

_IMAGE_GENERATION_ERROR = Obj(
    {"code": Nullable(Str()), "message": Str(), "param": Nullable(Str()), "type": Str()},
    {
        "moderation_details": Obj(
            {"categories": _STRINGS, "moderation_stage": Enum("input", "output", "unknown")}
        )
    },
)
_SVG_USAGE = Obj(
    {
        "input_tokens": Int(),
        "model": Str(),
        "output_tokens": Int(),
        "reasoning_tokens": Int(),
        "total_tokens": Int(),
    }
)


def _infer_item_type(item: dict[str, Any]) -> str | None:
    """The type of an input item that omits it: a message if it has a role, an item reference
    if it has nothing but an id; otherwise unknown (the missing type is then an error)."""
    if "role" in item:
        return "message"
    if item.keys() - {"type"} == {"id"}:
        return "item_reference"
    return None


INPUT_ITEM: Tagged = Tagged(
    {
        "message": _MESSAGE,
        "file_search_call": _variant(
            "file_search_call",
            {
                "id": Str(),
                "queries": _STRINGS,
                "status": Enum("in_progress", "searching", "completed", "incomplete", "failed"),
            },
            {
                "results": Array(
                    Obj(
                        optional={
                            "attributes": FreeObject(),
                            "file_id": Str(),
                            "filename": Str(),
                            "score": Num(),
                            "text": Str(),
                        }
                    )
                )
            },
        ),
        "computer_call": _variant(
            "computer_call",
            {
                "id": Str(),
                "call_id": Str(),
                "pending_safety_checks": Array(_SAFETY_CHECK),
                "status": _STATUS,
            },
            {"action": _COMPUTER_ACTION, "actions": Array(_COMPUTER_ACTION)},
        ),
        "computer_call_output": _variant(
            "computer_call_output",
            {
                "call_id": Str(),
                "output": _variant(
                    "computer_screenshot", optional={"file_id": Str(), "image_url": Str()}
                ),
            },
            {
                "id": Str(),
                "acknowledged_safety_checks": Array(_SAFETY_CHECK),
                "status": _STATUS,
            },
        ),
        # `action` is required by the reference, but older stored outputs lack it.
        "web_search_call": _variant(
            "web_search_call",
            {
                "id": Str(),
                "status": Enum("in_progress", "searching", "completed", "incomplete", "failed"),
            },
            {"action": _WEB_SEARCH_ACTION},
        ),
        "function_call": _variant(
            "function_call",
            {"arguments": Str(), "call_id": Str(), "name": Str()},
            {
                "id": Str(),
                "namespace": Str(),
                "status": _STATUS,
                "async": Bool(),
                "caller": _CALLER,
            },
        ),
        # `call_id` stays required, as in the API reference, although current SDK types make
        # it optional (for outputs of programmatic calls); relax it once the API is known to
        # accept an output without it.
        "function_call_output": _variant(
            "function_call_output",
            {"call_id": Str(), "output": _TOOL_OUTPUT},
            {
                "id": Str(),
                "status": _STATUS,
                "caller": _CALLER,
                "name": Str(),
                "namespace": Str(),
            },
        ),
        "tool_search_call": _variant(
            "tool_search_call",
            {"arguments": AnyValue()},
            {"id": Str(), "call_id": Str(), "execution": _EXECUTION, "status": _STATUS},
        ),
        "tool_search_output": _variant(
            "tool_search_output",
            {"tools": Array(TOOL)},
            {"id": Str(), "call_id": Str(), "execution": _EXECUTION, "status": _STATUS},
        ),
        "additional_tools": _variant(
            "additional_tools",
            {"role": Enum("developer"), "tools": Array(TOOL)},
            {"id": Str()},
        ),
        "configuration_update": _variant(
            "configuration_update",
            optional={
                "id": Str(),
                "reasoning": Obj(optional={"effort": _EFFORT}),
                "text": Obj(
                    {
                        "format": _tagged(
                            ("text", _FORMAT_TEXT), ("json_schema", _FORMAT_JSON_SCHEMA)
                        )
                    }
                ),
            },
        ),
        "reasoning": _variant(
            "reasoning",
            {"id": Str(), "summary": Array(_SUMMARY_TEXT)},
            {
                "content": Array(_REASONING_TEXT),
                "encrypted_content": Str(),
                "status": _STATUS,
            },
        ),
        "compaction": _variant("compaction", {"encrypted_content": Str()}, {"id": Str()}),
        "image_generation_call": _variant(
            "image_generation_call",
            {
                "id": Str(),
                # null while the image is not (or could not be) generated.
                "result": Nullable(Str()),
                "status": Enum("in_progress", "completed", "generating", "failed"),
            },
            {
                "action": _IMAGE_ACTION,
                "background": _IMAGE_BACKGROUND,
                "error": _IMAGE_GENERATION_ERROR,
                "output_format": _IMAGE_FORMAT,
                "quality": _IMAGE_QUALITY,
                "revised_prompt": Str(),
                "size": Str(),
                "svg_usage": _SVG_USAGE,
            },
        ),
        "code_interpreter_call": _variant(
            "code_interpreter_call",
            {
                "id": Str(),
                "code": Nullable(Str()),
                "container_id": Str(),
                "outputs": Nullable(Array(_CODE_INTERPRETER_OUTPUT)),
                "status": Enum("in_progress", "completed", "incomplete", "interpreting", "failed"),
            },
        ),
        "local_shell_call": _variant(
            "local_shell_call",
            {
                "id": Str(),
                "action": _LOCAL_SHELL_ACTION,
                "call_id": Str(),
                "status": _STATUS,
            },
        ),
        "local_shell_call_output": _variant(
            "local_shell_call_output",
            {"id": Str(), "output": Str()},
            {"status": _STATUS},
        ),
        "shell_call": _variant(
            "shell_call",
            {
                "action": Obj(
                    {"commands": _STRINGS},
                    {"max_output_length": Num(), "timeout_ms": Num()},
                ),
                "call_id": Str(),
            },
            {
                "id": Str(),
                "caller": _CALLER,
                "environment": _SHELL_CALL_ENVIRONMENT,
                "status": _STATUS,
            },
        ),
        "shell_call_output": _variant(
            "shell_call_output",
            {
                "call_id": Str(),
                "output": Array(Obj({"outcome": _SHELL_OUTCOME, "stderr": Str(), "stdout": Str()})),
            },
            {"id": Str(), "caller": _CALLER, "max_output_length": Num(), "status": _STATUS},
        ),
        "apply_patch_call": _variant(
            "apply_patch_call",
            {
                "call_id": Str(),
                "operation": _APPLY_PATCH_OPERATION,
                "status": Enum("in_progress", "completed"),
            },
            {"id": Str(), "caller": _CALLER},
        ),
        "apply_patch_call_output": _variant(
            "apply_patch_call_output",
            {"call_id": Str(), "status": Enum("completed", "failed")},
            {"id": Str(), "caller": _CALLER, "output": Str()},
        ),
        "mcp_list_tools": _variant(
            "mcp_list_tools",
            {"id": Str(), "server_label": Str(), "tools": Array(_MCP_LISTED_TOOL)},
            {"error": Str()},
        ),
        "mcp_approval_request": _variant(
            "mcp_approval_request",
            {"id": Str(), "arguments": Str(), "name": Str(), "server_label": Str()},
        ),
        "mcp_approval_response": _variant(
            "mcp_approval_response",
            {"approval_request_id": Str(), "approve": Bool()},
            {"id": Str(), "reason": Str()},
        ),
        "mcp_call": _variant(
            "mcp_call",
            {"id": Str(), "arguments": Str(), "name": Str(), "server_label": Str()},
            {
                "approval_request_id": Str(),
                "error": _MCP_CALL_ERROR,
                "output": Str(),
                "status": Enum("in_progress", "completed", "incomplete", "calling", "failed"),
            },
        ),
        "custom_tool_call_output": _variant(
            "custom_tool_call_output",
            {"call_id": Str(), "output": _TOOL_OUTPUT},
            {"id": Str(), "caller": _CALLER},
        ),
        "custom_tool_call": _variant(
            "custom_tool_call",
            {"call_id": Str(), "input": Str(), "name": Str()},
            {"id": Str(), "namespace": Str(), "async": Bool(), "caller": _CALLER},
        ),
        "compaction_trigger": _variant("compaction_trigger", optional={"id": Str()}),
        "item_reference": Obj({"id": Str()}, {"type": Enum("item_reference")}),
        # Programmatic tool calling: the program the model ran, and its result.
        "program": _variant(
            "program",
            {"id": Str(), "call_id": Str(), "code": Str(), "fingerprint": Str()},
        ),
        "program_output": _variant(
            "program_output",
            {
                "id": Str(),
                "call_id": Str(),
                "result": Str(),
                "status": Enum("completed", "incomplete"),
            },
        ),
    },
    infer=_infer_item_type,
)
"""One entry of an `input` array; `type` may be omitted for messages and item references."""

# --------------------------------------------------------------------------------------------
# Top-level options
# --------------------------------------------------------------------------------------------

TOOL_CHOICE: Union = Union(
    Enum("none", "auto", "required"),
    _tagged(
        (
            "allowed_tools",
            _variant(
                "allowed_tools",
                {"mode": Enum("auto", "required"), "tools": Array(FreeObject())},
            ),
        ),
        *(
            (name, _variant(name))
            for name in (
                "file_search",
                "web_search_preview",
                "computer",
                "computer_use_preview",
                "computer_use",
                "web_search_preview_2025_03_11",
                "image_generation",
                "code_interpreter",
            )
        ),
        ("function", _variant("function", {"name": Str()})),
        ("mcp", _variant("mcp", {"server_label": Str()}, {"name": Str()})),
        ("custom", _variant("custom", {"name": Str()})),
        ("programmatic_tool_calling", _variant("programmatic_tool_calling")),
        ("apply_patch", _variant("apply_patch")),
        ("shell", _variant("shell")),
    ),
    expected="a string or an object",
)
"""`tool_choice`: "none" | "auto" | "required", or an object naming tools."""

TEXT_CONFIG: Obj = Obj(
    optional={
        "format": _tagged(
            ("text", _FORMAT_TEXT),
            ("json_schema", _FORMAT_JSON_SCHEMA),
            ("json_object", _variant("json_object")),
        ),
        "verbosity": Enum("low", "medium", "high"),
    }
)
"""`text`: the output format and verbosity."""

_SUMMARY = Enum("auto", "concise", "detailed")
REASONING_CONFIG: Obj = Obj(
    optional={
        # "max" is newer than the reference copy (listed by current SDK types).
        "effort": _EFFORT,
        "summary": _SUMMARY,
        "generate_summary": _SUMMARY,
        # Newer or gateway-only fields, accepted loosely: `mode` ("pro"), `context`
        # (seen in recorded real traffic) and a gateway's `max_tokens`.
        "mode": Str(),
        "context": Str(),
        "max_tokens": Int(),
    }
)
"""`reasoning`: effort, summary and related options of reasoning models."""

CONVERSATION: Union = Union(Str(), Obj({"id": Str()}), expected="a string or an object")
"""`conversation`: a conversation id, or an object holding it."""

# Fields of a Responses create request (or of a gateway in front of it) that do not affect the
# input count; accepted so the same body can be sent to both endpoints, within the ranges
# OpenAI accepts (SDK types: temperature 0 to 2, top_p 0 to 1, top_logprobs 0 to 20).
_PASSTHROUGH: dict[str, Spec] = {
    "background": Bool(),
    "include": Array(Str()),
    "max_output_tokens": Int(minimum=16),  # OpenAI rejects smaller budgets
    "max_tool_calls": Int(minimum=1),
    "metadata": FreeObject(),
    "prompt": FreeObject(),
    "prompt_cache_key": Str(),
    # Newer than the reference copy: the TTL of explicit cache breakpoints (SDK types).
    "prompt_cache_options": FreeObject(),
    "prompt_cache_retention": Str(),
    "safety_identifier": Str(),
    "service_tier": Str(),
    "store": Bool(),
    "stream": Bool(),
    "stream_options": FreeObject(),
    "temperature": Num(minimum=0, maximum=2),
    "top_logprobs": Int(minimum=0, maximum=20),
    "top_p": Num(minimum=0, maximum=1),
    "user": Str(),
}

BODY: Obj = Obj(
    optional={
        "conversation": CONVERSATION,
        "input": Union(
            Str(max_length=INPUT_MAX_LENGTH),
            Array(INPUT_ITEM),
            expected="a string or an array",
        ),
        "instructions": Str(),
        "model": Str(),
        # A gateway's models to count with when `model` is not one we count (its list of
        # model names, provider prefix optional: docs/counting-rules.md, "Tokenizer").
        "fallbacks": Array(Str()),
        "parallel_tool_calls": Bool(),
        "previous_response_id": Str(),
        "reasoning": REASONING_CONFIG,
        "text": TEXT_CONFIG,
        "tool_choice": TOOL_CHOICE,
        "tools": Array(TOOL),
        "truncation": Enum("auto", "disabled"),
        # Newer than the reference copy; any string.
        "personality": Str(),
        **_PASSTHROUGH,
    }
)
"""The whole request body; every field is optional."""
