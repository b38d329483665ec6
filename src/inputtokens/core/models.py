"""Model registry: what the counter needs to know about each model, as a data table.

Lookup order (as tiktoken's model table): the exact id, then the longest registered id that is a
prefix of the name followed by "-" (dated snapshots such as ``gpt-4o-2024-08-06``), after
stripping a gateway's provider prefix (``openai/gpt-4o``, ``azure/gpt-4o``: ``PROVIDERS``) and a
fine-tune wrapper (``ft:gpt-4o-mini:org::id``). Then a name of a known family
that the table lacks is counted with the family's newest row, flagged (``FAMILY_FALLBACKS``).
Anything else is ``ModelNotFoundError``: an unknown model is never silently counted with a
guessed tokenizer. Operators add rows without a release through a models file
(``models_from_json``; the settings name the file).

Families:
- ``chat``: non-reasoning chat models, ChatML framing (4 tokens per message, 3 to prime).
- ``harmony``: reasoning models (o-series, gpt-5.x, codex), harmony framing.

Numbers come from ../shared/accuracy/README.md (§1 encodings, §5 image rules, §9 windows).
A row with ``framing_verified=False`` is a model whose prompt framing has not been confirmed on
recorded counts; its counts are estimates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeVar

from .errors import ModelNotFoundError
from .reasons import reason


@dataclass(frozen=True, slots=True)
class TileRule:
    """Images cost `base` plus `per_tile` for each 512 px tile after the fit/shrink steps."""

    base: int
    per_tile: int
    verified: bool = True


@dataclass(frozen=True, slots=True)
class PatchRule:
    """Images cost ceil(32 px patches x multiplier), patches capped at `cap`, plus `extra`."""

    cap: int
    multiplier: float
    extra: int = 0
    verified: bool = True


ImageRule = TileRule | PatchRule


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model's counting facts."""

    id: str
    family: str  # "chat", "harmony" (OpenAI-hosted reasoning) or "oss" (gpt-oss, open weights)
    encoding: str
    context_window: int
    max_output_tokens: int
    image_rule: ImageRule | None = None  # None: the model takes no image input
    framing_verified: bool = True
    max_input_tokens: int | None = None  # None: the whole context window
    # Estimate reasons every count of this model carries (an assumption about the model itself).
    unconfirmed: tuple[str, ...] = ()

    @property
    def input_limit(self) -> int:
        """The most input tokens a request may have (context_length_exceeded above it)."""
        return self.max_input_tokens or self.context_window


_GPT4O_TILES = TileRule(85, 170)
_O_SERIES_TILES = TileRule(75, 150)
# o1's published 75/150 does not match the recorded 128x64 counts (22 low, 44 high in all,
# 11 of them text): the image costs 11 at low detail and 33 for one tile, the same 1:2 shape
# as every tile rule. Fitted on one image size only, so still flagged. o1-pro has no records.
_O1_TILES = TileRule(11, 22, verified=False)
_O1_PRO_TILES = TileRule(75, 150, verified=False)


def _chat(
    id: str, window: int, out: int, image: ImageRule | None = None, enc: str = "o200k_base"
) -> ModelInfo:
    # The one count recorded from the Responses API for a cl100k model (gpt-4, a plain
    # message) is 1 below this framing; the exact cl100k records are Chat Completions ones.
    flags = (reason("cl100k_responses"),) if enc == "cl100k_base" else ()
    return ModelInfo(id, "chat", enc, window, out, image, unconfirmed=flags)


def _reasoning(
    id: str,
    window: int,
    out: int,
    image: ImageRule | None = None,
    *,
    enc: str = "o200k_base",
    verified: bool = True,
) -> ModelInfo:
    return ModelInfo(id, "harmony", enc, window, out, image, verified)


def _gpt5(id: str, image: ImageRule, window: int = 400_000, out: int = 128_000) -> ModelInfo:
    model = _reasoning(id, window, out, image)
    if (window, out) == (400_000, 128_000):
        # OpenAI's gpt-5 launch notes: up to 272,000 input tokens and 128,000 reasoning and
        # output tokens make the 400,000 window; the input alone may not use all of it.
        model = replace(model, max_input_tokens=window - out)
    return model


