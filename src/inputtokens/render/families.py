"""The prompt families as one table: what each renderer asks of a model's family.

A model's ``family`` (core/models.py) names a row; ``render`` looks the row up once per request
and the renderers read its fields, never the family's name. Where each rule comes from:

- ``chat`` (non-reasoning models): ChatML framing (framing.py), instructions as a system
  message and the tools without headings in a second one (system.py); reasoning of an ended
  turn dropped, as on every OpenAI-hosted model (OpenAI's reasoning guide).
- ``harmony`` (OpenAI-hosted reasoning models): harmony framing without the ``<|constrain|>``
  marker, one developer message of sections with fitted offsets (system.py, tools.py), all
  measured on recorded counts; reasoning of an ended turn dropped (OpenAI's reasoning guide).
- ``oss`` (gpt-oss): harmony exactly as the reference renderer (openai-harmony) writes it: its
  system and developer messages, its tool declarations, its ``auto_drop_analysis``. The tests
  compare token ids with it, so its reasoning rendering is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.types import JSON
from .framing import ChatFraming, Framing, HarmonyFraming
from .items import analysis_before_final, ended_turn_reasoning
from .system import SystemRenderer, chat_system, harmony_system, oss_system
from .tools import CHAT_STYLE, HOSTED_STYLE, REFERENCE_STYLE, ToolStyle

# The input items -> the indexes of the reasoning items the model no longer sees.
DropRule = Callable[[Sequence[JSON]], frozenset[int]]


@dataclass(frozen=True, slots=True)
class Family:
    """One prompt family: its framing, its system section, its tools and reasoning rules."""

    name: str
    framing: Framing  # how messages, calls, results and the reply priming are wrapped
    system: SystemRenderer  # the blocks before the input items, given framing and tool style
    tool_style: ToolStyle  # how function tools are declared
    dropped_reasoning: DropRule  # which reasoning items the model no longer sees
    reasoning_confirmed: bool  # recorded counts (or the reference) confirm reasoning items
    # Recorded counts show `text.verbosity` adds nothing (gpt-5, "low": the verbosity case).
    verbosity_confirmed: bool = False
    # Fitted cost of a message or tool output whose content is one image and no text (None:
    # not recorded, such content is flagged). Function outputs given as text and image parts
    # are confirmed where this is set (docs/counting-rules.md, Images).
    image_only_content: int | None = None
    # PDFs as recorded on this family (None: not recorded, a PDF counts its name and its text):
    # the model reads the pages' text without the file's name, and a PDF right after a text
    # part of the same content costs this fitted offset more (docs/counting-rules.md, Files).
    pdf_after_text: int | None = None
    # An assistant message with ``phase: "commentary"``, or without a phase right before a
    # tool call, is a preamble on the commentary channel (recorded on the hosted models).
    commentary_preambles: bool = False
    # The models the records of this family's fitted offsets were made on: ids starting with
    # this (None: no line is singled out). Other models of the family are flagged where a
    # count applies one (evidence.py).
    fitted_on: str | None = None


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            "chat",
            ChatFraming(),
            chat_system,
            CHAT_STYLE,
            ended_turn_reasoning,
            reasoning_confirmed=False,
            image_only_content=+1,
            pdf_after_text=+4,
        ),
        Family(
            "harmony",
            # Recorded counts of the hosted models are 3 tokens per call below the reference.
            HarmonyFraming(constrain_json=False),
            harmony_system,
            HOSTED_STYLE,
            ended_turn_reasoning,
            reasoning_confirmed=False,
            verbosity_confirmed=True,
            commentary_preambles=True,
            fitted_on="gpt-5",
        ),
        Family(
            "oss",
            HarmonyFraming(constrain_json=True),
            oss_system,
            REFERENCE_STYLE,
            analysis_before_final,
            reasoning_confirmed=True,
        ),
    )
}
