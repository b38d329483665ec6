"""The plain count of the simplest bodies, ``{"model": ..., "input": "a string"}`` and the
same text as one user message (``"input": [{"role": "user", "content": "a string"}]``, with
or without ``"type": "message"``, its content a string or one ``input_text`` part, as SDKs
send it), each with or without ``instructions`` (a string), without building the request, the
prompt or the result.

Such a body renders, in the families that take this path, as the model's fixed framing (the
system blocks a body without tools or a format gets, the user message's framing tokens, the
reply priming) around one text segment (two with instructions) that framing tokens close on
both sides, so each is tokenized on its own. Its count is therefore a constant of the model
plus the texts' tokens. The constant is found once per model name and shape by counting
probe bodies through the whole pipeline; the probes also check that shape (each text a
segment of its own between framing tokens), and a model whose prompt does not have it is
never counted here. A tiny count is mostly this fixed work (validating, rendering, building
a TokenCount), so the HTTP route asks here first for its plain answer (not the verbose view,
which needs the parts), and the library for its ``TokenCount``: the probe's own result with
the texts' tokens put in place of the probe texts' (the same value the pipeline builds, but
for the time it took and what the cache supplied).

``count`` answers None whenever the body is anything else, or would be an error (an empty or
too long string, an unknown model, a count over the model's input limit): the whole pipeline
then gives the answer or the error, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from time import perf_counter
from typing import Any, NamedTuple

import tiktoken

from ..core.result import TokenCount
from ..core.token_cache import MIN_CHARS, CacheUse, TokenCountCache
from ..core.tokenizer import count_cached, count_text, get_encoding
from ..formats.responses_schema import INPUT_MAX_LENGTH
from ..render.prompt import Block, Special, Text
from .pipeline import CountOptions, cached_count, count_request, prepare, render_request

_PLAIN_KEYS = frozenset({"model", "input", "instructions"})
# One user message item of text, as SDKs send it: {"role": "user", "content": "…"}, with or
# without "type": "message".
_ITEM_KEYS = frozenset({"type", "role", "content"})
_ITEM_PARAM = "input[0].content"
# Its content as one text part: [{"type": "input_text", "text": "…"}].
_PART_KEYS = frozenset({"type", "text"})
_PART_PARAM = "input[0].content[0].text"
_PROBES = ("x", "Two probes: the constant must not depend on the text.")
_INSTRUCTIONS = "instructions"  # the instructions' param
# Behind an answer cache (the HTTP route), the shortest text whose count is kept in the
# content cache too. A plain body seen again is answered from the answer cache before it gets
# here, so its text would be found in the content cache only when sent again in another body
# (another model of the encoding, a later turn repeating it as a message); for shorter texts
# hashing it and two locked lookups cost more than that rare hit saves (docs/performance.md).
BEHIND_ANSWERS_CACHE_FROM_CHARS = 2048
# Model names remembered (their constant, or None: not countable here); past this, a new
# name is counted by the whole pipeline, so arbitrary names cannot grow the table.
MAX_MODELS = 256


class _Framing(NamedTuple):
    tokens: int  # the count of the body minus the count of its texts
    enc: tiktoken.Encoding
    input_limit: int
    template: TokenCount  # the first probe's result
    part: int  # the index of the text's part in the template's parts
    probe_tokens: int  # the first probe text's tokens
    instructions_part: int  # the same for the instructions (-1: a shape without them)


# A shape: the model name (None: the default), the text's param, whether there are
# instructions.
_Shape = tuple[str | None, str, bool]


class PlainTextCounter:
    """Counts of ``{"model", "input": str}`` bodies for one app's options (its model registry)."""

    def __init__(self, options: CountOptions, *, cache_from_chars: int = MIN_CHARS + 1) -> None:
        """`cache_from_chars`: the shortest text counted through the content cache (shorter
        ones are tokenized, or found in the tokenizer's table of short texts)."""
        self.options = options
        self.cache_from_chars = cache_from_chars
        # A shape -> its framing, or None: not countable here.
        self._framing: dict[_Shape, _Framing | None] = {}
        self._lock = threading.Lock()

    def count(self, body: Any, cache: TokenCountCache | None) -> int | None:
        """The input tokens of `body`, or None: not such a body (count it the usual way)."""
        found = self._counted(body, cache, None)
        return None if found is None else found[0].tokens + found[1] + found[2]

    def result(self, body: Any, cache: TokenCountCache | None) -> TokenCount | None:
        """The pipeline's TokenCount of `body`, or None: not such a body."""
        start = perf_counter()
        use = CacheUse()
        found = self._counted(body, cache, use)
        if found is None:
            return None
        framing, text_tokens, instructions_tokens = found
        deltas = [(framing.part, text_tokens - framing.probe_tokens)]
        if framing.instructions_part >= 0:
            # the probes' instructions are their input text
            deltas.append((framing.instructions_part, instructions_tokens - framing.probe_tokens))
        latency_ms = round((perf_counter() - start) * 1_000_000) / 1000
        return framing.template.with_more_text(deltas, use, latency_ms)

    def _counted(
        self, body: Any, cache: TokenCountCache | None, use: CacheUse | None
    ) -> tuple[_Framing, int, int] | None:
        """The model's framing, the tokens of the body's text and of its instructions (0 when
        it has none), or None: not such a body. The three add up to its input tokens."""
        if type(body) is not dict or not body.keys() <= _PLAIN_KEYS:
            return None
        instructions = body.get("instructions")
        if instructions is not None and (type(instructions) is not str or not instructions):
            return None
        text = body.get("input")
        model = body.get("model")
        param = "input"
        if type(text) is list:  # one user message of text: {"role": "user", "content": "…"}
            if len(text) != 1:
                return None
            item = text[0]
            if (
                type(item) is not dict
                or not item.keys() <= _ITEM_KEYS
                or item.get("role") != "user"
                or item.get("type", "message") != "message"
            ):
                return None
            text, param = item.get("content"), _ITEM_PARAM
            if type(text) is list:  # its content as one input_text part
                if len(text) != 1:
                    return None
                part = text[0]
                if (
                    type(part) is not dict
                    or part.keys() != _PART_KEYS
                    or part.get("type") != "input_text"
                ):
                    return None
                text, param = part.get("text"), _PART_PARAM
        # The conditions under which the schema accepts these fields as text.
        if type(text) is not str or not text or len(text) > INPUT_MAX_LENGTH:
            return None
        if model is not None and type(model) is not str:
            return None
        shape = (model, param, instructions is not None)
        framing = self._framing.get(shape, _UNKNOWN)
        if framing is _UNKNOWN:
            framing = self._learn(shape)
        if framing is None:
            return None
        enc = framing.enc
        tokens = _text_tokens(enc, text, param, cache, use, self.cache_from_chars)
        instructions_tokens = 0
        if instructions is not None:
            # Instructions come again with other inputs: kept by the usual rule, whatever
            # `cache_from_chars` says of the input.
            instructions_tokens = _text_tokens(
                enc, instructions, _INSTRUCTIONS, cache, use, MIN_CHARS + 1
            )
        if framing.tokens + tokens + instructions_tokens > framing.input_limit:
            return None  # over: the pipeline's 400
        return framing, tokens, instructions_tokens

    def _learn(self, shape: _Shape) -> _Framing | None:
        """The framing constant of a model (None: the default model) and a body shape (the
        text's param: a string input, one user message, or its one text part), from probe
        bodies."""
        framing = None
        try:
            first, second = (self._probe(shape, text) for text in _PROBES)
        except Exception:  # noqa: BLE001 - an unknown model, ...: the pipeline gives the error
            first = second = None
        if first is not None and second is not None and _agree(first, second):
            framing = first
        with self._lock:
            if len(self._framing) < MAX_MODELS:
                self._framing[shape] = framing
        return framing

    def _probe(self, shape: _Shape, text: str) -> _Framing | None:
        """The framing of `shape` seen on a probe body whose texts (the input's, and the
        instructions' when the shape has them) are all `text`; None when a text is not a
        segment of its own between framing tokens, in a part of its own."""
        model, param, with_instructions = shape
        body: dict[str, Any] = {"input": text}
        if with_instructions:
            body["instructions"] = text
        if param == _ITEM_PARAM:
            body["input"] = [{"role": "user", "content": text}]
        elif param == _PART_PARAM:
            body["input"] = [{"role": "user", "content": [{"type": "input_text", "text": text}]}]
        if model is not None:
            body["model"] = model
        request = prepare(body, self.options)
        prompt = render_request(request, models=self.options.models).prompt
        result = count_request(request, models=self.options.models, enforce_limit=False)
        labels = [p.label for p in result.parts]
        part = _own_part(prompt.blocks, labels, text, param)
        instructions_part = -1
        if with_instructions:
            instructions_part = _own_part(prompt.blocks, labels, text, _INSTRUCTIONS)
            if instructions_part < 0 or instructions_part == part:
                return None
        if part < 0:
            return None
        enc = get_encoding(result.encoding)
        probe_tokens = count_text(enc, text)
        texts = 2 if with_instructions else 1
        constant = result.input_tokens - texts * probe_tokens
        return _Framing(
            constant, enc, result.input_limit, result, part, probe_tokens, instructions_part
        )


