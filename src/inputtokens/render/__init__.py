"""Render a validated request into the ``Prompt`` the model sees.

Layout (both families; framing differs, see framing.py):

1. the system section: ``instructions``, then the tools, then the response format (system.py
   says where each goes per family).
2. every input item, in order.
3. the reply priming.

``render`` is the single function behind counting, ``inputtokens render`` and the
golden tests. It is pure: no I/O, no global state.
"""

from __future__ import annotations

from ..core.models import ModelInfo
from ..formats.responses import CountRequest
from ..state.sources import Attachments
from .framing import FRAMINGS
from .items import ItemContext, dropped_reasoning, render_item
from .prompt import Block, Prompt, Text
from .system import system_blocks

__all__ = ["render", "Prompt", "Block"]


def render(
    request: CountRequest,
    model: ModelInfo,
    attachments: Attachments | None = None,
    first_index: int = 0,
) -> Prompt:
    """Render `request` for `model`, with remote content from `attachments` (see there).

    `first_index` is the position of ``request.input[0]`` in the body the client sent (not 0
    when truncation dropped leading items), so labels and error paths name the sent field.

    >>> from inputtokens.core.models import lookup_model
    >>> from inputtokens.formats.responses import parse_request
    >>> req = parse_request({"model": "gpt-5", "input": "Tell me a joke."}, default_model="")
    >>> render(req, lookup_model("gpt-5")).text
    '<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant'
    """
    framing = FRAMINGS[model.family]
    blocks = system_blocks(request, model.family)  # a new list: the prompt's own
    prompt = Prompt(model.id, model.encoding, blocks)
    if request.input_is_text and not request.stored_items:
        # Errors and the breakdown name the field the client sent.
        text = Text(request.input[0]["content"], "input")
        blocks.append(Block("input", framing.message("user", [text]), []))
    else:
        # Without attachments, remote URLs are counted with the documented assumption.
        ctx = ItemContext(model, framing, attachments or Attachments())
        dropped = dropped_reasoning(request.input, model.family)
        # _item_label for sent items only, inlined: this loop runs for every item.
        sent = not request.stored_items and not request.input_is_text
        for i, item in enumerate(request.input, first_index):
            label = f"input[{i}]" if sent else _item_label(request, i)
            if dropped and i - first_index in dropped:  # reasoning of an ended turn: not seen
                blocks.append(Block(label, [], []))
                continue
            blocks.append(render_item(item, label, ctx))
    priming = Block("priming", framing.priming(), [])
    if not model.framing_verified:
        priming.estimate_reasons.append(f"prompt framing of '{model.id}' is not yet verified")
    # (`x and x.get(...)` rather than `(x or {}).get(...)`: no dict built per request.)
    if request.reasoning and request.reasoning.get("mode") == "pro":
        priming.estimate_reasons.append("reasoning mode 'pro' adds a hidden prompt of unknown size")
    if request.text and request.text.get("verbosity") is not None:
        priming.estimate_reasons.append(
            "text.verbosity: its effect on the prompt is not recorded (counted as nothing)"
        )
    blocks.append(priming)
    return prompt


def _item_label(request: CountRequest, index: int) -> str:
    """The label of item `index` of the full input: where a stored item came from, or the
    JSON path of a sent one (stored items come first)."""
    if index < request.stored_items:
        return f"{request.stored_from}[{index}]"
    if request.input_is_text:
        return "input"
    return f"input[{index - request.stored_items}]"
