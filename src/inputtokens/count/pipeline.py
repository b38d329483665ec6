"""The orchestrator: body -> validated request -> rendered prompt -> TokenCount.

This is the one code path behind the library, the CLI and the HTTP service. Its only I/O is
loading a packaged vocabulary on first use and, when a request names http(s) images or files
or stored file ids, loading them (fetch.py, store.py) between two pure renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import tiktoken

from ..core.errors import InvalidRequestError
from ..core.models import ModelInfo, lookup_model
from ..core.result import MediaCount, PartCount, TokenCount
from ..core.token_cache import MIN_CHARS, CacheUse, TokenCountCache, cache_for
from ..core.tokenizer import encode_cached, encode_text, get_encoding, special_token_id
from ..formats.responses import CountRequest, parse_request
from ..render import render
from ..render.prompt import Block, Media, Offset, Prompt, Special, Text
from ..settings import Settings
from ..state.resolve import Fallback, needs_state, resolve_state
from ..state.sources import Attachments, fetch_wanted, load_stored
from .truncation import context_length_error, items_to_drop

_DEFAULT_SETTINGS = Settings()


def _count_block(
    block: Block,
    enc: tiktoken.Encoding,
    ids: list[int] | None,
    cache: TokenCountCache | None,
    use: CacheUse,
) -> PartCount:
    """Tokens of one block; adjacent text segments are encoded as one string.

    Without token ids wanted, long texts are counted through the content cache.
    """
    text_tokens = image_tokens = file_tokens = 0
    media_counts: list[MediaCount] = []
    run: list[Text] = []  # adjacent text segments not yet encoded
    for seg in (*block.segments, None):  # None flushes the last run
        kind = type(seg)
        if kind is Text:
            run.append(seg)  # type: ignore[arg-type]
            continue
        if run:
            text = run[0].text if len(run) == 1 else "".join(t.text for t in run)
            if cache is not None and ids is None and len(text) > MIN_CHARS:
                key = cache.key(enc.name, text)
                found = cache.get(key, use)
                if found is None:
                    found = len(encode_text(enc, text, run[0].param))
                    cache.put(key, found)
                text_tokens += found
            else:
                encoded = encode_cached(enc, text, run[0].param)
                text_tokens += len(encoded)
                if ids is not None:
                    ids.extend(encoded)
            run = []
        if kind is Special:
            text_tokens += 1
            if ids is not None:
                ids.append(special_token_id(enc, seg.token))  # type: ignore[union-attr]
        elif kind is Offset:
            text_tokens += seg.tokens  # type: ignore[union-attr]
        elif kind is Media:
            media: Media = seg  # type: ignore[assignment]
            media_counts.append(MediaCount(media.kind, media.tokens, media.label, media.param))
            if media.kind == "image":
                image_tokens += media.tokens
            elif media.kind == "file":
                file_tokens += media.tokens
            else:
                text_tokens += media.tokens
    reasons = block.estimate_reasons
    # Positional: half the cost of keywords, and this runs once per block of every request.
    return PartCount(
        block.label,
        text_tokens + image_tokens + file_tokens,
        text_tokens,
        image_tokens,
        file_tokens,
        tuple(dict.fromkeys(reasons)) if reasons else (),
        tuple(media_counts),
    )


def prepare(body: Mapping[str, Any] | CountRequest, settings: Settings) -> CountRequest:
    """A validated CountRequest from a body (or the request itself)."""
    if isinstance(body, CountRequest):
        return body
    return parse_request(
        body, default_model=settings.default_model, max_input_items=settings.max_input_items
    )


def _render(
    body: Mapping[str, Any] | CountRequest,
    settings: Settings,
    owner: str = "",
    fallback: Fallback | None = None,
) -> tuple[CountRequest, ModelInfo, Prompt, Attachments]:
    """Validate, resolve the model and render; the shared first half of every face."""
    try:
        request = prepare(body, settings)
        model = lookup_model(request.model)
        if needs_state(request):
            # Stored conversations, previous responses and referenced items come first.
            from ..state.store import store_for  # the database opens on the first stored id

            request = resolve_state(request, store_for(settings.store_url()), owner, fallback)
        attachments = Attachments(
            max_image_bytes=settings.max_image_bytes, max_file_bytes=settings.max_file_bytes
        )
        prompt = render(request, model, attachments)
        if attachments.wanted:
            # Stored files and remote URLs: load them all at once, then render with them.
            if any(ref.kind == "file_id" for ref in attachments.wanted):
                from ..state.store import store_for  # the database opens on the first file id

                load_stored(attachments, store_for(settings.store_url()), owner, fallback)
            if attachments.wanted and settings.remote_fetch:
                from ..media.fetch import fetcher_for  # sockets and TLS load on the first URL

                fetch_wanted(
                    attachments, fetcher_for(settings.fetch_policy()), settings.max_remote_urls
                )
            attachments.wanted.clear()
            prompt = render(request, model, attachments)
        return request, model, prompt, attachments
    except RecursionError:
        # Free-form JSON (schemas, arguments objects) nested deeper than Python recurses.
        raise InvalidRequestError(
            "The request body is nested too deeply.", param=None, code="invalid_value"
        ) from None


def count_input_tokens(
    body: Mapping[str, Any] | CountRequest,
    *,
    settings: Settings | None = None,
    return_tokens: bool = False,
    owner: str = "",
    fallback: Fallback | None = None,
) -> TokenCount:
    """Count the input tokens of a Responses API request body, offline.

    >>> count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}).input_tokens
    11

    Raises ``InvalidRequestError`` (with ``param`` and ``code``) for a body OpenAI would reject
    and ``ModelNotFoundError`` for an unknown model.
    """
    settings = settings or _DEFAULT_SETTINGS
    request, model, prompt, attachments = _render(body, settings, owner, fallback)
    enc = get_encoding(prompt.encoding)
    ids: list[int] | None = [] if return_tokens else None
    cache = cache_for(settings.cache_entries)
    use = CacheUse()
    parts = tuple([_count_block(block, enc, ids, cache, use) for block in prompt.blocks])
    dropped = 0
    while (excess := sum(p.tokens for p in parts) - model.input_limit) > 0:
        # Over the window: refuse, or (truncation "auto") drop the oldest items and recount.
        if request.truncation != "auto" or (request.input_is_text and not request.stored_items):
            raise context_length_error()
        first_item = len(parts) - len(request.input) - 1  # system blocks, items, priming
        item_tokens = [p.tokens for p in parts[first_item : first_item + len(request.input)]]
        cut = items_to_drop(request.input, item_tokens, excess)
        dropped += cut
        request = replace(request, input=request.input[cut:])
        prompt = render(request, model, attachments, first_index=dropped)
        ids = [] if return_tokens else None
        parts = tuple([_count_block(block, enc, ids, cache, use) for block in prompt.blocks])
    reasons: tuple[str, ...] = ()
    if any(p.estimate_reasons for p in parts):
        reasons = tuple(dict.fromkeys(r for p in parts for r in p.estimate_reasons))
    text = images = files = 0
    for part in parts:
        text += part.text_tokens
        images += part.image_tokens
        files += part.file_tokens
    details = {"text_tokens": text, "image_tokens": images, "file_tokens": files}
    strings = None
    if ids is not None:
        strings = tuple(
            enc.decode_single_token_bytes(t).decode("utf-8", errors="replace") for t in ids
        )
    return TokenCount(
        input_tokens=text + images + files,
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
        input_limit=model.input_limit,
        dropped_items=dropped,
        cache_use=use,
    )


def render_prompt(
    body: Mapping[str, Any] | CountRequest, *, settings: Settings | None = None
) -> Prompt:
    """The prompt the model sees for a request body (what ``inputtokens render`` prints).

    >>> render_prompt({"model": "gpt-4o", "input": "Hi"}).text
    '<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>'
    """
    return _render(body, settings or _DEFAULT_SETTINGS)[2]
