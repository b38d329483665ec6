"""The count pipeline: body -> request -> what it needs -> loaded -> prompt -> TokenCount.

This is the one code path behind every face (the library, the CLI, the HTTP routes)::

    parse_request(body)                    formats/responses.py   pure; errors name the field
    find_needs(request, model)             count/needs.py          pure: state and media
    sources.load_state(needs.state)        the face's Sources      I/O (store, upstream)
    apply_state(request, state)            count/needs.py          pure (then media_needs
                                                                   again: stored items too)
    sources.load_media(needs)              the face's Sources      I/O (store, fetching)
    render(request, model, media)          render/                 pure, once
    _count_block(...) per block            here                    tokenizer + content cache

Nothing here reads settings, opens a store or fetches: the face hands in ``CountOptions``, a
``Sources`` (``NO_SOURCES`` by default) and a content cache (or None). The only I/O left is
loading a packaged vocabulary on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from time import perf_counter
from typing import Any, NamedTuple

import tiktoken

from ..core.errors import InvalidRequestError
from ..core.models import (
    DEFAULT_REGISTRY,
    ModelInfo,
    ModelRegistry,
    first_countable,
    lookup_embedding_model,
)
from ..core.reasons import reason
from ..core.result import MediaCount, PartCount, TokenCount
from ..core.token_cache import MIN_CHARS, CacheUse, TokenCountCache
from ..core.tokenizer import (
    count_cached,
    count_text,
    encode_cached,
    encode_text,
    get_encoding,
    special_token_id,
    token_strings,
)
from ..formats.chat import ChatRequest, parse_chat_request
from ..formats.embeddings import EmbeddingsRequest
from ..formats.responses import CountRequest, parse_request
from ..media.loaded import DEFAULT_INLINE_LIMITS, NOTHING_LOADED, InlineLimits, LoadedMedia
from ..render import render
from ..render.chat import render_chat
from ..render.prompt import Block, Media, Offset, Prompt, Special, Text
from .needs import (
    NO_SOURCES,
    MediaNeeds,
    Needs,
    Sources,
    apply_state,
    chat_media_needs,
    find_needs,
    media_needs,
)
from .truncation import context_length_error, items_to_drop

DEFAULT_MODEL = "gpt-5"
# The answer's ``object`` for a Chat Completions body (OpenAI has no count endpoint for them).
CHAT_OBJECT = "chat.completion.input_tokens"
EMBEDDINGS_OBJECT = "embedding.input_tokens"
DEFAULT_MAX_INPUT_ITEMS = 200_000  # well above real agent transcripts; bounds work per request


@dataclass(frozen=True, slots=True)
class CountOptions:
    """What a count may assume and accept: the model of a body without one, and limits."""

    default_model: str = DEFAULT_MODEL
    max_input_items: int | None = DEFAULT_MAX_INPUT_ITEMS
    limits: InlineLimits = DEFAULT_INLINE_LIMITS
    # The models a request may name: the built-in table, or one extended by a models file.
    models: ModelRegistry = DEFAULT_REGISTRY


DEFAULT_OPTIONS = CountOptions()


class Rendered(NamedTuple):
    """A request with its stored state in place, its model, loaded media and prompt."""

    request: CountRequest
    model: ModelInfo
    media: LoadedMedia
    prompt: Prompt
    fallback: str | None = None  # the `fallbacks` entry counted, when `model` is not countable


def cached_count(
    cache: TokenCountCache, enc: tiktoken.Encoding, text: str, param: str | None, use: CacheUse
) -> int:
    """The tokens of `text` (longer than ``MIN_CHARS``) from the content cache, or encoded and
    then kept there."""
    key = cache.key(enc.name, text)
    found = cache.get(key, use)
    if found is None:
        found = count_text(enc, text, param)
        cache.put(key, found)
    return found


def _run_tokens(
    text: str,
    param: str | None,
    enc: tiktoken.Encoding,
    ids: list[int] | None,
    cache: TokenCountCache | None,
    use: CacheUse,
) -> int:
    """Tokens of one run of adjacent text segments joined (its ids appended to `ids`)."""
    if ids is not None:
        encoded = encode_cached(enc, text, param)
        ids.extend(encoded)
        return len(encoded)
    if len(text) > MIN_CHARS and cache is not None:
        return cached_count(cache, enc, text, param, use)
    # Short texts from the tokenizer's table; long ones with no cache (off, or a tools split)
    # are counted, never their ids built.
    return count_cached(enc, text, param)


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
    media_counts: list[MediaCount] | None = None
    # The run of adjacent text segments not yet encoded: its first segment, and the texts of
    # all of them once there are two (almost every run is one segment: no list for those).
    first: Text | None = None
    more: list[str] | None = None
    for seg in block.segments:
        kind = type(seg)
        if kind is Text:
            if first is None:
                first = seg  # type: ignore[assignment]
            elif more is None:
                more = [first.text, seg.text]  # type: ignore[union-attr]
            else:
                more.append(seg.text)  # type: ignore[union-attr]
            continue
        if first is not None:
            text = first.text if more is None else "".join(more)
            text_tokens += _run_tokens(text, first.param, enc, ids, cache, use)
            first = more = None
        if kind is Special:
            text_tokens += 1
            if ids is not None:
                ids.append(special_token_id(enc, seg.token))  # type: ignore[union-attr]
        elif kind is Offset:
            text_tokens += seg.tokens  # type: ignore[union-attr]
        elif kind is Media:
            media: Media = seg  # type: ignore[assignment]
            if media_counts is None:
                media_counts = []
            media_counts.append(MediaCount(media.kind, media.tokens, media.label, media.param))
            if media.kind == "image":
                image_tokens += media.tokens
            elif media.kind == "file":
                file_tokens += media.tokens
            else:
                text_tokens += media.tokens
    if first is not None:  # the block ends with text
        text = first.text if more is None else "".join(more)
        text_tokens += _run_tokens(text, first.param, enc, ids, cache, use)
    reasons = block.estimate_reasons
    # Every field, in order, straight to tuple.__new__: the same value PartCount(...) builds,
    # without the call of its Python-level __new__ (this runs once per block of every request).
    return _new_tuple(
        PartCount,
        (
            block.label,
            text_tokens + image_tokens + file_tokens,
            text_tokens,
            image_tokens,
            file_tokens,
            tuple(dict.fromkeys(reasons)) if reasons else (),
            tuple(media_counts) if media_counts else (),
        ),
    )


_new_tuple = tuple.__new__


def prepare(
    body: Mapping[str, Any] | CountRequest, options: CountOptions = DEFAULT_OPTIONS
) -> CountRequest:
    """A validated CountRequest from a body (or the request itself)."""
    if isinstance(body, CountRequest):
        return body
    return parse_request(
        body, default_model=options.default_model, max_input_items=options.max_input_items
    )


def _resolve(
    models: ModelRegistry, name: str, fallbacks: tuple[str, ...]
) -> tuple[ModelInfo, str | None]:
    """The model a request is counted with: `name`'s, or else its first countable fallback's,
    whose every count says so."""
    model, fallback = first_countable(models.lookup, name, fallbacks)
    if fallback is not None:
        flag = reason("model_fallback", model=name, fallback=fallback)
        model = replace(model, unconfirmed=(*model.unconfirmed, flag))
    return model, fallback


def render_request(
    request: CountRequest,
    sources: Sources = NO_SOURCES,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
    needs: Needs | None = None,
    models: ModelRegistry = DEFAULT_REGISTRY,
) -> Rendered:
    """Resolve the model, load what the request names through `sources`, render once.

    `needs`: ``find_needs(request, model)`` when the caller has it already (the count route
    asks it to choose where to count), so it is not found twice."""
    try:
        model, fallback = _resolve(models, request.model, request.fallbacks)
        state, wanted = find_needs(request, model) if needs is None else needs
        if state:  # stored conversations, previous responses and referenced items come first
            request = apply_state(request, sources.load_state(state), state)
            wanted = media_needs(request, model)  # the stored items' media too
        media = sources.load_media(wanted) if wanted else NOTHING_LOADED
        prompt = render(request, model, media, limits)
        return Rendered(request, model, media, prompt, fallback)
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> InvalidRequestError:
    """Free-form JSON (schemas, arguments objects) nested deeper than rendering recurses."""
    return InvalidRequestError(
        "The request body is nested too deeply.", param=None, code="invalid_value"
    )


def count_request(
    request: CountRequest,
    sources: Sources = NO_SOURCES,
    *,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
    cache: TokenCountCache | None = None,
    return_tokens: bool = False,
    needs: Needs | None = None,
    models: ModelRegistry = DEFAULT_REGISTRY,
    enforce_limit: bool = True,
) -> TokenCount:
    """Count a validated request: render it once, then tokenize each block (through `cache`,
    when one is given and token ids are not wanted); over the model's input limit, refuse or
    (truncation "auto") drop the oldest items. `needs` as for ``render_request``.
    `enforce_limit=False` answers the count over the limit instead of refusing it (the caller
    compares ``input_tokens`` with ``input_limit``: a batch pre-flight)."""
    start = perf_counter()
    request, model, media, prompt, fallback = render_request(
        request, sources, limits, needs, models
    )
    enc = get_encoding(prompt.encoding)
    ids: list[int] | None = [] if return_tokens else None
    use = CacheUse()
    parts = tuple([_count_block(block, enc, ids, cache, use) for block in prompt.blocks])
    dropped = 0
    while (excess := sum([p.tokens for p in parts]) - model.input_limit) > 0:
        if request.truncation != "auto" or (request.input_is_text and not request.stored_items):
            if not enforce_limit:
                break
            raise context_length_error(excess + model.input_limit, model.input_limit)
        first_item = len(parts) - len(request.input) - 1  # system blocks, items, priming
        item_tokens = [p.tokens for p in parts[first_item : first_item + len(request.input)]]
        try:
            cut = items_to_drop(request.input, item_tokens, excess)
        except InvalidRequestError:  # nothing it may drop fits: the figures of this input
            raise context_length_error(excess + model.input_limit, model.input_limit) from None
        dropped += cut
        request = replace(request, input=request.input[cut:])
        prompt = render(request, model, media, limits, first_index=dropped)
        ids = [] if return_tokens else None
        parts = tuple([_count_block(block, enc, ids, cache, use) for block in prompt.blocks])
    result = _result(request, model, enc, parts, ids, dropped, use, fallback, start)
    if request.tools:
        result.tool_splitter = ToolSplit(request, model, enc, media, limits, dropped)
    return result


def prepare_chat(body: Mapping[str, Any] | ChatRequest, options: CountOptions) -> ChatRequest:
    """A Chat Completions body validated into a ChatRequest (one already built passes)."""
    if isinstance(body, ChatRequest):
        return body
    return parse_chat_request(
        body, default_model=options.default_model, max_messages=options.max_input_items
    )


def render_chat_request(
    request: ChatRequest,
    sources: Sources = NO_SOURCES,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
    models: ModelRegistry = DEFAULT_REGISTRY,
    media: MediaNeeds | None = None,
) -> tuple[ModelInfo, Prompt, str | None]:
    """The model of a chat request and its prompt, with the stored files and http(s) URLs
    its messages name loaded through `sources` (`media`: ``chat_media_needs`` when the caller
    has it already), and the `fallbacks` entry counted (None: `model`). Chat bodies name no
    stored conversation state."""
    model, fallback = _resolve(models, request.model, request.fallbacks)
    wanted = chat_media_needs(request, model) if media is None else media
    loaded = sources.load_media(wanted) if wanted else NOTHING_LOADED
    try:
        return model, render_chat(request, model, loaded, limits), fallback
    except RecursionError:
        raise _too_deep() from None


def count_chat_request(
    request: ChatRequest,
    sources: Sources = NO_SOURCES,
    *,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
    cache: TokenCountCache | None = None,
    return_tokens: bool = False,
    models: ModelRegistry = DEFAULT_REGISTRY,
    media: MediaNeeds | None = None,
    enforce_limit: bool = True,
) -> TokenCount:
    """Count a validated Chat Completions request: render it once, tokenize each block; over
    the model's input limit, OpenAI's ``context_length_exceeded`` (unless `enforce_limit` is
    off: then the count)."""
    start = perf_counter()
    model, prompt, fallback = render_chat_request(request, sources, limits, models, media)
    enc = get_encoding(prompt.encoding)
    ids: list[int] | None = [] if return_tokens else None
    use = CacheUse()
    parts = tuple([_count_block(block, enc, ids, cache, use) for block in prompt.blocks])
    total = sum(p.tokens for p in parts)
    if enforce_limit and total > model.input_limit:
        raise context_length_error(total, model.input_limit, param="messages")
    result = _result(request, model, enc, parts, ids, 0, use, fallback, start)
    splitter = ToolSplit(request, model, enc) if request.tools else None
    return replace(result, object=CHAT_OBJECT, tool_splitter=splitter)


class ToolSplit:
    """The `tools` part of a count as one part per tool, for the rich view's breakdown.

    Tool ``i``'s part (``tools[i]``, its index in the body's ``tools``) is what the `tools`
    block loses when the request is rendered without that tool: its declaration, the fitted
    offsets it brings (its own and those it causes, such as "tool followed by another" on
    the tool before it) and any text only it needs. What no single tool's removal takes away
    stays in the `tools` part: the message framing, the headings and namespace lines, the
    section's opening offset, the joins. So the parts add up to the `tools` part exactly,
    whatever the tools (the shared rest can be 0, or negative where removing tools one by one
    takes away more than all of them cost together). Each part keeps the `tools` part's
    estimate reasons. Only blocks labelled ``tools`` are split (gpt-oss declares its tools
    inside the developer message, which stays one part).
    """

    __slots__ = ("request", "model", "enc", "media", "limits", "first_index")

    def __init__(
        self,
        request: CountRequest | ChatRequest,
        model: ModelInfo,
        enc: tiktoken.Encoding,
        media: LoadedMedia = NOTHING_LOADED,
        limits: InlineLimits = DEFAULT_INLINE_LIMITS,
        first_index: int = 0,
    ) -> None:
        self.request, self.model, self.enc = request, model, enc
        self.media, self.limits, self.first_index = media, limits, first_index

    def _tools_tokens_without(self, index: int) -> int:
        tools = self.request.tools[:index] + self.request.tools[index + 1 :]
        if isinstance(self.request, ChatRequest):
            prompt = render_chat(replace(self.request, tools=tools), self.model, self.media)
        else:
            request = replace(self.request, tools=tools)
            prompt = render(request, self.model, self.media, self.limits, self.first_index)
        use = CacheUse()
        return sum(
            _count_block(b, self.enc, None, None, use).tokens
            for b in prompt.blocks
            if b.label == "tools"
        )

    def __call__(self, part: PartCount) -> tuple[PartCount, ...]:
        own = [part.tokens - self._tools_tokens_without(i) for i in range(len(self.request.tools))]
        rest = part.tokens - sum(own)
        reasons = part.estimate_reasons
        per_tool = [PartCount(f"tools[{i}]", n, n, 0, 0, reasons) for i, n in enumerate(own)]
        return (part._replace(tokens=rest, text_tokens=rest), *per_tool)


def count_embeddings_request(
    request: EmbeddingsRequest, *, return_tokens: bool = False, enforce_limit: bool = True
) -> TokenCount:
    """Count an Embeddings request: each input entry on its own, as its tokens (text) or its
    length (token ids); no framing. An entry over the model's input limit is OpenAI's 400."""
    start = perf_counter()
    model, fallback = first_countable(lookup_embedding_model, request.model, request.fallbacks)
    enc = get_encoding(model.encoding)
    ids: list[int] | None = [] if return_tokens else None
    parts: list[PartCount] = []
    for i, entry in enumerate(request.inputs):
        label = "input" if request.input_is_text else f"input[{i}]"
        tokens = list(entry) if isinstance(entry, tuple) else encode_text(enc, entry)
        if enforce_limit and len(tokens) > model.max_input_tokens:
            raise InvalidRequestError(
                f"This model's maximum context length is {model.max_input_tokens} tokens, "
                f"however you requested {len(tokens)} tokens ({len(tokens)} in your prompt; 0 "
                f"for the completion). Please reduce your prompt; or completion length.",
                param=label,
                code="context_length_exceeded",
                details={
                    "input_tokens": len(tokens),
                    "max_input_tokens": model.max_input_tokens,
                    "tokens_over": len(tokens) - model.max_input_tokens,
                },
            )
        if ids is not None:
            ids += tokens
        parts.append(PartCount(label, len(tokens), len(tokens), 0, 0))
    total = sum(p.tokens for p in parts)
    strings = None
    if ids is not None:
        strings = token_strings(enc, ids)
    return TokenCount(
        input_tokens=total,
        model=model.id,
        requested_model=request.model,
        encoding=model.encoding,
        context_window=model.max_input_tokens,
        max_output_tokens=0,
        parts=tuple(parts),
        estimate_reasons=(
            (reason("model_fallback", model=request.model, fallback=fallback),) if fallback else ()
        ),
        tokens=tuple(ids) if ids is not None else None,
        token_strings=strings,
        details={"text_tokens": total, "audio_tokens": 0, "image_tokens": 0, "file_tokens": 0},
        input_limit=model.max_input_tokens,
        object=EMBEDDINGS_OBJECT,
        model_defaulted=request.model_defaulted,
        fallback=fallback,
        latency_ms=_ms_since(start),
    )


def _result(
    request: CountRequest | ChatRequest,
    model: ModelInfo,
    enc: tiktoken.Encoding,
    parts: tuple[PartCount, ...],
    ids: list[int] | None,
    dropped: int,
    use: CacheUse,
    fallback: str | None = None,
    start: float | None = None,
) -> TokenCount:
    """The TokenCount of counted parts: totals by kind, the reasons of every estimate (and,
    with the `perf_counter` it started at, how long the count took)."""
    # One pass over the parts: most have neither reasons nor media.
    text = images = files = audio = 0
    estimated = False
    for part in parts:
        text += part.text_tokens
        images += part.image_tokens
        files += part.file_tokens
        if part.estimate_reasons:
            estimated = True
        if part.media:  # audio clips (chat ``input_audio``) are counted in the text tokens
            audio += sum([m.tokens for m in part.media if m.kind == "audio"])
    reasons: tuple[str, ...] = ()
    if estimated:
        reasons = tuple(dict.fromkeys(r for p in parts for r in p.estimate_reasons))
    details = {
        "text_tokens": text - audio,
        "audio_tokens": audio,
        "image_tokens": images,
        "file_tokens": files,
    }
    strings = None
    if ids is not None:
        strings = token_strings(enc, ids)
    # Positional, in field order (core/result.py): this runs once per count, and keywords
    # cost twice as much for twenty fields.
    return TokenCount(
        text + images + files,  # input_tokens
        model.id,  # model
        request.model,  # requested_model
        model.encoding,  # encoding
        model.context_window,  # context_window
        model.max_output_tokens,  # max_output_tokens
        parts,  # parts
        reasons,  # estimate_reasons
        tuple(ids) if ids is not None else None,  # tokens
        strings,  # token_strings
        details,  # details
        model.input_limit,  # input_limit
        dropped,  # dropped_items
        request.model_defaulted,  # model_defaulted
        request.max_output_tokens,  # requested_max_output_tokens
        use,  # cache_use
        "response.input_tokens",  # object
        fallback,  # fallback
        None if start is None else _ms_since(start),  # latency_ms
    )


def _ms_since(start: float) -> float:
    """Milliseconds since `start` (a ``perf_counter`` reading), to the microsecond (rounded
    as a whole number of µs: ``round(x, 3)`` formats the float in decimal, ~1 µs a count)."""
    return round((perf_counter() - start) * 1_000_000) / 1000
