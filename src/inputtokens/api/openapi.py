"""The OpenAPI document of the HTTP service (served at ``GET /openapi.json``).

The request body is described at the top level only: the full item and tool schema is the
validator's (``wire_schema``), and its errors say exactly what is wrong and where.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .._version import __version__
from .playground import ASSETS as PLAYGROUND_ASSETS

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

# A gateway's models to count with when `model` is not countable (docs/counting-rules.md).
_FALLBACKS = {"type": "array", "items": {"type": "string"}}
_BODY_FIELDS = {
    "model": {"type": "string"},
    "fallbacks": _FALLBACKS,
    "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]},
    "instructions": {"type": "string"},
    "tools": {"type": "array", "items": {"type": "object"}},
    "tool_choice": {"oneOf": [{"type": "string"}, {"type": "object"}]},
    "text": {"type": "object"},
    "reasoning": {"type": "object"},
    "conversation": {"oneOf": [{"type": "string"}, {"type": "object"}]},
    "previous_response_id": {"type": "string"},
    "parallel_tool_calls": {"type": "boolean"},
    "truncation": {"type": "string", "enum": ["auto", "disabled"]},
    "personality": {"type": "string"},
}

_COUNT = {
    "type": "object",
    "required": ["object", "input_tokens"],
    "properties": {
        "object": {
            "type": "string",
            "enum": [
                "response.input_tokens",
                "chat.completion.input_tokens",
                "embedding.input_tokens",
            ],
        },
        "input_tokens": {"type": "integer"},
        "model": {"type": "string", "description": "verbose view: the resolved model"},
        "requested_model": {
            "type": ["string", "null"],
            "description": "verbose view: the model the body named; null when it named none",
        },
        "model_defaulted": {
            "type": "boolean",
            "description": "verbose view: the body named no model and the default was counted",
        },
        "fallback": {"type": ["string", "null"], "description": "verbose view: the entry counted"},
        "extra_fields": {"type": "object", "description": "verbose view (docs/http.md)"},
        "encoding": {"type": "string"},
        "exact": {"type": "boolean", "description": "verbose view only"},
        "context_window": {"type": "integer"},
        "max_output_tokens": {"type": "integer"},
        "remaining_context": {"type": "integer"},
        "max_input_tokens": {"type": "integer"},
        "room_for_output": {"type": "integer"},
        "requested_max_output_tokens": {
            "type": ["integer", "null"],
            "description": "verbose view: the body's max_output_tokens (chat: "
            "max_completion_tokens or max_tokens)",
        },
        "output_fits": {
            "type": ["boolean", "null"],
            "description": "verbose view: requested_max_output_tokens <= room_for_output; null "
            "when the body sets none",
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
        "estimate_reasons": {"type": "array", "items": {"type": "string"}},
        "input_tokens_details": {"type": "object"},
        "cost_usd": {
            "type": ["object", "null"],
            "description": "verbose view: the input tokens' cost in USD, standard and Batch "
            "API (docs/pricing.md); null for a model without a known price",
            "properties": {"standard": {"type": "number"}, "batch": {"type": "number"}},
        },
        "breakdown": {"type": "array", "items": {"type": "object"}},
        "tokens": {"type": "array", "items": {"type": "integer"}},
        "token_strings": {"type": "array", "items": {"type": "string"}},
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {str(code): {"description": "OpenAI-shaped error", **ref} for code in codes}


# The fields of a Chat Completions body that can change the count (others are accepted).
_CHAT_BODY_FIELDS: dict[str, Any] = {
    "model": {"type": "string"},
    "fallbacks": _FALLBACKS,
    "messages": {"type": "array", "items": {"type": "object"}},
    "tools": {"type": "array", "items": {"type": "object"}},
    "functions": {"type": "array", "items": {"type": "object"}},
    "tool_choice": {"oneOf": [{"type": "string"}, {"type": "object"}]},
    "response_format": {"type": "object"},
}


_EMBEDDINGS_BODY_FIELDS: dict[str, Any] = {
    "model": {"type": "string"},
    "fallbacks": _FALLBACKS,
    "input": {"oneOf": [{"type": "string"}, {"type": "array"}]},
}
# Per request format: the body's fields, its name, the operation id.
_FORMATS: dict[str, tuple[dict[str, Any], str, str]] = {
    "responses": (_BODY_FIELDS, "a Responses body", "countInputTokens"),
    "chat": (_CHAT_BODY_FIELDS, "a Chat Completions body", "countChatInputTokens"),
    "embeddings": (_EMBEDDINGS_BODY_FIELDS, "an Embeddings body", "countEmbeddingInputTokens"),
}


def _count_operation(alias: bool, kind: str = "responses") -> dict[str, Any]:
    flags = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "boolean"},
            "description": text,
        }
        for name, text in (
            ("verbose", "return the detailed view"),
            ("tokens", "include token ids and strings (implies verbose)"),
        )
    ] + [
        {
            "name": name,
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": text,
        }
        for name, text in (
            ("Inputtokens-Verbose", "'true' returns the detailed view"),
            ("Inputtokens-Tokens", "'true' adds token ids and strings"),
        )
    ]
    fields, what, operation = _FORMATS[kind]
    return {
        "summary": f"Count the input tokens of {what}" + (" (gateway alias)" if alias else ""),
        "operationId": operation + ("Gateway" if alias else ""),
        "parameters": flags,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "properties": fields}}},
        },
        "responses": {
            "200": {
                "description": "The count",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/InputTokens"}}
                },
            },
            **_errors(400, 401, 405, 413),
        },
    }


# The store's routes (OpenAI's Files, Conversations and Responses APIs): path, method,
# operation id, summary and error statuses. Their shapes are OpenAI's (docs/http.md).
_STATE_ROUTES: tuple[tuple[str, str, str, str, tuple[int, ...]], ...] = (
    ("/v1/files", "post", "createFile", "Upload a file (multipart)", (400, 401, 413)),
    ("/v1/files", "get", "listFiles", "List files", (401,)),
    ("/v1/files/{file_id}", "get", "retrieveFile", "Retrieve a file", (401, 404)),
    ("/v1/files/{file_id}", "delete", "deleteFile", "Delete a file", (401, 404)),
    ("/v1/files/{file_id}/content", "get", "fileContent", "A file's bytes", (401, 404)),
    (
        "/v1/batches/input_tokens",
        "post",
        "countBatchInputTokens",
        "Count a Batch API input file ({input_file_id}): its summary, or ?lines=true per line",
        (400, 401, 404),
    ),
    ("/v1/conversations", "post", "createConversation", "Create a conversation", (400, 401, 413)),
    (
        "/v1/conversations/{conversation_id}",
        "get",
        "retrieveConversation",
        "Retrieve a conversation",
        (401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}",
        "post",
        "updateConversation",
        "Replace a conversation's metadata",
        (400, 401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}",
        "delete",
        "deleteConversation",
        "Delete a conversation",
        (401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}/items",
        "get",
        "listConversationItems",
        "List a conversation's items (limit, order, after)",
        (400, 401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}/items",
        "post",
        "createConversationItems",
        "Add items to a conversation",
        (400, 401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}/items/{item_id}",
        "get",
        "retrieveConversationItem",
        "Retrieve an item",
        (401, 404),
    ),
    (
        "/v1/conversations/{conversation_id}/items/{item_id}",
        "delete",
        "deleteConversationItem",
        "Delete an item",
        (401, 404),
    ),
    (
        "/v1/responses",
        "post",
        "createResponse",
        "Pass a request through to the upstream and record the response",
        (400, 401, 502, 504),
    ),
    (
        "/v1/responses/{response_id}",
        "get",
        "retrieveResponse",
        "Retrieve a stored response",
        (401, 404),
    ),
    (
        "/v1/responses/{response_id}",
        "delete",
        "deleteResponse",
        "Delete a stored response",
        (401, 404),
    ),
    (
        "/v1/responses/{response_id}/input_items",
        "get",
        "listInputItems",
        "List a stored response's input items (limit, order, after)",
        (400, 401, 404),
    ),
)


def _state_paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op_id, summary, errors in _STATE_ROUTES:
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", path)
        ]
        paths.setdefault(path, {})[method] = {
            "summary": summary,
            "operationId": op_id,
            "parameters": params,
            "responses": {"200": {"description": "OpenAI's object"}, **_errors(*errors)},
        }
    return paths


@cache
def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "inputtokens", "version": __version__},
        "paths": {
            "/v1/responses/input_tokens": {"post": _count_operation(False)},
            "/openai/v1/responses/input_tokens": {"post": _count_operation(True)},
            "/v1/chat/completions/input_tokens": {"post": _count_operation(False, "chat")},
            "/openai/v1/chat/completions/input_tokens": {"post": _count_operation(True, "chat")},
            "/v1/embeddings/input_tokens": {"post": _count_operation(False, "embeddings")},
            "/openai/v1/embeddings/input_tokens": {"post": _count_operation(True, "embeddings")},
            "/v1/models": {
                "get": {
                    "summary": "List models",
                    "operationId": "listModels",
                    "responses": {"200": {"description": "Model list"}, **_errors(401)},
                }
            },
            "/v1/models/{model}": {
                "get": {
                    "summary": "Retrieve a model",
                    "operationId": "getModel",
                    "parameters": [
                        {
                            "name": "model",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"200": {"description": "Model"}, **_errors(401, 404)},
                }
            },
            "/": {
                "get": {
                    "summary": "This service: its routes and where its documentation is",
                    "operationId": "index",
                    "responses": {"200": {"description": "The index"}},
                }
            },
            "/docs": {
                "get": {
                    "summary": "The API reference as an HTML page, from this document",
                    "operationId": "docs",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
            "/playground": {
                "get": {
                    "summary": "The playground: a page that counts a body as you type and shows "
                    "its tokens, breakdown and context window",
                    "operationId": "playground",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
            "/playground/{asset}": {
                "get": {
                    "summary": "A file of the playground page (its script, style sheet, examples)",
                    "operationId": "playgroundAsset",
                    "parameters": [
                        {
                            "name": "asset",
                            "in": "path",
                            "required": True,
                            "schema": {
                                "type": "string",
                                "enum": sorted(PLAYGROUND_ASSETS),
                            },
                        }
                    ],
                    "responses": {"200": {"description": "The file"}, **_errors(404)},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness, and which worker process answered",
                    "operationId": "healthz",
                    "responses": {"200": {"description": '{"status": "ok", "worker": <pid>}'}},
                }
            },
            "/metrics": {
                "get": {
                    "summary": "This worker's counters (Prometheus text format)",
                    "operationId": "metrics",
                    "responses": {
                        "200": {"description": "Counters", "content": {"text/plain": {}}}
                    },
                }
            },
            **_state_paths(),
        },
        "components": {"schemas": {"Error": _ERROR, "InputTokens": _COUNT}},
    }
