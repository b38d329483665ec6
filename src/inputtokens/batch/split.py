"""Shards of a batch file that each fit a queue limit of enqueued input tokens.

OpenAI refuses a whole batch when its input tokens would overflow the model's queue
(``token_limit_exceeded``). Lines are kept in order and never split; a shard closes when the
next line would take it over the limit. A line over the limit on its own cannot fit any shard:
it gets a shard of its own and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Shard:
    """A run of consecutive counted lines and their token total."""

    index: int
    first_line: int
    last_line: int = 0
    lines: int = 0
    input_tokens: int = 0
    too_large: bool = False  # one line over the limit alone


@dataclass(slots=True)
class ShardPlanner:
    """Assigns lines to shards as they come, in order: ``add`` returns the line's shard."""

    limit: int
    shards: list[Shard] = field(default_factory=list)

    def add(self, line: int, tokens: int) -> Shard:
        """The shard line `line` (of `tokens` input tokens) goes to.

        >>> planner = ShardPlanner(100)
        >>> [planner.add(n, t).index for n, t in [(1, 60), (2, 30), (3, 20), (4, 150), (5, 5)]]
        [0, 0, 1, 2, 3]
        """
        current = self.shards[-1] if self.shards else None
        if current is None or current.too_large or current.input_tokens + tokens > self.limit:
            current = Shard(len(self.shards), line)
            self.shards.append(current)
        current.last_line = line
        current.lines += 1
        current.input_tokens += tokens
        current.too_large = current.input_tokens > self.limit
        return current
