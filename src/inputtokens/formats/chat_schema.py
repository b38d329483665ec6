"""The request schema of a Chat Completions body (``POST /v1/chat/completions``), as data.

Used by ``POST /v1/chat/completions/input_tokens``, the counting route we define for chat
bodies (OpenAI has no count endpoint for them). Same conventions as ``responses_schema``:
closed objects (an unknown key is ``unknown_parameter``), ``null`` optional keys count as
absent, precise where OpenAI's reference is precise, lenient where values are open-ended.
Fields that cannot change the prompt (sampling, streaming, ``n``, ...) are accepted and ignored.
"""

from __future__ import annotations

from .responses_schema import INPUT_MAX_LENGTH
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

__all__ = ["BODY", "MESSAGE", "TOOL", "CONTENT_PART"]

_TEXT_PART = Obj({"type": Enum("text"), "text": Str()})
_IMAGE_PART = Obj(
    {
        "type": Enum("image_url"),
        "image_url": Obj({"url": Str()}, {"detail": Enum("auto", "low", "high", "original")}),
    }
)
_AUDIO_PART = Obj(
    {
        "type": Enum("input_audio"),
        "input_audio": Obj({"data": Str(), "format": Enum("wav", "mp3")}),
    }
)
_FILE_PART = Obj(
    {
        "type": Enum("file"),
        "file": Obj(optional={"file_data": Str(), "file_id": Str(), "filename": Str()}),
    }
)
_REFUSAL_PART = Obj({"type": Enum("refusal"), "refusal": Str()})

CONTENT_PART: Tagged = Tagged(
    {
        "text": _TEXT_PART,
        "image_url": _IMAGE_PART,
        "input_audio": _AUDIO_PART,
        "file": _FILE_PART,
    }
)
"""A part of a user message's content."""

_TEXT_ONLY: Spec = Union(
    Str(max_length=INPUT_MAX_LENGTH),
    Array(Tagged({"text": _TEXT_PART}), min_items=1),
    expected="a string or an array of text parts",
)
_USER_CONTENT: Spec = Union(
    Str(max_length=INPUT_MAX_LENGTH),
    Array(CONTENT_PART, min_items=1),
    expected="a string or an array of content parts",
)
_ASSISTANT_CONTENT: Spec = Nullable(
    Union(
        Str(max_length=INPUT_MAX_LENGTH),
        Array(Tagged({"text": _TEXT_PART, "refusal": _REFUSAL_PART})),
        expected="a string or an array of text or refusal parts",
    )
)

_FUNCTION_CALL = Obj({"name": Str(), "arguments": Str()})
_TOOL_CALL: Tagged = Tagged(
    {
        "function": Obj({"id": Str(), "type": Enum("function"), "function": _FUNCTION_CALL}),
        "custom": Obj(
            {
                "id": Str(),
                "type": Enum("custom"),
                "custom": Obj({"name": Str(), "input": Str()}),
            }
        ),
    }
)

MESSAGE: Tagged = Tagged(
    {
        "system": Obj({"role": Enum("system"), "content": _TEXT_ONLY}, {"name": Str()}),
        "developer": Obj({"role": Enum("developer"), "content": _TEXT_ONLY}, {"name": Str()}),
        "user": Obj({"role": Enum("user"), "content": _USER_CONTENT}, {"name": Str()}),
        "assistant": Obj(
            {"role": Enum("assistant")},
            {
                "content": _ASSISTANT_CONTENT,
                "name": Str(),
                "refusal": Str(),
                "tool_calls": Array(_TOOL_CALL),
                "function_call": _FUNCTION_CALL,
                "audio": Obj({"id": Str()}),
                # Echoed back by some clients from a previous response; they add nothing.
                "annotations": Array(AnyValue()),
                "reasoning_content": Str(),
            },
        ),
        "tool": Obj({"role": Enum("tool"), "content": _TEXT_ONLY, "tool_call_id": Str()}),
        "function": Obj({"role": Enum("function"), "content": Nullable(Str()), "name": Str()}),
    },
    tag="role",
)
"""One message of ``messages``, by its ``role``."""

