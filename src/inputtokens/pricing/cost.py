"""The input cost of a request: N input tokens of a model, at the standard and Batch API prices.

Pure and offline: the price comes from the bundled price database (``database.py``), the
rules it lacks from ``rules.py``. A model the database does not price has no cost (None),
never a guess: a dated snapshot the database does not list is priced as the model the
registry resolves it to, but a fine-tune, or a newer model of a known family that the
registry counts by its family's rules, is priced only if the database lists it by name.

The cost assumes every input token is uncached: a prompt-cache hit bills less (the cached
input price) and, on the models with cache-write prices, writing a prompt to the cache bills
more; neither is known before the request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from ..core.errors import ModelNotFoundError
from ..core.models import DEFAULT_REGISTRY
from .database import DatabasePrice, Rate, database_price
from .rules import (
    BATCH_FACTOR,
    LONG_CONTEXT_FACTOR,
    LONG_CONTEXT_MODELS,
    LONG_CONTEXT_THRESHOLD,
)

_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class InputCost:
    """What the input tokens of one request cost, in USD, standard and in the Batch API."""

    model: str  # the model asked for
    priced_as: str  # the database's id of the model the price is from
    input_tokens: int
    standard_usd: float
    batch_usd: float
    source: str  # "genai-prices 0.2.5, price as of 2026-12-07"
    rules: tuple[str, ...] = ()  # the codes of the rules.RULES that set this cost

    def to_dict(self) -> dict[str, float]:
        """The rich view's ``cost_usd``."""
        return {"standard": self.standard_usd, "batch": self.batch_usd}


def input_cost(
    model: str,
    input_tokens: int,
    *,
    resolved_model: str | None = None,
    on: date | None = None,
) -> InputCost | None:
    """The cost of `input_tokens` input tokens of `model`, or None when it has no known price.

    `resolved_model` is the registry id the count resolved `model` to (the built-in
    registry's when omitted); `on` is the day whose price applies (today, UTC, by default).

    >>> cost = input_cost("gpt-4o", 1_000_000, on=date(2026, 12, 1))
    >>> cost.standard_usd, cost.batch_usd, cost.priced_as
    (2.5, 1.25, 'gpt-4o')
    >>> input_cost("gpt-6.3-sol", 1_000, on=date(2026, 12, 1)) is None
    True
    """
    day = on or datetime.now(UTC).date()
    priced = _priced(model, resolved_model, day)
    if priced is None:
        return None
    standard, standard_tier = priced.standard.per_mtok(input_tokens)
    batch, batch_tier = priced.batch.per_mtok(input_tokens)
    rules = priced.rules
    if standard_tier or batch_tier:
        rules = (priced.long_context_rule, *rules)
    return InputCost(
        model,
        priced.model_id,
        input_tokens,
        float(standard * input_tokens / _MILLION),
        float(batch * input_tokens / _MILLION),
        priced.source,
        rules,
    )


def rich_cost(requested_model: str, model: str, input_tokens: int) -> dict[str, float] | None:
    """A count's ``cost_usd`` for its rich view (``TokenCount.pricer``): standard and batch
    USD, or None when the model has no known price."""
    cost = input_cost(requested_model, input_tokens, resolved_model=model)
    return cost.to_dict() if cost else None


@dataclass(frozen=True, slots=True)
class _Priced:
    """A model's input rates on one day, with the rules the database lacked applied."""

    model_id: str
    standard: Rate
    batch: Rate
    source: str
    rules: tuple[str, ...]  # rules that apply whatever the size (batch_half_price)
    long_context_rule: str  # the rule a tier applies by: the database's or ours


@lru_cache(maxsize=4096)  # names come from requests: bounded
def _priced(model: str, resolved_model: str | None, day: date) -> _Priced | None:
    price = database_price(model, day)
    if price is None:
        resolved = resolved_model or _registry_id(model)
        if resolved and _is_snapshot_of(model, resolved):
            price = database_price(resolved, day)
    if price is None:
        return None
    return _apply_rules(price, day)


def _apply_rules(price: DatabasePrice, day: date) -> _Priced:
    standard, batch = price.standard, price.batch
    long_context_rule = "long_context_tier"
    if not standard.tiers and LONG_CONTEXT_MODELS.fullmatch(price.model_id):
        # The database prices the model flat: OpenAI's long-context price, as data.
        standard = _long_context(standard)
        batch = batch and _long_context(batch)
        long_context_rule = "long_context_2x"
    rules: tuple[str, ...] = ()
    if batch is None:
        batch = standard.scaled(BATCH_FACTOR)
        rules = ("batch_half_price",)
    source = f"genai-prices {price.version}, price as of {day.isoformat()}"
    return _Priced(price.model_id, standard, batch, source, rules, long_context_rule)


def _long_context(rate: Rate) -> Rate:
    if rate.tiers:
        return rate
    return Rate(rate.base, ((LONG_CONTEXT_THRESHOLD, rate.base * LONG_CONTEXT_FACTOR),))


def _is_snapshot_of(name: str, resolved: str) -> bool:
    """Whether `name` is a dated snapshot of the registry's `resolved` (gpt-4o-2024-08-06 of
    gpt-4o): not a fine-tune (billed at its own prices) nor the name itself."""
    return not name.startswith("ft:") and name.startswith(resolved + "-")


@lru_cache(maxsize=1024)
def _registry_id(name: str) -> str | None:
    try:
        return DEFAULT_REGISTRY.lookup(name).id
    except ModelNotFoundError:
        return None