def _text_tokens(
    enc: tiktoken.Encoding,
    text: str,
    param: str,
    cache: TokenCountCache | None,
    use: CacheUse | None,
    from_chars: int,
) -> int:
    """The tokens of one text: from the content cache (kept there on a miss) when it has at
    least `from_chars` characters, else tokenized (a short one from the tokenizer's table)."""
    if cache is not None and len(text) >= from_chars:
        return cached_count(cache, enc, text, param, CacheUse() if use is None else use)
    return count_cached(enc, text, param)


def _own_part(blocks: Sequence[Block], labels: list[str], text: str, param: str) -> int:
    """The index of the counted part whose block holds the text of `param`, when it is there
    exactly once, as a segment of its own between framing tokens, in the only block of its
    label; -1 otherwise."""
    placed = [
        (block, i)
        for block in blocks
        for i, seg in enumerate(block.segments)
        if type(seg) is Text and seg.param == param
    ]
    if len(placed) != 1:
        return -1
    block, i = placed[0]
    segments = block.segments
    if segments[i] != Text(text, param) or not (
        0 < i < len(segments) - 1
        and type(segments[i - 1]) is Special
        and type(segments[i + 1]) is Special
    ):
        return -1
    if labels.count(block.label) != 1:
        return -1
    return labels.index(block.label)


def _agree(first: _Framing, second: _Framing) -> bool:
    """Whether two probes of one model show a count that is a constant plus the text's tokens:
    the same constant, limit and encoding, and results alike but for the text's part."""
    a, b = first.template, second.template
    texts = [first.part] + ([first.instructions_part] if first.instructions_part >= 0 else [])
    others_a = [p for i, p in enumerate(a.parts) if i not in texts]
    others_b = [p for i, p in enumerate(b.parts) if i not in texts]
    return (
        (first.tokens, first.enc, first.input_limit, first.part, first.instructions_part)
        == (second.tokens, second.enc, second.input_limit, second.part, second.instructions_part)
        and others_a == others_b
        and a.estimate_reasons == b.estimate_reasons
        and all(
            a.parts[i].estimate_reasons == b.parts[i].estimate_reasons
            and a.parts[i].tokens - first.probe_tokens == b.parts[i].tokens - second.probe_tokens
            for i in texts
        )
    )


_UNKNOWN: Any = object()
