"""The orchestrator: body -> validated request -> rendered prompt -> TokenCount.

This is the one code path behind the library, the CLI and the HTTP service. It does no I/O
beyond loading a packaged vocabulary on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tiktoken

from .models import lookup_model
from .render import render
from .render.prompt import Block, Media, Prompt, Special, Text
from .request import CountRequest, parse_request
from .result import PartCount, TokenCount
from .settings import Settings
from .tokenizer import encode_text, get_encoding, special_token_id

_DEFAULT_SETTINGS = Settings()


def _count_block(
    block: Block, enc: tiktoken.Encoding, ids: list[int] | None
) -> PartCount:
    text_tokens = image_tokens = file_tokens = 0
    pending: list[Text] = []

    def flush() -> int:
        if not pending:
            return 0
        text = pending[0].text if len(pending) == 1 else "".join(t.text for t in pending)
        encoded = encode_text(enc, text, pending[0].param)
        pending.clear()
        if ids is not None:
            ids.extend(encoded)
        return len(encoded)

    for seg in block.segments:
        if type(seg) is Text:
            pending.append(seg)
        elif type(seg) is Special:
            text_tokens += flush() + 1
            if ids is not None:
                ids.append(special_token_id(enc, seg.token))
        else:
            assert type(seg) is Media
            text_tokens += flush()
            if seg.kind == "image":
                image_tokens += seg.tokens
            elif seg.kind == "file":
                file_tokens += seg.tokens
            else:
                text_tokens += seg.tokens
    text_tokens += flush()
    return PartCount(
        label=block.label,
        tokens=text_tokens + image_tokens + file_tokens,
        text_tokens=text_tokens,
        image_tokens=image_tokens,
        file_tokens=file_tokens,
        estimate_reasons=tuple(dict.fromkeys(block.estimate_reasons)),
    )


def prepare(body: Mapping[str, Any] | CountRequest, settings: Settings) -> CountRequest:
    """A validated CountRequest from a body (or the request itself)."""
    if isinstance(body, CountRequest):
        return body
    return parse_request(body, default_model=settings.default_model)


def count_input_tokens(
    body: Mapping[str, Any] | CountRequest,
    *,
    settings: Settings | None = None,
    return_tokens: bool = False,
) -> TokenCount:
    """Count the input tokens of a Responses API request body, offline.

    >>> count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}).input_tokens
    11

    Raises ``InvalidRequestError`` (with ``param`` and ``code``) for a body OpenAI would reject
    and ``ModelNotFoundError`` for an unknown model.
    """
    settings = settings or _DEFAULT_SETTINGS
    request = prepare(body, settings)
    model = lookup_model(request.model)
    prompt = render(request, model)
    enc = get_encoding(prompt.encoding)
    ids: list[int] | None = [] if return_tokens else None
    parts = tuple(_count_block(block, enc, ids) for block in prompt.blocks)
    reasons = tuple(dict.fromkeys(r for p in parts for r in p.estimate_reasons))
    details = {
        "text_tokens": sum(p.text_tokens for p in parts),
        "image_tokens": sum(p.image_tokens for p in parts),
        "file_tokens": sum(p.file_tokens for p in parts),
    }
    strings = None
    if ids is not None:
        strings = tuple(
            enc.decode_single_token_bytes(t).decode("utf-8", errors="replace") for t in ids
        )
    return TokenCount(
        input_tokens=sum(p.tokens for p in parts),
        model=model.id,
        requested_model=request.model,
        encoding=model.encoding,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        parts=parts,
        estimate_reasons=reasons,
        tokens=tuple(ids) if ids is not None else None,
        token_strings=strings,
        details=details,
    )


def render_prompt(
    body: Mapping[str, Any] | CountRequest, *, settings: Settings | None = None
) -> Prompt:
    """The prompt the model sees for a request body (what ``inputtokens render`` prints).

    >>> render_request({"model": "gpt-4o", "input": "Hi"}).text
    '<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>'
    """
    request = prepare(body, settings or _DEFAULT_SETTINGS)
    return render(request, lookup_model(request.model))
