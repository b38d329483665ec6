"""The library face: ``count_input_tokens`` and ``render_prompt`` for Python callers.

A thin adapter over the count pipeline (count/pipeline.py). It turns ``Settings`` into the
pipeline's options, keeps one content cache per process for each cache size, and passes the
``Sources`` the caller gives, or none: without sources a count reads no stored state and
fetches nothing (a stored id is a 400 naming its field, a remote URL an assumption, flagged).
``local_sources`` builds the sources the CLI and the server use: the local store (SQLite by
default, needs the ``store`` extra), the upstream fallback, and safe fetching when enabled.
Every count it returns carries pricing's ``rich_cost``: its rich view shows ``cost_usd``
(priced only when the view is built).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .core.models import DEFAULT_EMBEDDING_MODEL
from .core.result import TokenCount
from .core.token_cache import DEFAULT_CACHE_BYTES, DEFAULT_MAX_ENTRIES, TokenCountCache
from .count.needs import NO_SOURCES, Sources
from .count.pipeline import (
    CountOptions,
    count_chat_request,
    count_embeddings_request,
    count_request,
    prepare,
    prepare_chat,
    render_chat_request,
    render_request,
)
from .count.plain_text import PlainTextCounter
from .formats.chat import ChatRequest
from .formats.embeddings import EmbeddingsRequest, parse_embeddings_request
from .formats.responses import CountRequest
from .pricing import rich_cost
from .render.prompt import Prompt

if TYPE_CHECKING:
    from .settings import Settings
    from .state.resolve import Fallback
    from .state.sources import LocalSources
    from .state.store import Store


def count_input_tokens(
    body: Mapping[str, Any] | CountRequest,
    *,
    settings: Settings | None = None,
    sources: Sources | None = None,
    return_tokens: bool = False,
) -> TokenCount:
    """Count the input tokens of a Responses API request body, offline.

    >>> count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."}).input_tokens
    11

    Raises ``InvalidRequestError`` (with ``param`` and ``code``) for a body OpenAI would reject
    and ``ModelNotFoundError`` for an unknown model. Pass ``sources=local_sources(settings)``
    to count conversations, previous responses, stored files and remote URLs.
    """
    options, bounds = _options(settings)
    if not return_tokens:
        # The simplest body, {"model", "input": "a string"}: its count without the pipeline
        # (count/plain_text.py), the same TokenCount.
        plain = plain_counter(options).result(body, cache_for(*bounds))
        if plain is not None:
            return _priced(plain)
    return _priced(
        count_request(
            prepare(body, options),
            sources or NO_SOURCES,
            limits=options.limits,
            cache=cache_for(*bounds),
            return_tokens=return_tokens,
            models=options.models,
        )
    )


def count_chat_tokens(
    body: Mapping[str, Any] | ChatRequest,
    *,
    settings: Settings | None = None,
    sources: Sources | None = None,
    return_tokens: bool = False,
) -> TokenCount:
    """Count the input tokens of a Chat Completions request body (``messages``), offline.

    >>> count_chat_tokens(
    ...     {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me a joke."}]}
    ... ).input_tokens
    12

    The same ``TokenCount`` as ``count_input_tokens``: total, breakdown per message, exact
    flag with reasons, token ids on request. Errors name the field (``messages[2].content``).
    Pass ``sources=local_sources(settings)`` to read stored files and fetch http(s) images.
    """
    options, bounds = _options(settings)
    return _priced(
        count_chat_request(
            prepare_chat(body, options),
            sources or NO_SOURCES,
            limits=options.limits,
            cache=cache_for(*bounds),
            return_tokens=return_tokens,
            models=options.models,
        )
    )


def count_embedding_tokens(
    body: Mapping[str, Any] | EmbeddingsRequest, *, return_tokens: bool = False
) -> TokenCount:
    """Count the input tokens of an Embeddings request body (``input``), offline.

    >>> count_embedding_tokens(
    ...     {"model": "text-embedding-3-small", "input": ["Hello world", "Good night"]}
    ... ).input_tokens
    4

    Each entry counts on its own (its breakdown part is ``input[i]``); an entry over the
    model's input limit, or more than 2,048 entries, is OpenAI's 400.
    """
    request = body
    if not isinstance(request, EmbeddingsRequest):
        request = parse_embeddings_request(body, default_model=DEFAULT_EMBEDDING_MODEL)
    return _priced(count_embeddings_request(request, return_tokens=return_tokens))


def _priced(result: TokenCount) -> TokenCount:
    """`result` with pricing's pricer attached, for its rich view's ``cost_usd``."""
    result.pricer = rich_cost
    return result


def render_chat_prompt(
    body: Mapping[str, Any] | ChatRequest,
    *,
    settings: Settings | None = None,
    sources: Sources | None = None,
) -> Prompt:
    """The prompt the model sees for a Chat Completions body."""
    options, _ = _options(settings)
    request = prepare_chat(body, options)
    return render_chat_request(request, sources or NO_SOURCES, options.limits, options.models)[1]


def render_prompt(
    body: Mapping[str, Any] | CountRequest,
    *,
    settings: Settings | None = None,
    sources: Sources | None = None,
) -> Prompt:
    """The prompt the model sees for a request body (what ``inputtokens render`` prints).

    >>> render_prompt({"model": "gpt-4o", "input": "Hi"}).text
    '<|im_start|>user<|im_sep|>Hi<|im_end|><|im_start|>assistant<|im_sep|>'
    """
    options, _ = _options(settings)
    request = prepare(body, options)
    return render_request(
        request, sources or NO_SOURCES, options.limits, models=options.models
    ).prompt


def local_sources(
    settings: Settings, *, owner: str = "", fallback: Fallback | None = None
) -> LocalSources:
    """Sources over the store `settings` name (opened on first use), for `owner` (the keyless
    owner "" by default), with `fallback` for ids the store lacks, and safe fetching of
    http(s) URLs unless ``settings.remote_fetch`` is off.

    >>> from inputtokens import Settings
    >>> local_sources(Settings(remote_fetch=False)).fetcher is None
    True
    """
    from .state.sources import LocalSources

    fetcher = None
    if settings.remote_fetch:
        from .media.fetch import fetcher_for  # sockets and TLS load only here

        fetcher = fetcher_for(settings.fetch_policy())
    url = settings.store_url()
    return LocalSources(
        lambda: open_store(url),
        owner=owner,
        fallback=fallback,
        fetcher=fetcher,
        max_remote_urls=settings.max_remote_urls,
    )


def open_store(url: str) -> Store:
    """The process's store for a database URL; says which extra to install without SQLAlchemy."""
    try:
        from .state.store import store_for
    except ImportError as exc:
        raise ImportError(
            f"Stored conversations, responses and files need SQLAlchemy ({exc.name} is "
            "missing): pip install 'inputtokens[store]'",
            name=exc.name,
        ) from None
    return store_for(url)


def _options(settings: Settings | None) -> tuple[CountOptions, tuple[int, int]]:
    """The pipeline's options and the content cache's bounds, from `settings` (or the
    defaults); those of the settings last passed are kept (a caller passes the same object
    call after call, and building them costs more than a short count)."""
    global _last_options
    if settings is None:
        return _DEFAULT_OPTIONS, _DEFAULT_BOUNDS
    last = _last_options
    if last is not None and last[0] is settings:
        return last[1]
    found = settings.count_options(), settings.cache_bounds()
    _last_options = (settings, found)
    return found


def plain_counter(options: CountOptions) -> PlainTextCounter:
    """The process's plain-text counter of `options` (one per options value, a few at most),
    shared by library calls and batch lines, so each model's framing is probed once."""
    counter = _plain_counters.get(options)
    if counter is None:
        with _caches_lock:
            if len(_plain_counters) >= _MAX_PLAIN_COUNTERS:
                _plain_counters.clear()
            counter = _plain_counters.setdefault(options, PlainTextCounter(options))
    return counter


_DEFAULT_OPTIONS = CountOptions()
_DEFAULT_BOUNDS = (DEFAULT_MAX_ENTRIES, DEFAULT_CACHE_BYTES // 2)  # as Settings().cache_bounds()
_caches: dict[tuple[int, int], TokenCountCache] = {}
_caches_lock = threading.Lock()
_last_options: tuple[Settings, tuple[CountOptions, tuple[int, int]]] | None = None
_plain_counters: dict[CountOptions, PlainTextCounter] = {}
_MAX_PLAIN_COUNTERS = 16


def cache_for(
    max_entries: int, max_bytes: int = DEFAULT_CACHE_BYTES // 2
) -> TokenCountCache | None:
    """The process's content cache of those bounds, shared by library calls; None when either
    is 0 (off).

    >>> cache_for(0) is None
    True
    """
    if max_entries <= 0 or max_bytes <= 0:
        return None
    bounds = (max_entries, max_bytes)
    cache = _caches.get(bounds)
    if cache is None:
        with _caches_lock:
            cache = _caches.setdefault(bounds, TokenCountCache(max_entries, max_bytes))
    return cache