def _gpt6(id: str) -> ModelInfo:
    """A GPT-6 model: 1,050,000 tokens of context, at most 922,000 of input and 128,000 of output
    (OpenAI's published limits). No tokenizer is published for GPT-6: it is counted with o200k
    and the reasoning framing, and every count says so until a recording confirms it."""
    return ModelInfo(
        id,
        "harmony",
        "o200k_base",
        1_050_000,
        128_000,
        _GPT6_PATCHES,
        max_input_tokens=922_000,
        unconfirmed=(reason("gpt6_tokenizer"),),
    )


# gpt-5 (base) image costs: OpenAI's table lists 70/140 tiles; not yet confirmed on our records.
_GPT5_TILES = TileRule(70, 140, verified=False)
_GPT5X_PATCHES = PatchRule(1536, 1.2)
_GPT54_PATCHES = PatchRule(2500, 1.2)
# GPT-6 image costs are not in our sources: gpt-5.4's rule, flagged.
_GPT6_PATCHES = PatchRule(2500, 1.2, verified=False)
# Windows of the newest releases are not in our sources; they are taken as gpt-5.4's.
_UNPUBLISHED_WINDOW = (1_050_000, 128_000)

MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        # Legacy cl100k chat models.
        _chat("gpt-3.5-turbo", 16_385, 4_096, enc="cl100k_base"),
        _chat("gpt-35-turbo", 16_385, 4_096, enc="cl100k_base"),
        _chat("gpt-4", 8_192, 8_192, enc="cl100k_base"),
        _chat("gpt-4-32k", 32_768, 32_768, enc="cl100k_base"),
        _chat("gpt-4-turbo", 128_000, 4_096, _GPT4O_TILES, enc="cl100k_base"),
        _chat("gpt-4-turbo-preview", 128_000, 4_096, enc="cl100k_base"),
        _chat("gpt-4-1106-preview", 128_000, 4_096, enc="cl100k_base"),
        _chat("gpt-4-0125-preview", 128_000, 4_096, enc="cl100k_base"),
        _chat("gpt-4-vision-preview", 128_000, 4_096, _GPT4O_TILES, enc="cl100k_base"),
        # o200k chat models.
        _chat("gpt-4o", 128_000, 16_384, _GPT4O_TILES),
        _chat("chatgpt-4o-latest", 128_000, 16_384, _GPT4O_TILES),
        _chat("gpt-4o-mini", 128_000, 16_384, TileRule(2833, 5667)),
        _chat("gpt-4.1", 1_047_576, 32_768, _GPT4O_TILES),
        _chat("gpt-4.1-mini", 1_047_576, 32_768, PatchRule(1536, 1.62, extra=1)),
        _chat("gpt-4.1-nano", 1_047_576, 32_768, PatchRule(1536, 2.46, extra=1)),
        _chat("gpt-4.5-preview", 128_000, 16_384, _GPT4O_TILES),
        # o-series reasoning models.
        _reasoning("o1", 200_000, 100_000, _O1_TILES),
        _reasoning("o1-pro", 200_000, 100_000, _O1_PRO_TILES),
        _reasoning("o1-mini", 128_000, 65_536),
        _reasoning("o1-preview", 128_000, 32_768),
        _reasoning("o3", 200_000, 100_000, _O_SERIES_TILES),
        _reasoning("o3-pro", 200_000, 100_000, _O_SERIES_TILES),
        _reasoning("o3-mini", 200_000, 100_000),
        _reasoning("o3-deep-research", 200_000, 100_000, _O_SERIES_TILES),
        _reasoning("o4-mini", 200_000, 100_000, PatchRule(1536, 1.72, extra=1)),
        _reasoning("o4-mini-deep-research", 200_000, 100_000, PatchRule(1536, 1.72, extra=1)),
        _reasoning("codex-mini-latest", 200_000, 100_000, PatchRule(1536, 1.72, extra=1)),
        _reasoning("computer-use-preview", 8_192, 1_024, TileRule(65, 129)),
        # gpt-5 family.
        _gpt5("gpt-5", _GPT5_TILES),
        _gpt5("gpt-5-mini", PatchRule(1536, 1.2)),
        _gpt5("gpt-5-nano", PatchRule(1536, 1.5)),
        _gpt5("gpt-5-pro", _GPT5_TILES, out=272_000),
        _gpt5("gpt-5-codex", _GPT5_TILES),
        _gpt5("gpt-5.1", _GPT5X_PATCHES),
        _gpt5("gpt-5.1-codex", _GPT5X_PATCHES),
        _gpt5("gpt-5.1-codex-mini", _GPT5X_PATCHES),
        _gpt5("gpt-5.1-codex-max", _GPT5X_PATCHES),
        _gpt5("gpt-5.2", _GPT5X_PATCHES),
        _gpt5("gpt-5.2-pro", _GPT5X_PATCHES),
        _gpt5("gpt-5.2-codex", _GPT5X_PATCHES),
        _gpt5("gpt-5.3", _GPT5X_PATCHES),
        _gpt5("gpt-5.3-codex", _GPT5X_PATCHES),
        _gpt5("gpt-5.4", _GPT54_PATCHES, 1_050_000),
        _gpt5("gpt-5.4-pro", _GPT54_PATCHES, 1_050_000),
        _gpt5("gpt-5.4-mini", _GPT54_PATCHES, 1_050_000),
        _gpt5("gpt-5.4-nano", _GPT54_PATCHES, 1_050_000),
        _gpt5("gpt-5.5", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        _gpt5("gpt-5.5-pro", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        # The gpt-5.6 tiers (Sol, Terra, Luna): plain messages recorded exact on each.
        _gpt5("gpt-5.6", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        _gpt5("gpt-5.6-sol", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        _gpt5("gpt-5.6-terra", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        _gpt5("gpt-5.6-luna", _GPT54_PATCHES, *_UNPUBLISHED_WINDOW),
        # GPT-6, as released (docs/counting-rules.md, "Models").
        *(
            _gpt6(name)
            for name in (
                "gpt-6-astra",
                "gpt-6-sol",
                "gpt-6-luna",
                "gpt-6.1-sol",
                "gpt-6.1-terra",
                "gpt-6.2-astra",
                "gpt-6.2-sol",
            )
        ),
        # ChatGPT's non-reasoning gpt-5: the one recorded count (a plain message, 11) fits the
        # chat framing (3 + 4 + n), not harmony (10); one record, so its counts stay flagged.
        ModelInfo("gpt-5-chat-latest", "chat", "o200k_base", 128_000, 16_384, _GPT5_TILES, False),
        # The open-weight harmony models.
        # The harmony reference renderer (openai-harmony) is the exact reference: tests compare.
        ModelInfo("gpt-oss-20b", "oss", "o200k_harmony", 131_072, 131_072),
        ModelInfo("gpt-oss-120b", "oss", "o200k_harmony", 131_072, 131_072),
    )
}

# Fail open for the next model of a known family (as tiktoken does for gpt-5.x): a name the
# table does not list yet is counted with the rules of its family's newest row, and every
# count of it says so. A name of no known family stays model_not_found.
_SUFFIX = r"(-[a-z0-9][a-z0-9.-]*)?"
FAMILY_FALLBACKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"gpt-6(\.\d+)?{_SUFFIX}"), "gpt-6.2-astra"),
    (re.compile(rf"gpt-5\.\d+{_SUFFIX}"), "gpt-5.6"),
    (re.compile(rf"o\d+{_SUFFIX}"), "o3"),
)


