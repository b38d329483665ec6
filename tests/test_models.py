"""The model registry: resolution rules and the facts each row carries."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from inputtokens import ModelNotFoundError, Settings, count_input_tokens, lookup_model
from inputtokens.core.models import MODELS, PatchRule, TileRule


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("gpt-5.2-2025-12-11", "gpt-5.2"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("ft:gpt-4o-mini:acme::abc123", "gpt-4o-mini"),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", "gpt-4o-mini"),
        ("gpt-oss-120b", "gpt-oss-120b"),
    ],
)
def test_names_resolve_by_exact_id_then_longest_prefix(name: str, resolved: str) -> None:
    assert lookup_model(name).id == resolved


@pytest.mark.parametrize("name", ["gpt-9", "gpt-4ox", "claude-3", "", "gpt-4o2024", "o"])
def test_unknown_models_raise_model_not_found(name: str) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        lookup_model(name)
    assert info.value.param == "model"
    assert info.value.code == "model_not_found"
    assert info.value.status == 400


def test_families_and_encodings_follow_the_published_tables() -> None:
    assert lookup_model("gpt-4").encoding == "cl100k_base"
    assert lookup_model("gpt-3.5-turbo-0125").encoding == "cl100k_base"
    assert lookup_model("gpt-4o").encoding == "o200k_base"
    assert lookup_model("gpt-oss-20b").encoding == "o200k_harmony"
    for name in ("gpt-4o", "gpt-4.1", "gpt-4o-mini", "gpt-4", "gpt-4.5-preview"):
        assert lookup_model(name).family == "chat"
    reasoning = ("o1", "o3", "o4-mini", "gpt-5", "gpt-5.4", "computer-use-preview", "gpt-5.3-codex")
    for name in reasoning:
        assert lookup_model(name).family == "harmony"


def test_context_windows() -> None:
    assert lookup_model("gpt-4o").context_window == 128_000
    assert lookup_model("gpt-4.1").context_window == 1_047_576
    assert lookup_model("o3").context_window == 200_000
    assert lookup_model("gpt-5").context_window == 400_000
    assert lookup_model("gpt-5-pro").max_output_tokens == 272_000
    assert lookup_model("gpt-5.4").context_window == 1_050_000
    assert lookup_model("gpt-oss-20b").context_window == 131_072


def test_image_rules() -> None:
    assert lookup_model("gpt-4o").image_rule == TileRule(85, 170)
    assert lookup_model("gpt-4o-mini").image_rule == TileRule(2833, 5667)
    assert lookup_model("computer-use-preview").image_rule == TileRule(65, 129)
    assert lookup_model("gpt-4.1-mini").image_rule == PatchRule(1536, 1.62, extra=1)
    assert lookup_model("gpt-5.4").image_rule == PatchRule(2500, 1.2)
    assert lookup_model("o3-mini").image_rule is None


def test_every_row_is_consistent() -> None:
    for model_id, info in MODELS.items():
        assert info.id == model_id
        assert info.family in ("chat", "harmony", "oss")
        assert info.encoding in ("o200k_base", "cl100k_base", "o200k_harmony")
        assert 0 < info.max_output_tokens <= info.context_window


GPT6 = (
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6.2-astra",
    "gpt-6.2-sol",
)


@pytest.mark.parametrize("name", GPT6)
def test_gpt6_models_answer_with_their_published_limits_and_are_flagged(name: str) -> None:
    model = lookup_model(name)
    assert (model.id, model.family, model.encoding) == (name, "harmony", "o200k_base")
    assert (model.context_window, model.input_limit, model.max_output_tokens) == (
        1_050_000,
        922_000,
        128_000,
    )
    assert lookup_model(f"{name}-2026-09-05").id == name  # a dated snapshot
    result = count_input_tokens({"model": name, "input": "Tell me a joke."})
    # The harmony framing of the gpt-5 models, and the reason it is only assumed for GPT-6.
    gpt5 = count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."})
    assert result.input_tokens == gpt5.input_tokens
    assert not result.exact
    assert any("no tokenizer is published for GPT-6" in r for r in result.estimate_reasons)


@pytest.mark.parametrize(
    ("name", "template"),
    [
        ("gpt-6.3-sol", "gpt-6.2-astra"),
        ("gpt-6", "gpt-6.2-astra"),
        ("gpt-5.7", "gpt-5.6"),
        ("gpt-5.7-mini", "gpt-5.6"),
        ("o5-mini", "o3"),
        ("o7", "o3"),
    ],
)
def test_a_new_model_of_a_known_family_is_counted_and_flagged(name: str, template: str) -> None:
    model = lookup_model(name)
    row = lookup_model(template)
    assert model.id == name
    assert (model.family, model.encoding, model.context_window) == (
        row.family,
        row.encoding,
        row.context_window,
    )
    result = count_input_tokens({"model": name, "input": "Hi"})
    assert result.model == name and not result.exact
    assert f"model '{name}' is not in the registry yet: counted with the rules of '{template}'" in (
        result.estimate_reasons
    )
    assert (
        result.input_tokens == count_input_tokens({"model": template, "input": "Hi"}).input_tokens
    )


@pytest.mark.parametrize("name", ["gpt-9", "gpt-5.x", "o", "o3x", "claude-sonnet-5", "gpt-6_astra"])
def test_a_name_of_no_known_family_is_still_not_found(name: str) -> None:
    with pytest.raises(ModelNotFoundError):
        lookup_model(name)


# The models file: rows added without a release (INPUTTOKENS_MODELS_FILE).


def _models_file(tmp_path: Path, rows: object) -> str:
    path = tmp_path / "models.json"
    path.write_text(json.dumps(rows))
    return str(path)


def test_a_models_file_adds_a_model_counted_like_its_template(tmp_path: Path) -> None:
    path = _models_file(
        tmp_path,
        {
            "models": [
                {"id": "gpt-6.3-nova", "like": "gpt-6.2-sol", "max_input_tokens": 500_000},
                {"id": "acme-router", "like": "gpt-5.6", "confirmed": True},
            ]
        },
    )
    settings = Settings(models_file=path)
    body = {"model": "gpt-6.3-nova-2027-02-01", "input": "Tell me a joke."}
    result = count_input_tokens(body, settings=settings)
    template = count_input_tokens({**body, "model": "gpt-6.2-sol"})
    assert result.input_tokens == template.input_tokens
    assert result.input_limit == 500_000
    assert not result.exact
    assert (
        "model 'gpt-6.3-nova' comes from the models file: counted with the rules of "
        "'gpt-6.2-sol'" in result.estimate_reasons
    )
    # Without the file the name is assumed from its family, not the file's row.
    assert count_input_tokens(body).input_limit == 922_000
    # A confirmed row of an exact template is exact; an unknown family still is not found.
    assert count_input_tokens({"model": "acme-router", "input": "Hi"}, settings=settings).exact
    with pytest.raises(ModelNotFoundError):
        count_input_tokens({"model": "acme-router", "input": "Hi"})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], 'expected an object {"models": [...]}'),
        ({"models": [{"id": "x"}]}, "models[0].like: expected the id of a listed model"),
        ({"models": [{"id": "x", "like": "gpt-9"}]}, "models[0].like: 'gpt-9' is not a listed"),
        ({"models": [{"id": "", "like": "gpt-5"}]}, "models[0].id: expected a model name"),
        (
            {"models": [{"id": "x", "like": "gpt-5", "context_window": -1}]},
            "models[0].context_window: expected a positive integer",
        ),
        ({"models": [{"id": "x", "like": "gpt-5", "tokenizer": "a"}]}, "unknown field 'tokenizer'"),
        (
            {"models": [{"id": "x", "like": "gpt-4o", "max_input_tokens": 200_000}]},
            "models[0].max_input_tokens: larger than the context window",
        ),
    ],
)
def test_a_bad_models_file_is_refused_naming_the_field(
    tmp_path: Path, rows: object, message: str
) -> None:
    settings = Settings(models_file=_models_file(tmp_path, rows))
    with pytest.raises(ValueError, match=re.escape(message)):
        settings.count_options()


def test_a_models_file_that_is_missing_or_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        Settings(models_file=str(tmp_path / "absent.json")).count_options()
    bad = tmp_path / "bad.json"
    bad.write_text("{models: [")
    with pytest.raises(ValueError, match="is not JSON"):
        Settings(models_file=str(bad)).count_options()


def test_the_server_lists_and_counts_the_models_file_rows(
    tmp_path: Path, start_server: Callable[[Settings], Any]
) -> None:
    path = _models_file(tmp_path, {"models": [{"id": "gpt-6.3-nova", "like": "gpt-6.2-sol"}]})
    live = start_server(Settings(models_file=path))
    client = OpenAI(base_url=live.base_url + "/v1", api_key="sk-test")
    try:
        assert "gpt-6.3-nova" in [m.id for m in client.models.list()]
        count = client.responses.input_tokens.count(model="gpt-6.3-nova", input="Hi")
        assert (
            count.input_tokens
            == count_input_tokens({"model": "gpt-6.2-sol", "input": "Hi"}).input_tokens
        )
    finally:
        client.close()
