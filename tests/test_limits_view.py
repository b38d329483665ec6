"""What the counter tells about limits: models' input limits, errors over the window with
their figures, room left for the reply, a defaulted model, one breakdown part per tool."""

from __future__ import annotations

import json

import httpx
from click.testing import CliRunner, Result

from inputtokens.cli.main import cli

COUNT_PATH = "/v1/responses/input_tokens"


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


# Item 4: every model listing shows the window, the input limit and the output limit.


def test_models_list_shows_each_models_input_limit(http: httpx.Client) -> None:
    cards = {c["id"]: c for c in http.get("/v1/models").json()["data"]}
    assert cards["gpt-5"]["context_window"] == 400_000
    assert cards["gpt-5"]["max_input_tokens"] == 272_000
    assert cards["gpt-5"]["max_output_tokens"] == 128_000
    assert cards["gpt-4o"]["max_input_tokens"] == 128_000
    one = http.get("/v1/models/gpt-5-2025-08-07").json()
    assert (one["id"], one["max_input_tokens"]) == ("gpt-5-2025-08-07", 272_000)


def test_cli_models_shows_each_models_input_limit() -> None:
    rows = {r["id"]: r for r in json.loads(invoke("models", "--json").output)}
    assert rows["gpt-5"] == {
        "id": "gpt-5",
        "family": "harmony",
        "encoding": "o200k_base",
        "context_window": 400_000,
        "max_input_tokens": 272_000,
        "max_output_tokens": 128_000,
    }
    table = invoke("models").output.splitlines()
    assert table[0].split() == ["model", "family", "encoding", "context", "max", "in", "max", "out"]
    gpt5 = next(line for line in table if line.startswith("gpt-5 "))
    assert gpt5.split() == ["gpt-5", "harmony", "o200k_base", "400000", "272000", "128000"]