# Gateways (one in front of several providers) name a model as "provider/model". These
# providers serve OpenAI's models under OpenAI's names, so the prefix is dropped; any other
# prefix (anthropic/...) stays part of the name, and so unknown.
PROVIDERS = ("openai", "azure")
DEFAULT_PROVIDER = "openai"


def split_provider(name: str) -> tuple[str, str]:
    """A model name's provider (``PROVIDERS``; "openai" when it has no prefix) and bare name.

    >>> split_provider("azure/gpt-4o"), split_provider("gpt-4o")
    (('azure', 'gpt-4o'), ('openai', 'gpt-4o'))
    """
    provider, slash, bare = name.partition("/")
    if slash and provider in PROVIDERS:
        return provider, bare
    return DEFAULT_PROVIDER, name


_T = TypeVar("_T")


def first_countable(
    lookup: Callable[[str], _T], name: str, fallbacks: Sequence[str] = ()
) -> tuple[_T, str | None]:
    """`name` resolved by `lookup`, or else the first of a gateway's `fallbacks` it resolves,
    with that entry (None: `name` itself). None resolving is `name`'s ModelNotFoundError.

    >>> info, used = first_countable(lookup_model, "claude-sonnet-4", ["openai/gpt-4o-mini"])
    >>> info.id, used
    ('gpt-4o-mini', 'openai/gpt-4o-mini')
    """
    try:
        return lookup(name), None
    except ModelNotFoundError:
        for entry in fallbacks:
            try:
                return lookup(entry), entry
            except ModelNotFoundError:
                pass
        raise


