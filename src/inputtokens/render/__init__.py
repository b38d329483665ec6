"""Render a validated request into the ``Prompt`` the model sees.

Layout (every family; what differs is a row of the table in families.py):

1. the system section: ``instructions``, then the tools, then the response format (system.py
   says where each goes per family).
2. every input item, in order, except the reasoning items the model no longer sees.
3. the reply priming.

``render`` is the single function behind counting, ``inputtokens render`` and the
golden tests. It is pure: no I/O, no global state.
"""

from __future__ import annotations

from ..core.models import ModelInfo
from ..core.reasons import reason
from ..formats.responses import CountRequest
from ..media.loaded import DEFAULT_INLINE_LIMITS, NOTHING_LOADED, InlineLimits, LoadedMedia
from .context import ItemContext
from .evidence import flag_fitted_models
from .families import FAMILIES
from .items import render_item
from .prompt import Block, Prompt, Text
from .schema_ts import is_mapping
from .tools import HOSTED_STYLE

__all__ = ["render", "Prompt", "Block"]


def render(
    request: CountRequest,
    model: ModelInfo,
    media: LoadedMedia = NOTHING_LOADED,
    limits: InlineLimits = DEFAULT_INLINE_LIMITS,
    first_index: int = 0,
) -> Prompt:
    """Render `request` for `model`, with the stored files and fetched URLs in `media`
    (media/loaded.py; a URL not there is counted by the documented assumption), and `limits`
    on the images and files embedded in the body.

    `first_index` is the position of ``request.input[0]`` in the body the client sent (not 0
    when truncation dropped leading items), so labels and error paths name the sent field.

    >>> from inputtokens.core.models import lookup_model
    >>> from inputtokens.formats.responses import parse_request
    >>> req = parse_request({"model": "gpt-5", "input": "Tell me a joke."}, default_model="")
    >>> render(req, lookup_model("gpt-5")).text
    '<|start|>user<|message|>Tell me a joke.<|end|><|start|>assistant'
    """
    family = FAMILIES[model.family]
    framing = family.framing
    # A new list; `absorbed` leading input items were joined to it (described tools on a
    # non-reasoning model join a leading system message).
    blocks, absorbed = family.system(request, framing, family.tool_style, model.encoding)
    prompt = Prompt(model.id, model.encoding, blocks)
    if request.input_is_text and not request.stored_items:
        # Errors and the breakdown name the field the client sent.
        text = Text(request.input[0]["content"], "input")
        blocks.append(Block("input", framing.message("user", [text]), []))
    else:
        declared = None if family.tool_style.reference else _recipients(request)
        ctx = ItemContext(
            model,
            framing,
            media,
            limits,
            family.reasoning_confirmed,
            hosted_tools=family.tool_style is HOSTED_STYLE,
            image_only_content=family.image_only_content,
            pdf_after_text=family.pdf_after_text,
            declared=declared,
            preambles=family.commentary_preambles,
        )
        dropped = family.dropped_reasoning(request.input)
        # item_label for stored items only, inlined for sent ones: this runs for every item.
        sent = not request.stored_items and not request.input_is_text
        items, last = request.input, first_index + len(request.input) - 1
        for i, item in enumerate(items, first_index):
            if i - first_index < absorbed:
                continue
            ctx.next_item = items[i - first_index + 1] if i < last else None
            label = f"input[{i}]" if sent else request.item_label(i)
            if dropped and i - first_index in dropped:  # reasoning of an ended turn: not seen
                blocks.append(Block(label, [], []))
                continue
            blocks.append(render_item(item, label, ctx))
    flag_fitted_models(blocks, model, family.fitted_on)
    priming = Block("priming", framing.priming(), [])
    if not model.framing_verified:
        priming.estimate_reasons.append(reason("framing_unverified", model=model.id))
    if model.unconfirmed:
        priming.estimate_reasons.extend(model.unconfirmed)
    # (`x and x.get(...)` rather than `(x or {}).get(...)`: no dict built per request.)
    if request.reasoning and request.reasoning.get("mode") == "pro":
        priming.estimate_reasons.append(reason("reasoning_mode_pro"))
    if (
        request.text
        and request.text.get("verbosity") is not None
        and not family.verbosity_confirmed
    ):
        priming.estimate_reasons.append(reason("text_verbosity"))
    blocks.append(priming)
    return prompt


def _recipients(request: CountRequest) -> frozenset[str]:
    """Who a call may address: ``functions.{name}`` for every function and custom tool,
    ``{namespace}.{name}`` for the tools of a namespace tool (deferred ones included)."""
    names: set[str] = set()
    for tool in request.tools:
        if tool.get("type") == "namespace" and isinstance(tool.get("tools"), list):
            names.update(
                f"{tool.get('name')}.{t.get('name')}" for t in tool["tools"] if is_mapping(t)
            )
        elif tool.get("name"):
            names.add(f"functions.{tool['name']}")
    return frozenset(names)
