"""The count result: a total with its breakdown and honesty about exactness.

``TokenCount.to_openai()`` is the wire answer OpenAI gives; ``to_rich()`` is the opt-in view
(shaped like the gateway variant: ``input_tokens_details``, ``tokens``, ``token_strings``,
``extra_fields``, plus the breakdown, ``exact``, ``estimate_reasons`` and ``cost_usd``).

Core does not price: ``cost_usd`` comes from the ``pricer`` a face hands in (pricing/ sits
above the count pipeline), and is computed only when the rich view is built, so a plain count
never loads the price database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .models import split_provider
from .token_cache import CacheUse

# (requested model, resolved model, input tokens) -> {"standard": usd, "batch": usd}, or None
# for a model without a known price: ``pricing.rich_cost``, attached by the library and HTTP
# faces.
Pricer = Callable[[str, str, int], Mapping[str, float] | None]


RESPONSES_OBJECT = "response.input_tokens"  # OpenAI's answer's ``object``
# The gateway variant's ``extra_fields.request_type`` of each answer's ``object``.
_REQUEST_TYPES = {
    RESPONSES_OBJECT: "responses",
    "chat.completion.input_tokens": "chat_completion",
    "embedding.input_tokens": "embedding",
}


class MediaCount(NamedTuple):
    """Tokens of one image or file of a part, as the rich view lists them."""

    kind: str  # "image", "file" or "encrypted"
    tokens: int
    label: str  # e.g. "image 1024x768 detail=high", "file report.pdf (pdf, 3 page(s))"
    param: str | None  # the JSON path of the content part

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "param": self.param, "tokens": self.tokens, "label": self.label}


class PartCount(NamedTuple):
    """Tokens of one accountable part of the prompt (a block); an immutable value."""

    label: str  # "instructions", "tools", "text.format", "input[3]", "priming"
    tokens: int
    text_tokens: int
    image_tokens: int
    file_tokens: int
    estimate_reasons: tuple[str, ...] = ()
    media: tuple[MediaCount, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.estimate_reasons


# The `tools` part -> one part per tool and the shared rest (count/pipeline.py, ``ToolSplit``);
# run only when the rich view is built.
ToolSplitter = Callable[[PartCount], tuple[PartCount, ...]]


@dataclass(slots=True)
class TokenCount:
    """The number of input tokens a request costs, and why.

    `exact` is true only when every part follows a rule verified on real recorded counts;
    otherwise `estimate_reasons` says which assumptions were made.

    Treat it as a value: it is built once per count and never changed, but for the face that
    built it attaching its ``pricer`` before handing it out. (It is not a frozen dataclass
    because a frozen one costs three times as much to build on the hot path.) count/pipeline.py's
    ``_result`` builds it positionally: keep its arguments in step with the order of the fields.
    """

    input_tokens: int
    model: str  # the registry id the request resolved to
    requested_model: str
    encoding: str
    context_window: int
    max_output_tokens: int
    parts: tuple[PartCount, ...]
    estimate_reasons: tuple[str, ...] = ()
    tokens: tuple[int, ...] | None = None
    token_strings: tuple[str, ...] | None = None
    details: dict[str, int] = field(default_factory=dict)
    input_limit: int = 0  # the most input tokens the model takes (0: the context window)
    dropped_items: int = 0  # leading input items dropped by truncation "auto"
    # The body named no model: `requested_model` is the default the count assumed.
    model_defaulted: bool = False
    # The body's max_output_tokens (Chat: max_completion_tokens or max_tokens); None: not set.
    requested_max_output_tokens: int | None = None
    cache_use: CacheUse | None = None  # what the content cache supplied (token_cache.py)
    # The answer's ``object``: OpenAI's for Responses, ours for the formats it has no count
    # endpoint for (``chat.completion.input_tokens``).
    object: str = RESPONSES_OBJECT
    fallback: str | None = None  # the `fallbacks` entry counted (`model` is not countable)
    latency_ms: float | None = None  # how long the count took (resolution to result)
    # Prices the input tokens for the rich view's ``cost_usd`` (None: no price, null).
    pricer: Pricer | None = field(default=None, repr=False, compare=False)
    # Splits the `tools` part per tool for the rich view's breakdown (None: kept whole).
    tool_splitter: ToolSplitter | None = field(default=None, repr=False, compare=False)

    @property
    def exact(self) -> bool:
        return not self.estimate_reasons

    def with_more_text(
        self, deltas: Sequence[tuple[int, int]], cache_use: CacheUse, latency_ms: float
    ) -> TokenCount:
        """This count with, for each (part number, delta) of `deltas`, `delta` more text tokens
        in that part: the count of the same body with other texts there (count/plain_text.py).
        Token ids are not carried over. Built positionally, in field order, as
        count/pipeline.py's ``_result`` is."""
        parts = list(self.parts)
        more = 0
        for part, delta in deltas:
            changed = parts[part]
            parts[part] = changed._replace(
                tokens=changed.tokens + delta, text_tokens=changed.text_tokens + delta
            )
            more += delta
        details = dict(self.details)
        details["text_tokens"] += more
        return TokenCount(
            self.input_tokens + more,
            self.model,
            self.requested_model,
            self.encoding,
            self.context_window,
            self.max_output_tokens,
            tuple(parts),
            self.estimate_reasons,
            None,  # tokens
            None,  # token_strings
            details,
            self.input_limit,
            self.dropped_items,
            self.model_defaulted,
            self.requested_max_output_tokens,
            cache_use,
            self.object,
            self.fallback,
            latency_ms,
        )

    def to_openai(self) -> dict[str, Any]:
        """OpenAI's exact answer shape."""
        return {"object": self.object, "input_tokens": self.input_tokens}

    def openai_json(self) -> bytes:
        """``to_openai()`` as JSON, byte for byte as orjson writes it, without building the dict
        (the answer of every plain HTTP count). ``object`` is one of our identifiers: nothing
        in it needs escaping.

        >>> TokenCount(7, "gpt-5", "gpt-5", "o200k_base", 1, 1, ()).openai_json()
        b'{"object":"response.input_tokens","input_tokens":7}'
        """
        return openai_json(self.object, self.input_tokens)

    def cost_usd(self) -> dict[str, float] | None:
        """What the input tokens cost in USD, ``{"standard": x, "batch": y}``; None when the
        model has no known price or no pricer was attached (a count of the pipeline alone)."""
        if self.pricer is None:
            return None
        counted = split_provider(self.fallback or self.requested_model)[1]
        cost = self.pricer(counted, self.model, self.input_tokens)
        return dict(cost) if cost is not None else None

    @property
    def room_for_output(self) -> int:
        """The most tokens the reply may have: the window's rest, capped by the model's output
        limit (never below 0)."""
        return max(min(self.context_window - self.input_tokens, self.max_output_tokens), 0)

    @property
    def output_fits(self) -> bool | None:
        """Whether the body's max_output_tokens fits in the room the input leaves; None when
        the body sets none."""
        if self.requested_max_output_tokens is None:
            return None
        return self.requested_max_output_tokens <= self.room_for_output

    def warnings(self) -> list[str]:
        """What the caller should know that does not change the count: a reply budget that
        no longer fits."""
        wanted = self.requested_max_output_tokens
        if wanted is None or self.output_fits:
            return []
        if wanted > self.max_output_tokens:
            return [
                f"max_output_tokens {wanted} is above the model's output limit of "
                f"{self.max_output_tokens} tokens"
            ]
        note = (
            f"the input leaves {self.room_for_output} of the {self.context_window}-token context "
            f"window for the reply, fewer than max_output_tokens {wanted}"
        )
        if self.dropped_items:
            note += (
                f' (truncation "auto" dropped {self.dropped_items} item(s) to fit the input '
                "to the window; it reserves no room for the reply)"
            )
        return [note]

    def rich_parts(self) -> tuple[PartCount, ...]:
        """The parts as the rich view lists them: the `tools` part split per tool when a
        splitter is attached (the tokens add up to the same total)."""
        if self.tool_splitter is None:
            return self.parts
        out: list[PartCount] = []
        for part in self.parts:
            out.extend(self.tool_splitter(part) if part.label == "tools" else (part,))
        return tuple(out)

    def to_rich(self) -> dict[str, Any]:
        """The detailed view: OpenAI's fields first, then what only we know."""
        out: dict[str, Any] = {
            "object": self.object,
            "input_tokens": self.input_tokens,
            "model": self.model,
            # null when the body named no model; `model` is then the default one.
            "requested_model": None if self.model_defaulted else self.requested_model,
            "model_defaulted": self.model_defaulted,
            "fallback": self.fallback,
            "encoding": self.encoding,
            # The gateway variant's keys; no pre-count knows the prompt cache: 0 cached.
            "input_tokens_details": {**self.details, "cached_tokens": 0},
            "cost_usd": self.cost_usd(),
            "exact": self.exact,
            "estimate_reasons": list(self.estimate_reasons),
            "context_window": self.context_window,
            "max_output_tokens": self.max_output_tokens,
            "max_input_tokens": self.input_limit or self.context_window,
            "remaining_context": max(self.context_window - self.input_tokens, 0),
            # What the reply may still use: the window's rest, capped by the output limit.
            "room_for_output": self.room_for_output,
            "requested_max_output_tokens": self.requested_max_output_tokens,
            "output_fits": self.output_fits,
            "warnings": self.warnings(),
            "truncation": {"dropped_items": self.dropped_items},
            "count_cache": (self.cache_use or CacheUse()).to_dict(),
            "extra_fields": {
                "request_type": _REQUEST_TYPES.get(self.object, self.object),
                "provider": split_provider(self.fallback or self.requested_model)[0],
                "model_requested": None if self.model_defaulted else self.requested_model,
                "latency": self.latency_ms,
            },
            "breakdown": [
                {
                    "part": p.label,
                    "tokens": p.tokens,
                    "text_tokens": p.text_tokens,
                    "image_tokens": p.image_tokens,
                    "file_tokens": p.file_tokens,
                    "exact": p.exact,
                    "estimate_reasons": list(p.estimate_reasons),
                    "media": [m.to_dict() for m in p.media],
                }
                for p in self.rich_parts()
            ],
        }
        if self.tokens is not None:
            out["tokens"] = list(self.tokens)
            out["token_strings"] = list(self.token_strings or ())
        return out


def openai_json(object: str, input_tokens: int) -> bytes:
    """OpenAI's answer ``{"object": object, "input_tokens": input_tokens}`` as orjson writes it
    (`object`: one of our identifiers, nothing in it to escape)."""
    return b'{"object":"%s","input_tokens":%d}' % (object.encode(), input_tokens)
