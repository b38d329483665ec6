"""The plain count of the simplest body, ``{"model": ..., "input": "a string"}``, without
building the request, the prompt or the result.

Such a body renders, in every family, as the model's fixed framing (the system blocks a body
without instructions, tools or a format gets, the user message's framing tokens, the reply
priming) around one text segment that framing tokens close on both sides, so it is tokenized
on its own. Its count is therefore a constant of the model plus the text's tokens. The
constant is found once per model name by counting a probe body through the whole pipeline;
the probe also checks that shape, and a model whose prompt does not have it is never counted
here. A tiny count is mostly this fixed work (validating, rendering, building a TokenCount),
so the HTTP route asks here first for its plain answer (not the verbose view, which needs the
parts).

``count`` answers None whenever the body is anything else, or would be an error (an empty or
too long string, an unknown model, a count over the model's input limit): the whole pipeline
then gives the answer or the error, as before.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

import tiktoken

from ..core.token_cache import MIN_CHARS, CacheUse, TokenCountCache
from ..core.tokenizer import count_cached, count_text, get_encoding
from ..formats.responses_schema import INPUT_MAX_LENGTH
from ..render.prompt import Special, Text
from .pipeline import CountOptions, cached_count, count_request, prepare, render_request

_PLAIN_KEYS = frozenset({"model", "input"})
_PROBES = ("x", "Two probes: the constant must not depend on the text.")
# Model names remembered (their constant, or None: not countable here); past this, a new
# name is counted by the whole pipeline, so arbitrary names cannot grow the table.
MAX_MODELS = 256


class _Framing(NamedTuple):
    tokens: int  # the count of the body minus the count of its text
    enc: tiktoken.Encoding
    input_limit: int


class PlainTextCounter:
    """Counts of ``{"model", "input": str}`` bodies for one app's options (its model registry)."""

    def __init__(self, options: CountOptions) -> None:
        self.options = options
        self._framing: dict[str | None, _Framing | None] = {}
        self._lock = threading.Lock()

    def count(self, body: Any, cache: TokenCountCache | None) -> int | None:
        """The input tokens of `body`, or None: not such a body (count it the usual way)."""
        if type(body) is not dict or not body.keys() <= _PLAIN_KEYS:
            return None
        text = body.get("input")
        model = body.get("model")
        # The conditions under which the schema accepts these two fields as a string input.
        if type(text) is not str or not text or len(text) > INPUT_MAX_LENGTH:
            return None
        if model is not None and type(model) is not str:
            return None
        framing = self._framing.get(model, _UNKNOWN)
        if framing is _UNKNOWN:
            framing = self._learn(model)
        if framing is None:
            return None
        enc = framing.enc
        if cache is not None and len(text) > MIN_CHARS:
            tokens = framing.tokens + cached_count(cache, enc, text, "input", CacheUse())
        else:
            tokens = framing.tokens + count_cached(enc, text, "input")
        return tokens if tokens <= framing.input_limit else None  # over: the pipeline's 400

    def _learn(self, model: str | None) -> _Framing | None:
        """The framing constant of `model` (None: the default model), from probe bodies."""
        framing = None
        try:
            found = {self._probe(model, text) for text in _PROBES}
        except Exception:  # noqa: BLE001 - an unknown model, ...: the pipeline gives the error
            found = {None}
        if len(found) == 1:
            framing = found.pop()
        with self._lock:
            if len(self._framing) < MAX_MODELS:
                self._framing[model] = framing
        return framing

    def _probe(self, model: str | None, text: str) -> _Framing | None:
        body: dict[str, Any] = {"input": text} if model is None else {"model": model, "input": text}
        request = prepare(body, self.options)
        prompt = render_request(request, models=self.options.models).prompt
        # The text must be a segment of its own, between framing tokens, in exactly one block.
        placed = [
            (block, i)
            for block in prompt.blocks
            for i, seg in enumerate(block.segments)
            if type(seg) is Text and seg.param == "input"
        ]
        if len(placed) != 1:
            return None
        block, i = placed[0]
        segments = block.segments
        if segments[i] != Text(text, "input") or not (
            0 < i < len(segments) - 1
            and type(segments[i - 1]) is Special
            and type(segments[i + 1]) is Special
        ):
            return None
        result = count_request(request, models=self.options.models, enforce_limit=False)
        enc = get_encoding(result.encoding)
        constant = result.input_tokens - count_text(enc, text)
        return _Framing(constant, enc, result.input_limit)


_UNKNOWN: Any = object()
