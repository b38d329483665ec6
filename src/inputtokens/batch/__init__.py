"""Batch pre-flight: count every line of an OpenAI Batch API input file.

A Batch API file is JSONL, one request per line (``{"custom_id", "method", "url", "body"}``),
``url`` one of ``/v1/responses``, ``/v1/chat/completions``, ``/v1/embeddings``. Each line is
counted by the same core as a single request (``lines.count_line``), never stopping at a bad
one; ``summary.Summary`` adds the lines up (tokens, exact lines, per model: over-window lines
and cost) and makes OpenAI's file checks; ``split.plan_shards`` cuts the file into shards under
a queue limit; ``run.count_file`` streams a file through all of it, on several processes if
asked; ``engine.count_batch_records`` is the entry point a Dask or Ray job maps over a batch
of lines.
"""

from .lines import BATCH_URLS, LineResult, count_line, count_record
from .summary import Summary

__all__ = ["BATCH_URLS", "LineResult", "Summary", "count_line", "count_record"]
