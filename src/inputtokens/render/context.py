"""What the item renderers share within one request, and the shape of an item renderer.

Its own module so that items.py (messages, calls, reasoning) and hosted_items.py (hosted-tool
items) both import it and neither imports the other's internals: items.py only reads the
``HOSTED_RENDERERS`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.models import ModelInfo
from ..core.types import JSON
from ..media.loaded import InlineLimits, LoadedMedia
from .framing import Framing
from .prompt import Block


@dataclass(slots=True)
class ItemContext:
    """One request's rendering state; built once per render from the model's family row."""

    model: ModelInfo
    framing: Framing
    media: LoadedMedia
    limits: InlineLimits
    # The family's row says whether recorded counts confirm how it renders reasoning items.
    reasoning_confirmed: bool
    # The family declares tools in the hosted style (the row's tool style): rules fitted on the
    # hosted reasoning models' records apply.
    hosted_tools: bool = False
    call_names: dict[str, str] = field(default_factory=dict)  # call_id -> tool name
    # The family row's fitted cost of content that is one image and no text (None: unrecorded).
    image_only_content: int | None = None
    # The family row's PDF record: the offset of a PDF after text (None: unrecorded).
    pdf_after_text: int | None = None
    # The recipients (``functions.{name}``, ``{namespace}.{name}``) of the request's tools, or
    # None where a call to any other name renders alike (the harmony reference renderer).
    declared: frozenset[str] | None = None
    # The family row: an assistant message before a tool call is a preamble on the commentary
    # channel (docs/counting-rules.md, Message framing).
    preambles: bool = False
    # The item after the one being rendered (None for the last): set by render() per item.
    next_item: JSON | None = None


# (item, its JSON path, the context, the block to fill in)
ItemRenderer = Callable[[JSON, str, ItemContext, Block], None]
