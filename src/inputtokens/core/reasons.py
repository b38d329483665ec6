"""Estimate reasons: every reason a count can be an estimate, as one table of codes and texts.

A renderer never spells a reason: it asks ``reason(code, **fields)``. The texts are what the
breakdown, the rich view and ``estimate_reasons`` show, so they are part of the output and
change only on purpose. docs/counting-rules.md ("Estimate reasons") lists exactly these rows;
tests/test_reasons.py holds the two in step and checks that every code is used.

A template's ``{fields}`` are ``str.format`` fields, filled from the keyword arguments.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    # The prompt as a whole (render/__init__.py).
    "framing_unverified": "prompt framing of '{model}' is not yet verified",
    # The model itself (core/models.py): carried by every count of it.
    "gpt6_tokenizer": (
        "no tokenizer is published for GPT-6: counted with o200k_base and the reasoning "
        "framing, not yet confirmed by a recorded count"
    ),
    "cl100k_responses": (
        "cl100k models on the Responses API: the one recorded count (gpt-4) is 1 below this "
        "framing, so the framing is not confirmed"
    ),
    "model_assumed": (
        "model '{model}' is not in the registry yet: counted with the rules of '{template}'"
    ),
    "model_fallback": (
        "model '{model}' is not one we count: counted as its fallback '{fallback}', the model "
        "a gateway sends the request to when '{model}' fails"
    ),
    "model_configured": (
        "model '{model}' comes from the models file: counted with the rules of '{template}'"
    ),
    "reasoning_mode_pro": "reasoning mode 'pro' adds a hidden prompt of unknown size",
    "text_verbosity": (
        "text.verbosity: its effect on the prompt is not recorded (counted as nothing)"
    ),
    # Tools and the response format (render/system.py).
    "async_tool": (
        "async tool '{name}': how the model is told it may go on before the result is not "
        "recorded (counted as a plain tool)"
    ),
    "deferred_tool": "deferred tool '{name}' is not counted until it is loaded",
    "custom_tool": (
        "custom tool '{name}' ({shape}): recorded counts cover a described custom tool with a "
        "text format or a lark or regex grammar, alone on a hosted reasoning model"
    ),
    "bare_tool_followed": (
        "function tool '{name}' has neither a description nor parameters and is followed by "
        "another tool: no recorded count shows what it costs there"
    ),
    "instructions_with_bare_tool": (
        "instructions with a function tool without parameters: one recorded count (gpt-5), "
        "fitted as 1 token more than with tools that have parameters"
    ),
    "fitted_shape": (
        "fitted offset '{rule}' ({tokens}): {shape} is beyond its records, which show only "
        "{evidence}"
    ),
    "fitted_model": (
        "fitted offsets ({rules}) on '{model}': recorded only on gpt-5 models (gpt-5, "
        "gpt-5-mini, gpt-5.2 to gpt-5.6)"
    ),
    "chat_described_tools": (
        "function tools with descriptions, or several with parameters, on a non-reasoning "
        "model: counted in the Chat Completions layout (headings, joined to a leading system "
        "message), which one Responses count of a described tool gives exactly and another "
        "(strict, two required properties) leaves 3 low"
    ),
    "chat_tool_schema": (
        "tool parameters with {feature} on a non-reasoning model: recorded Chat Completions "
        "counts of such schemas differ from this rendering"
    ),
    "tool_search_tool": (
        "tool_search tool: declared as a function 'tool_search'; the hidden listing of its "
        "{deferred} deferred tool(s) is a fitted estimate (gpt-5.4 records of different dates "
        "disagree)"
    ),
    "namespace_tool": "namespace tool '{name}': its rendering is not verified",
    "schema_feature": "tool parameters use {feature}: rendering not verified on records",
    "hosted_tool": (
        "{type} tool '{name}': no published token overhead, its definition is counted as JSON"
    ),
    "hosted_tool_measured": (
        "{type} tool '{name}': its hidden prompt is counted as the {tokens} tokens one recorded "
        "request showed ({model}); it may differ with the tool's settings, other tools and "
        "other models"
    ),
    "format_not_strict": "text.format json_schema without strict: fitted only on strict schemas",
    "format_key_order": (
        "text.format schema: its count depends on the order of its keys, and the records (keys "
        "sorted by the recorder) cannot show which order OpenAI uses"
    ),
    "format_description": "text.format description: its rendering is not verified on records",
    "format_placement": "text.format after instructions or tools: placement fitted only when alone",
    "chat_format_alone": "text.format without tools on a non-reasoning model: not recorded",
    "chat_system_with_instructions": (
        "tools or text.format with instructions on a non-reasoning model: not recorded"
    ),
    "oss_effort": "reasoning effort '{effort}' has no gpt-oss system-prompt form",
    "oss_text_format": "text.format on gpt-oss: the reference renderer has no form",
    # Input items (render/items.py).
    "custom_tool_call": "custom tool calls: free-text call rendering not verified on records",
    "preamble_inferred": (
        "assistant message without a phase right before a tool call: counted as a preamble on "
        "the commentary channel (1 token more than a final answer), as one recorded count "
        "(gpt-5.4) shows"
    ),
    "undeclared_tool_call": (
        "call to '{name}', which is not among the request's tools: such calls are not "
        "covered by recorded counts"
    ),
    "unmatched_call_output": "output for call_id '{call_id}' has no matching call in the input",
    "output_content_parts": (
        "function_call_output with content parts other than text and images: not recorded "
        "on this model family"
    ),
    "encrypted_content": "encrypted content cannot be read offline: estimated from its length",
    "reasoning_unconfirmed": "reasoning items: rendering not yet confirmed by records",
    "unresolved_reference": (
        "item_reference '{id}' is not resolved: render() was given it unresolved"
    ),
    "unpublished_item": "'{type}' items: no published rendering, their visible fields are counted",
    "tool_search_output": (
        "tool_search_output: the text injected with loaded tools is a fitted estimate "
        "(gpt-5.4 and gpt-5.4-mini records; the end of April and gpt-5.6 differ)"
    ),
    "additional_tools_shape": (
        "'additional_tools' item: its hidden text is fitted on items holding one function tool "
        "on a hosted reasoning model; this one holds {tools}"
    ),
    # Message content: parts, images and files (render/content.py).
    "unknown_content_part": "content part type '{type}' has no counting rule yet",
    "no_image_rule": "model '{model}' has no image rule: images counted with the gpt-4o tile rule",
    "remote_image_not_fetched": (
        "remote image not fetched (remote fetching is off): counted as 1024x1024"
    ),
    "image_first_content": (
        "content that starts with an image: recorded only as one image without text on "
        "non-reasoning models (+1)"
    ),
    "detail_original": "detail 'original' has no published token budget",
    "image_rule_unverified": "image rule of '{model}' is not confirmed by records",
    "remote_file_not_fetched": (
        "remote file not fetched (remote fetching is off): only its name is counted"
    ),
    "pdf_file": (
        "PDF: extracted text counted; page images counted as nothing, as recorded Responses "
        "counts show (file framing fitted on three records of one 1-page PDF on non-reasoning "
        "models, unrecorded elsewhere)"
    ),
    "spreadsheet_file": "spreadsheet text: counted as sent; OpenAI parses it and adds a summary",
    "text_file": "text file: its text counted (file framing unrecorded)",
    # Chat Completions bodies (render/chat.py).
    "chat_reasoning_tools": (
        "tools on {model} over Chat Completions: no recorded count covers this model family"
    ),
    "chat_reasoning_assistant": (
        "assistant message text on a reasoning model over Chat Completions: counted 2 below "
        "the Responses framing, as the one recorded count (o3-mini) shows"
    ),
    "chat_parallel_calls_each": (
        "several tool calls in one assistant message on a reasoning model over Chat "
        "Completions: the one recorded count (gpt-5-mini, two calls) is 8 above this count"
    ),
    "chat_call_arguments": (
        "tool call arguments not in compact JSON: counted re-serialized compactly, as one "
        "recorded count (gpt-5-mini) shows"
    ),
    "chat_reasoning_image": (
        "image on a reasoning model over Chat Completions: 2 tokens added per image, fitted on "
        "gpt-5-mini records of two images, each after a call with empty arguments"
    ),
    "chat_model_hidden": (
        "{model} over Chat Completions: a hidden text of {tokens} tokens, fitted on one "
        "recorded count"
    ),
    "chat_message_name": "message name: counted as its tokens and one more, not recorded",
    "chat_parallel_calls": (
        "{calls} function calls in one assistant message{undeclared}: rendered as one "
        "multi_tool_use.parallel call, fitted only on records of two calls to declared tools"
    ),
    "chat_large_image": (
        "image {width}x{height}, scaled down to fit 2048 px: Chat Completions records of one "
        "such image disagree (April 2025 4 tokens below the tile rule, July 2025 on it)"
    ),
    "chat_format_joined": (
        "response_format json_schema with tools joined to a system message: recorded only "
        "after tools in a system message of their own"
    ),
    "chat_pdf_file": (
        "PDF on Chat Completions: extracted text plus {tokens} tokens per page, fitted on "
        "records of 1-page PDFs only (per page or per file is not recorded)"
    ),
    "chat_call_with_text": (
        "an assistant message with text and tool calls: not recorded on a non-reasoning model "
        "(counted as the text message followed by the calls)"
    ),
    "chat_legacy_functions": (
        "legacy functions, function_call or function messages: not recorded on a non-reasoning "
        "model (counted as function tools, tool calls and tool messages)"
    ),
    "chat_unrecorded": (
        "{what} on a non-reasoning model over Chat Completions: not recorded ({how})"
    ),
    "chat_audio": (
        "input_audio: no token rule is published for audio on Chat Completions; counted at "
        "{rate} tokens per second of its duration (the Realtime API's rate for user audio)"
    ),
}


def reason(code: str, **fields: object) -> str:
    """The text of reason `code` with its `fields` filled in.

    Raises KeyError for an unknown code, and for a field the template names but was not given.

    >>> reason("framing_unverified", model="gpt-5-chat-latest")
    "prompt framing of 'gpt-5-chat-latest' is not yet verified"
    """
    return REASONS[code].format(**fields)
