"""The sums of a counted batch file, and the file checks OpenAI makes before running it.

``Summary.add`` takes each ``LineResult`` in file order (pure, constant work per line); the
``to_dict`` answer is what ``--summary`` writes and the HTTP route returns. The checks are
warnings: every line is counted by its own ``url`` and model whatever they say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..pricing import input_cost
from .lines import LineResult

# OpenAI's Batch API file limits (its Batch guide): requests per file and bytes per file.
MAX_BATCH_LINES = 50_000
MAX_BATCH_BYTES = 200 * 1024 * 1024

# (model, input tokens) -> (standard, batch) input cost in USD, or None when unpriced.
PriceFn = Callable[[str, int], "tuple[float, float] | None"]


def price_line(model: str, input_tokens: int) -> tuple[float, float] | None:
    """One request's input cost, standard and batch, from the price database (pricing/):
    per line, since the long-context price applies per request. None when unpriced."""
    cost = input_cost(model, input_tokens)
    return None if cost is None else (cost.standard_usd, cost.batch_usd)


@dataclass(slots=True)
class ModelTotals:
    """One model's lines in the file."""

    lines: int = 0
    input_tokens: int = 0
    over_context_window: list[int] = field(default_factory=list)  # line numbers
    standard_usd: float = 0.0
    batch_usd: float = 0.0
    unpriced_lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        priced = self.lines - self.unpriced_lines
        cost = None
        if priced:
            cost = {"standard": round(self.standard_usd, 6), "batch": round(self.batch_usd, 6)}
        return {
            "lines": self.lines,
            "input_tokens": self.input_tokens,
            "over_context_window": list(self.over_context_window),
            "cost_usd": cost,
            "unpriced_lines": self.unpriced_lines,
        }


class Summary:
    """Totals of a batch file, line by line, with OpenAI's file checks."""

    def __init__(self, price: PriceFn | None = None) -> None:
        self.price = price
        self.lines = self.counted = self.errors = self.input_tokens = self.exact_lines = 0
        self.bytes = 0
        self.by_model: dict[str, ModelTotals] = {}
        self.urls: dict[str, int] = {}
        self._custom_ids: set[str] = set()
        self.duplicate_custom_ids: list[int] = []  # line numbers of repeats
        self.first_errors: list[dict[str, Any]] = []  # the first few, for the terminal

    def add(self, result: LineResult, size: int = 0) -> None:
        """Take one line's result (`size`: the line's bytes, for the file-size check)."""
        self.lines += 1
        self.bytes += size
        if result.custom_id is not None:
            if result.custom_id in self._custom_ids:
                self.duplicate_custom_ids.append(result.line)
            else:
                self._custom_ids.add(result.custom_id)
        if result.error is not None:
            self.errors += 1
            if len(self.first_errors) < 10:
                self.first_errors.append({"line": result.line, **result.error})
            return
        self.counted += 1
        self.input_tokens += result.input_tokens
        self.exact_lines += result.exact
        if result.url is not None:
            self.urls[result.url] = self.urls.get(result.url, 0) + 1
        model = self.by_model.setdefault(result.model or "", ModelTotals())
        model.lines += 1
        model.input_tokens += result.input_tokens
        if result.over_context_window:
            model.over_context_window.append(result.line)
        cost = self.price(result.model or "", result.input_tokens) if self.price else None
        if cost is None:
            model.unpriced_lines += 1
        else:
            model.standard_usd += cost[0]
            model.batch_usd += cost[1]

    def warnings(self) -> list[str]:
        """The file checks OpenAI makes that this file fails (it would refuse the batch)."""
        found = []
        if self.lines > MAX_BATCH_LINES:
            found.append(f"{self.lines} lines: a batch file holds at most {MAX_BATCH_LINES}")
        if self.bytes > MAX_BATCH_BYTES:
            found.append(f"{self.bytes} bytes: a batch file is at most {MAX_BATCH_BYTES} bytes")
        if len(self.urls) > 1:
            found.append(f"several endpoints ({', '.join(sorted(self.urls))}): a file has one")
        if len(self.by_model) > 1:
            found.append(f"several models ({', '.join(sorted(self.by_model))}): a file has one")
        if self.duplicate_custom_ids:
            shown = ", ".join(map(str, self.duplicate_custom_ids[:10]))
            found.append(f"custom_id repeated on line(s) {shown}: each must be unique")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": "batch.input_tokens",
            "lines": self.lines,
            "counted": self.counted,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "exact_lines": self.exact_lines,
            "by_model": {name: totals.to_dict() for name, totals in sorted(self.by_model.items())},
            "warnings": self.warnings(),
            "first_errors": list(self.first_errors),
        }