class ModelRegistry:
    """The built-in table, plus rows an operator adds (a models file, see ``models_from_json``).

    Lookup order (as tiktoken's model table): the exact id, then the longest listed id that is
    a prefix of the name followed by "-" (dated snapshots), after stripping a provider prefix
    and a fine-tune wrapper; then fail open for a known family; anything else is
    ``ModelNotFoundError``.
    """

    __slots__ = ("models", "_prefixes", "_assumed")

    def __init__(self, extra: Iterable[ModelInfo] = ()) -> None:
        self.models: dict[str, ModelInfo] = {**MODELS, **{m.id: m for m in extra}}
        # Longest first, so that "gpt-4o-mini-2024-07-18" resolves to gpt-4o-mini, not gpt-4o.
        self._prefixes = sorted(self.models, key=len, reverse=True)
        # Bounded: names come from requests.
        self._assumed = lru_cache(maxsize=256)(self._assume)

    def lookup(self, name: str) -> ModelInfo:
        """Resolve a model name (exact id, dated snapshot or fine-tune, with or without a
        provider prefix) to its ModelInfo.

        >>> ModelRegistry().lookup("openai/gpt-4o-2024-08-06").id
        'gpt-4o'
        """
        info = self.models.get(name)
        if info is not None:
            return info
        base = split_provider(name)[1]
        if base is not name:
            info = self.models.get(base)
            if info is not None:
                return info
        if base.startswith("ft:"):
            base = base[3:].split(":", 1)[0]
            info = self.models.get(base)
            if info is not None:
                return info
        for prefix in self._prefixes:
            if base.startswith(prefix) and base[len(prefix) : len(prefix) + 1] == "-":
                return self.models[prefix]
        assumed = self._assumed(base)
        if assumed is None:
            raise ModelNotFoundError(name, self.models)
        return assumed

    def _assume(self, name: str) -> ModelInfo | None:
        """`name` counted as the newest listed model of its family, flagged; None for a name
        of no known family.

        >>> ModelRegistry().lookup("gpt-5.7").unconfirmed[-1]
        "model 'gpt-5.7' is not in the registry yet: counted with the rules of 'gpt-5.6'"
        """
        for pattern, template in FAMILY_FALLBACKS:
            if pattern.fullmatch(name):
                row = self.models[template]
                flag = reason("model_assumed", model=name, template=template)
                return replace(row, id=name, unconfirmed=(*row.unconfirmed, flag))
        return None


DEFAULT_REGISTRY = ModelRegistry()


def lookup_model(name: str) -> ModelInfo:
    """Resolve a model name with the built-in table (``ModelRegistry.lookup``).

    >>> lookup_model("gpt-4o-2024-08-06").id
    'gpt-4o'
    """
    return DEFAULT_REGISTRY.lookup(name)


