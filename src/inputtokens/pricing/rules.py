"""The pricing rules the price database lacks, as data, each with its public source.

The database (genai-prices, ``database.py``) is the authority wherever it has a price: its
batch variants and its long-context tiers win over these rules. A rule below only fills a gap:

- ``batch_half_price``: a model without a batch price in the database costs half its
  standard price in the Batch API.
- ``long_context_2x``: a GPT-5.6+ or GPT-6 model whose database price has no long-context
  tier costs twice its input price when a request has more than 272,000 input tokens.

``docs/pricing.md`` lists the same rules with the same sources; keep them in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PricingRule:
    """One rule: its code (as ``InputCost.rules`` names it), what it says, and its source."""

    code: str
    text: str
    source: str


# OpenAI's Batch guide: "a 50% cost discount compared to synchronous APIs"
# (https://platform.openai.com/docs/guides/batch); the pricing page's Batch table lists each
# model at half its Standard price (https://platform.openai.com/docs/pricing).
BATCH_FACTOR = Decimal("0.5")

# OpenAI's model pages of the 1M-context models: "prompts with >272K input tokens are priced
# at 2x input and 1.5x output for the full session for standard, batch, and flex"
# (https://developers.openai.com/api/docs/models/gpt-5.4, the same words on gpt-5.5's); the
# issue states it for every GPT-5.6+ and GPT-6 model. "More than": 272,000 tokens is still
# the base price, 272,001 costs twice as much, on every token of the request.
LONG_CONTEXT_THRESHOLD = 272_000
LONG_CONTEXT_FACTOR = Decimal(2)
# GPT-5.6, 5.7, ..., 5.10+ and every GPT-6 model (gpt-6-sol, gpt-6.2-astra, ...), by the id
# the database prices them under.
LONG_CONTEXT_MODELS = re.compile(r"gpt-(5\.([6-9]|\d{2,})|6)([.-].*)?")

RULES: dict[str, PricingRule] = {
    rule.code: rule
    for rule in (
        PricingRule(
            "batch_half_price",
            "Batch API: half the standard price (the database has no batch price for the model)",
            "https://platform.openai.com/docs/guides/batch",
        ),
        PricingRule(
            "long_context_2x",
            "more than 272,000 input tokens: 2x the input price for the whole request "
            "(the database has no long-context tier for the model)",
            "https://developers.openai.com/api/docs/models/gpt-5.4",
        ),
        PricingRule(
            "long_context_tier",
            "a request over the database's long-context threshold (272,000 input tokens for "
            "OpenAI's models): the database's long-context input price",
            "genai-prices (OpenAI's model pages)",
        ),
    )
}
