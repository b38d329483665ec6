"""Which models the records behind the hosted fitted offsets were made on.

Every fitted offset of the OpenAI-hosted reasoning models (``harmony`` family) below was
measured on gpt-5 models only (gpt-5, gpt-5-mini, gpt-5.2 to gpt-5.6, on Responses and Chat
Completions; docs/counting-rules.md, Tools). Within that line a rule recorded on some releases
is taken to hold for the others, as the harmony framing is; on the other models of the family
(the o-series, codex-mini-latest, computer-use-preview, GPT-6) no record shows any of them, so a
count that applies one is flagged (``fitted_model``). The family row names the line
(families.py ``fitted_on``). The shapes each offset was fitted on are
checked where it is applied (tools.py ``FITTED_EVIDENCE``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core.models import ModelInfo
from ..core.reasons import reason
from .prompt import Block, Offset

# The rule of each such offset, as the render shows it. Not here: offsets recorded on other
# models (o1-mini's hidden text, o3-mini's assistant text over Chat Completions, the hosted
# tools' measured prompts, one of which is gpt-4o's).
GPT5_FITTED_RULES = frozenset(
    {
        "tools open the message",
        "text.format open the message",
        "tool followed by another",
        "described tool without parameters last",
        "parameters description",
        "described array properties",
        "tool with a described property",
        "instructions with a tool without parameters",
        "deferred tools listed for tool_search",
        "tool_search_output hidden text",
        "additional_tools hidden text",
        "hidden text of tools",
        "tool call on Chat Completions",
        "image on Chat Completions",
        "PDF after text",
        "PDF pages on Chat Completions",
    }
)


def flag_fitted_models(blocks: Iterable[Block], model: ModelInfo, fitted_on: str | None) -> None:
    """Add ``fitted_model`` to each block that applies a gpt-5 fitted offset on a model whose
    id does not start with `fitted_on` (the family row's line; None: nothing to flag)."""
    if fitted_on is None or model.id.startswith(fitted_on):
        return
    for block in blocks:
        rules = {
            seg.rule
            for seg in block.segments
            if type(seg) is Offset and seg.rule in GPT5_FITTED_RULES
        }
        if rules:
            listed = ", ".join(f"'{rule}'" for rule in sorted(rules))
            block.estimate_reasons.append(reason("fitted_model", rules=listed, model=model.id))