# The fields a models file row may set besides ``id`` and ``like``.
_LIMIT_FIELDS = ("context_window", "max_output_tokens", "max_input_tokens")


def models_from_json(data: Any, source: str = "models file") -> ModelRegistry:
    """A registry extended by the rows of a models file (already parsed JSON), pure.

    The file is ``{"models": [{"id": ..., "like": ..., ...}, ...]}``: each row is counted with
    the rules of the listed (or earlier-defined) model it is ``like``, optionally with its own
    ``context_window``, ``max_output_tokens`` and ``max_input_tokens``. Its counts carry the
    ``model_configured`` reason unless the row says ``"confirmed": true`` (the operator vouches
    that the model counts like its template). Errors name the row and field.

    >>> reg = models_from_json({"models": [{"id": "gpt-6.3-sol", "like": "gpt-6.2-sol"}]})
    >>> reg.lookup("gpt-6.3-sol-2027-01-01").max_input_tokens
    922000
    """
    if not isinstance(data, Mapping) or not isinstance(data.get("models"), list):
        raise ValueError(f'{source}: expected an object {{"models": [...]}}')
    unknown = set(data) - {"models"}
    if unknown:
        raise ValueError(f"{source}: unknown field {sorted(unknown)[0]!r}")
    rows: dict[str, ModelInfo] = {}
    for i, row in enumerate(data["models"]):
        where = f"{source}: models[{i}]"
        if not isinstance(row, Mapping):
            raise ValueError(f"{where}: expected an object")
        allowed = {"id", "like", "confirmed", *_LIMIT_FIELDS}
        extra = set(row) - allowed
        if extra:
            raise ValueError(f"{where}: unknown field {sorted(extra)[0]!r}")
        name, like = row.get("id"), row.get("like")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}.id: expected a model name")
        if not isinstance(like, str):
            raise ValueError(f"{where}.like: expected the id of a listed model")
        template = rows.get(like) or MODELS.get(like)
        if template is None:
            raise ValueError(f"{where}.like: {like!r} is not a listed model")
        limits: dict[str, int] = {}
        for key in _LIMIT_FIELDS:
            value = row.get(key)
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"{where}.{key}: expected a positive integer")
            limits[key] = value
        confirmed = row.get("confirmed", False)
        if not isinstance(confirmed, bool):
            raise ValueError(f"{where}.confirmed: expected true or false")
        flags = template.unconfirmed
        if not confirmed:
            flags = (*flags, reason("model_configured", model=name, template=template.id))
        info = replace(template, id=name, unconfirmed=flags, **limits)  # type: ignore[arg-type]
        if info.input_limit > info.context_window:
            raise ValueError(f"{where}.max_input_tokens: larger than the context window")
        rows[name] = info
    return ModelRegistry(rows.values())


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    """An embedding model: its encoding and the most tokens one input entry may have."""

    id: str
    encoding: str
    max_input_tokens: int


# OpenAI's embedding models (tiktoken's model table for the encoding; OpenAI's Embeddings guide
# for the 8,192-token input limit, 8,191 for ada-002 as its model page gives it).
EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    m.id: m
    for m in (
        EmbeddingModel("text-embedding-3-small", "cl100k_base", 8_192),
        EmbeddingModel("text-embedding-3-large", "cl100k_base", 8_192),
        EmbeddingModel("text-embedding-ada-002", "cl100k_base", 8_191),
    )
}
DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small"


def lookup_embedding_model(name: str) -> EmbeddingModel:
    """An embedding model by its id (or a fine-tune or snapshot of one; provider prefix optional).

    >>> lookup_embedding_model("text-embedding-3-large").max_input_tokens
    8192
    """
    base = split_provider(name)[1]
    base = base[3:].split(":", 1)[0] if base.startswith("ft:") else base
    for known, model in EMBEDDING_MODELS.items():
        if base == known or base.startswith(known + "-"):
            return model
    raise ModelNotFoundError(name, EMBEDDING_MODELS)
