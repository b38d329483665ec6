"""The price database: the data bundled with genai-prices, read offline.

Invariants:

- Only the data shipped inside the installed package is read (``genai_prices.data``), never
  the process-wide snapshot that genai-prices' ``UpdatePrices`` may download from GitHub into
  ``get_snapshot()``: a price never depends on the network, nor on what another library in the
  process started. genai-prices fetches nothing unless ``UpdatePrices`` is started.
- Only OpenAI's provider is searched, with the database's own model matching (its ids,
  aliases and dated snapshots).
- Nothing is imported before the first price: the package loads pydantic and 1.6 MB of data
  (0.4 s). Without the package (the ``pricing`` extra), every lookup is None.
- Lookups are cached per model name (and per day, since prices carry start dates): the batch
  pre-flight prices one line after another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from genai_prices.types import ModelInfo, Provider

_PROVIDER = "openai"
_BATCH = {"processing": "batch"}  # genai-prices' request context of a Batch API call


@dataclass(frozen=True, slots=True)
class Rate:
    """An input price in USD per million tokens, with the database's tiers as (start, price):
    a request of more than `start` input tokens pays `price` on every token (OpenAI's
    long-context rule, as the database models it)."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def per_mtok(self, input_tokens: int) -> tuple[Decimal, bool]:
        """The price per million tokens for a request of `input_tokens`, and whether a tier
        set it.

        >>> Rate(Decimal(2), ((272_000, Decimal(4)),)).per_mtok(272_001)
        (Decimal('4'), True)
        """
        for start, price in reversed(self.tiers):
            if input_tokens > start:
                return price, True
        return self.base, False

    def scaled(self, factor: Decimal) -> Rate:
        """The same rate, base and tiers, times `factor`."""
        return Rate(self.base * factor, tuple((s, p * factor) for s, p in self.tiers))


@dataclass(frozen=True, slots=True)
class DatabasePrice:
    """What the database says of a model's input price on one day."""

    model_id: str  # the database's id of the model (gpt-4o for gpt-4o-2024-08-06)
    standard: Rate
    batch: Rate | None  # None: the database has no Batch API price for the model that day
    version: str  # genai-prices' version: the data's version


def database_version() -> str | None:
    """The installed genai-prices' version, or None without it."""
    openai = _openai()
    return openai[1] if openai else None


@lru_cache(maxsize=4096)  # names come from requests: bounded
def database_price(name: str, day: date) -> DatabasePrice | None:
    """The database's input price of model `name` on `day` (UTC), or None when the database
    does not know the model, gives it no input-token price, or is not installed."""
    model = _find(name)
    if model is None:
        return None
    when = datetime.combine(day, time(), UTC)
    standard = _rate(model.get_prices(when).input_mtok)
    if standard is None:  # priced per character, per hour or not at all
        return None
    batch = None
    if any(
        variant.when == _BATCH
        and variant.prices.input_mtok is not None
        and (variant.constraint is None or variant.constraint.active(when))
        for variant in model.price_variants or ()
    ):
        batch = _rate(model.get_prices(when, _BATCH).input_mtok)
    openai = _openai()
    assert openai is not None  # _find found a model
    return DatabasePrice(model.id, standard, batch, openai[1])


def _rate(value: object) -> Rate | None:
    from genai_prices.types import TieredPrices

    if isinstance(value, TieredPrices):
        return Rate(value.base, tuple((tier.start, tier.price) for tier in value.tiers))
    if isinstance(value, Decimal):
        return Rate(value)
    return None


@lru_cache(maxsize=4096)
def _find(name: str) -> ModelInfo | None:
    openai = _openai()
    return openai[0].find_model(name) if openai else None


@lru_cache(maxsize=1)
def _openai() -> tuple[Provider, str] | None:
    """OpenAI's provider from the bundled data and the package's version; None without it."""
    try:
        from genai_prices import __version__
        from genai_prices.data import providers
    except ImportError:
        return None
    provider = next((p for p in providers if p.id == _PROVIDER), None)
    return (provider, __version__) if provider else None
