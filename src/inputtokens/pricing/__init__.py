"""Pricing: what the input tokens of a request cost, standard and in the Batch API.

Prices come from a price database (genai-prices' bundled data, offline; the ``pricing``
extra), the rules it lacks from ``rules.py`` as data with their sources (docs/pricing.md).
Pure: no I/O, no settings. Above the count pipeline and beside ``state``: the faces (the
library, the HTTP rich view, the batch pre-flight) call it.

>>> from datetime import date
>>> input_cost("gpt-4o", 1_000_000, on=date(2026, 12, 1)).to_dict()
{'standard': 2.5, 'batch': 1.25}
"""

from .cost import InputCost, input_cost, rich_cost
from .rules import RULES, PricingRule

__all__ = ["RULES", "InputCost", "PricingRule", "input_cost", "rich_cost"]
