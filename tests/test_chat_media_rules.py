"""Rules fitted on non-reasoning models and media (docs/counting-rules.md): content of an
image alone, a tool with parameters, and a response-format schema whose key order matters."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image

from inputtokens import count_input_tokens

_REASON_IMAGE = "content that starts with an image"
_REASON_ORDER = "text.format schema: its count depends on the order of its keys"


def _png(size: tuple[int, int] = (128, 64)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _image(detail: str = "low") -> dict[str, Any]:
    return {"type": "input_image", "image_url": _png(), "detail": detail}


def _count(model: str, content: list[dict[str, Any]]) -> Any:
    return count_input_tokens({"model": model, "input": [{"role": "user", "content": content}]})


def test_one_image_without_text_costs_one_more_on_chat_models() -> None:
    alone = _count("gpt-4o", [_image()])
    assert alone.exact
    # 85 for the low-detail image, 4 for the message, 3 for the priming, +1 fitted.
    assert alone.input_tokens == 85 + 4 + 3 + 1
    with_text = _count("gpt-4o", [{"type": "input_text", "text": "Hi"}, _image()])
    assert with_text.exact and with_text.input_tokens == 85 + 4 + 3 + 1  # "Hi" is one token


def test_content_starting_with_an_image_is_flagged_otherwise() -> None:
    two = _count("gpt-4o", [_image(), _image()])
    assert not two.exact and any(r.startswith(_REASON_IMAGE) for r in two.estimate_reasons)
    first = _count("gpt-4o", [_image(), {"type": "input_text", "text": "Hi"}])
    assert not first.exact
    reasoning = _count("o3", [_image()])
    assert not reasoning.exact


def test_function_output_of_text_and_images_is_exact_on_chat_models() -> None:
    body = {
        "model": "gpt-4o",
        "input": [
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {
                "type": "function_call_output",
                "call_id": "c1",
                "output": [{"type": "input_text", "text": "Here:"}, _image()],
            },
        ],
        "tools": [{"type": "function", "name": "f"}],
    }
    assert count_input_tokens(body).exact


def _tool(**fields: Any) -> dict[str, Any]:
    return {"type": "function", "name": "get_capital", **fields}


_PARAMS = {"type": "object", "properties": {"country": {"type": "string"}}, "required": ["country"]}


def test_a_tool_with_parameters_costs_one_less_on_chat_models() -> None:
    def count(tools: list[dict[str, Any]]) -> Any:
        return count_input_tokens({"model": "gpt-4o", "input": "Hi", "tools": tools})

    one = count([_tool(parameters=_PARAMS)])
    assert one.exact
    described = count([_tool(parameters=_PARAMS, description="Capital of a country.")])
    assert not described.exact
    prop_described = {
        **_PARAMS,
        "properties": {"country": {"type": "string", "description": "A country."}},
    }
    assert not count([_tool(parameters=prop_described)]).exact
    two = count([_tool(parameters=_PARAMS), {**_tool(parameters=_PARAMS), "name": "other"}])
    assert not two.exact


def _format(schema: dict[str, Any]) -> Any:
    fmt = {"type": "json_schema", "name": "r", "schema": schema, "strict": True}
    return count_input_tokens(
        {
            "model": "gpt-4o",
            "input": "Hi",
            "tools": [_tool()],
            "text": {"format": fmt},
        }
    )


def test_a_schema_whose_key_order_matters_is_flagged() -> None:
    flat = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert _format(flat).exact
    member = {
        "properties": {
            "data": {"properties": {"a": {"type": "string"}}, "type": "object"},
            "kind": {"const": "A", "type": "string"},
        },
        "type": "object",
    }
    nested = {"properties": {"result": {"anyOf": [member, member]}}, "type": "object"}
    result = _format(nested)
    assert not result.exact
    assert any(r.startswith(_REASON_ORDER) for r in result.estimate_reasons)


def _pdf_part(filename: str, text: str) -> dict[str, Any]:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_font("helvetica", size=14)
    pdf.add_page()
    pdf.cell(text=text)
    data = base64.b64encode(bytes(pdf.output())).decode()
    return {"type": "input_file", "filename": filename, "file_data": data}


def test_a_pdf_on_chat_models_is_its_text_and_four_more_after_text() -> None:
    from inputtokens.core.tokenizer import get_encoding

    enc = get_encoding("o200k_base")
    text = "Quarterly figures for the northern region"
    n_text = len(enc.encode_ordinary(text))
    part = _pdf_part("a-rather-long-report-name.pdf", text)
    # Alone in a function output: the text, not the file's name.
    body = {
        "model": "gpt-4o",
        "input": [
            {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": [part]},
        ],
        "tools": [{"type": "function", "name": "f"}],
    }
    without = {**body, "input": [body["input"][0], {**body["input"][1], "output": ""}]}
    alone = count_input_tokens(body)
    assert alone.input_tokens - count_input_tokens(without).input_tokens == n_text
    assert not alone.exact  # one recorded PDF: flagged
    assert not any("function_call_output" in r for r in alone.estimate_reasons)
    # After text in a message: the text and 4 more.
    after = _count("gpt-4o", [{"type": "input_text", "text": "Hi"}, part])
    assert after.input_tokens == 3 + 4 + 1 + n_text + 4
    assert not after.exact