_FUNCTION_DEFINITION = Obj(
    {"name": Str()},
    {"description": Str(), "parameters": FreeObject(), "strict": Bool()},
)
_CUSTOM_FORMAT = Tagged(
    {
        "text": Obj({"type": Enum("text")}),
        "grammar": Obj(
            {
                "type": Enum("grammar"),
                "grammar": Obj({"definition": Str(), "syntax": Enum("lark", "regex")}),
            }
        ),
    }
)
TOOL: Tagged = Tagged(
    {
        "function": Obj({"type": Enum("function"), "function": _FUNCTION_DEFINITION}),
        "custom": Obj(
            {
                "type": Enum("custom"),
                "custom": Obj({"name": Str()}, {"description": Str(), "format": _CUSTOM_FORMAT}),
            }
        ),
    }
)
"""One entry of ``tools``."""

_NAMED = Obj({"name": Str()})
_TOOL_CHOICE = Union(
    Enum("none", "auto", "required"),
    Tagged(
        {
            "function": Obj({"type": Enum("function"), "function": _NAMED}),
            "custom": Obj({"type": Enum("custom"), "custom": _NAMED}),
            "allowed_tools": Obj(
                {
                    "type": Enum("allowed_tools"),
                    "allowed_tools": Obj(
                        {"mode": Enum("auto", "required"), "tools": Array(FreeObject())}
                    ),
                }
            ),
        }
    ),
    expected="a string or an object",
)
_RESPONSE_FORMAT = Tagged(
    {
        "text": Obj({"type": Enum("text")}),
        "json_object": Obj({"type": Enum("json_object")}),
        "json_schema": Obj(
            {
                "type": Enum("json_schema"),
                "json_schema": Obj(
                    {"name": Str()},
                    {"description": Str(), "schema": FreeObject(), "strict": Bool()},
                ),
            }
        ),
    }
)

# Fields that do not change the prompt; accepted so the very body sent to
# /v1/chat/completions can be counted, within the ranges OpenAI accepts (SDK types: penalties
# -2 to 2; OpenAI's own errors: n at most 128, max_tokens at least 1).
_PASSTHROUGH: dict[str, Spec] = {
    "audio": FreeObject(),
    "frequency_penalty": Num(minimum=-2, maximum=2),
    "logit_bias": FreeObject(),
    "logprobs": Bool(),
    "max_completion_tokens": Int(minimum=1),
    "max_tokens": Int(minimum=1),
    "metadata": FreeObject(),
    "modalities": Array(Str()),
    "n": Int(minimum=1, maximum=128),
    "parallel_tool_calls": Bool(),
    "prediction": FreeObject(),
    "presence_penalty": Num(minimum=-2, maximum=2),
    "prompt_cache_key": Str(),
    "prompt_cache_retention": Str(),
    "reasoning_effort": Enum("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "safety_identifier": Str(),
    "seed": Int(),
    "service_tier": Str(),
    "stop": Union(Str(), Array(Str()), expected="a string or an array of strings"),
    "store": Bool(),
    "stream": Bool(),
    "stream_options": FreeObject(),
    "temperature": Num(minimum=0, maximum=2),
    "top_logprobs": Int(minimum=0, maximum=20),
    "top_p": Num(minimum=0, maximum=1),
    "user": Str(),
    "verbosity": Enum("low", "medium", "high"),
    "web_search_options": FreeObject(),
}

BODY: Obj = Obj(
    {"messages": Array(MESSAGE, min_items=1)},
    {
        "model": Str(),
        "fallbacks": Array(Str()),  # a gateway's, as on Responses bodies
        "tools": Array(TOOL),
        "tool_choice": _TOOL_CHOICE,
        "functions": Array(_FUNCTION_DEFINITION),
        "function_call": Union(
            Enum("none", "auto"), _NAMED, expected="'none', 'auto' or an object"
        ),
        "response_format": _RESPONSE_FORMAT,
        **_PASSTHROUGH,
    },
)
"""The whole Chat Completions body; ``messages`` is required."""
