"""Pricing: the input cost of a count, standard and Batch API, from genai-prices' bundled data.

Every expected price is the database's own answer (``genai_prices.calc_price``), never a number
written here; the rules the database lacks (batch at half price, 2x above 272K input tokens on
GPT-5.6+ and GPT-6) are checked against the database's standard price. No mocks.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from decimal import Decimal

import genai_prices
import httpx
import pytest
from genai_prices import Usage, data_snapshot
from tests.test_imports import run_python

from inputtokens import count_chat_tokens, count_embedding_tokens, count_input_tokens
from inputtokens.core.models import MODELS
from inputtokens.pricing import RULES, input_cost
from inputtokens.pricing.rules import LONG_CONTEXT_MODELS, LONG_CONTEXT_THRESHOLD

DAY = date(2026, 12, 1)
WHEN = datetime.combine(DAY, time(), UTC)

# Today's OpenAI ids the database prices (every row of the registry, checked below).
PRICED = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o1",
    "o3",
    "o3-pro",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5.1",
    "gpt-5.2",
    "gpt-5.4",
    "gpt-5.5",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-6.1-terra",
    "gpt-6.2-astra",
    "gpt-6.2-sol",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
]


def db_input_usd(model: str, tokens: int, *, batch: bool = False, when: datetime = WHEN) -> float:
    """The database's own price of `tokens` input tokens of `model`."""
    context = {"processing": "batch"} if batch else None
    calc = genai_prices.calc_price(
        Usage(input_tokens=tokens),
        model,
        provider_id="openai",
        genai_request_timestamp=when,
        price_context=context,
    )
    return float(calc.input_price)


def expected_batch(model: str, tokens: int) -> float:
    """The database's batch price where it has one, else half its standard price (our rule)."""
    standard = db_input_usd(model, tokens)
    batch = db_input_usd(model, tokens, batch=True)
    return batch if batch != standard else standard / 2


@pytest.mark.parametrize("model", PRICED)
@pytest.mark.parametrize("tokens", [11, 100_000, 272_001])
def test_known_models_are_priced_as_the_database_says(model: str, tokens: int) -> None:
    cost = input_cost(model, tokens, on=DAY)
    assert cost is not None
    assert cost.priced_as == model
    assert cost.input_tokens == tokens
    if "long_context_2x" in cost.rules:  # our rule on a flat database price
        assert cost.standard_usd == pytest.approx(2 * db_input_usd(model, tokens))
    else:
        assert cost.standard_usd == pytest.approx(db_input_usd(model, tokens), rel=1e-12)
        assert cost.batch_usd == pytest.approx(expected_batch(model, tokens), rel=1e-12)
    assert cost.source == f"genai-prices {genai_prices.__version__}, price as of {DAY}"
    assert set(cost.rules) <= set(RULES)


def test_every_registry_model_has_a_price_today() -> None:
    unpriced = [m for m in MODELS if input_cost(m, 1, on=DAY) is None]
    assert unpriced == []


def test_batch_is_half_the_standard_price_where_the_database_has_no_batch_price() -> None:
    # text-embedding-3-small: the database has its standard price only.
    model, tokens = "text-embedding-3-small", 1_000
    assert db_input_usd(model, tokens, batch=True) == db_input_usd(model, tokens)
    cost = input_cost(model, tokens, on=DAY)
    assert cost is not None
    assert cost.batch_usd == pytest.approx(cost.standard_usd / 2)
    assert cost.rules == ("batch_half_price",)


def test_the_databases_batch_price_wins() -> None:
    model, tokens = "gpt-5.4-mini", 10_000
    db_batch = db_input_usd(model, tokens, batch=True)
    assert db_batch != db_input_usd(model, tokens)
    cost = input_cost(model, tokens, on=DAY)
    assert cost is not None and cost.batch_usd == pytest.approx(db_batch)
    assert "batch_half_price" not in cost.rules


def test_long_context_tier_of_the_database() -> None:
    # gpt-6.2-sol: the database's own tier doubles the input price above 272,000 tokens.
    model = "gpt-6.2-sol"
    at = input_cost(model, LONG_CONTEXT_THRESHOLD, on=DAY)
    over = input_cost(model, LONG_CONTEXT_THRESHOLD + 1, on=DAY)
    assert at is not None and over is not None
    per_token_at = at.standard_usd / at.input_tokens
    per_token_over = over.standard_usd / over.input_tokens
    assert per_token_over == pytest.approx(2 * per_token_at)
    assert over.standard_usd == pytest.approx(db_input_usd(model, LONG_CONTEXT_THRESHOLD + 1))
    assert over.batch_usd == pytest.approx(over.standard_usd / 2)
    assert at.rules == () and over.rules == ("long_context_tier",)


def test_long_context_2x_rule_where_the_database_prices_flat() -> None:
    # gpt-6-cyber: a GPT-6 model the database prices flat, with no batch price.
    model, tokens = "gpt-6-cyber", 300_000
    flat = db_input_usd(model, tokens)
    assert db_input_usd(model, LONG_CONTEXT_THRESHOLD + 1) == pytest.approx(
        flat / tokens * (LONG_CONTEXT_THRESHOLD + 1)
    )
    cost = input_cost(model, tokens, on=DAY)
    assert cost is not None
    assert cost.standard_usd == pytest.approx(2 * flat)
    assert cost.batch_usd == pytest.approx(flat)  # 2x, then half
    assert cost.rules == ("long_context_2x", "batch_half_price")
    short = input_cost(model, LONG_CONTEXT_THRESHOLD, on=DAY)
    assert short is not None
    assert short.standard_usd == pytest.approx(db_input_usd(model, LONG_CONTEXT_THRESHOLD))


def test_no_long_context_price_for_older_models() -> None:
    cost = input_cost("gpt-4.1", 900_000, on=DAY)  # a 1M window, one price
    assert cost is not None
    assert cost.standard_usd == pytest.approx(db_input_usd("gpt-4.1", 900_000))
    assert not any(rule.startswith("long_context") for rule in cost.rules)


@pytest.mark.parametrize(
    ("name", "applies"),
    [
        ("gpt-5.6-sol", True),
        ("gpt-5.6", True),
        ("gpt-5.10", True),
        ("gpt-6-astra", True),
        ("gpt-6.2-sol", True),
        ("gpt-6-cyber", True),
        ("gpt-5.5", False),
        ("gpt-5.4-mini", False),
        ("gpt-5", False),
        ("gpt-60", False),
        ("gpt-4.1", False),
    ],
)
def test_which_models_the_long_context_rule_names(name: str, applies: bool) -> None:
    assert bool(LONG_CONTEXT_MODELS.fullmatch(name)) is applies


@pytest.mark.parametrize(
    "model",
    [
        "gpt-6.3-sol",  # counted by its family's rules, but not in the database: no guess
        "gpt-5.7",
        "o5-mini",
        "ft:gpt-4.1:my-org::abc123",  # a fine-tune is billed at its own prices
        "llama-3-70b",
        "tts-1",  # priced per character, not per token
    ],
)
def test_a_model_the_database_lacks_has_no_price(model: str) -> None:
    assert input_cost(model, 1_000, on=DAY) is None


def test_a_snapshot_is_priced_by_the_model_it_resolves_to() -> None:
    cost = input_cost("gpt-4o-2099-01-01", 1_000, on=DAY)  # a dated snapshot the db lacks
    assert cost is not None and cost.priced_as == "gpt-4o"
    assert cost.standard_usd == pytest.approx(db_input_usd("gpt-4o", 1_000))
    # A snapshot the database prices on its own keeps its own price.
    old = input_cost("gpt-4o-2024-05-13", 1_000, on=DAY)
    assert old is not None and old.priced_as == "gpt-4o-2024-05-13"
    assert old.standard_usd == pytest.approx(db_input_usd("gpt-4o-2024-05-13", 1_000))
    assert old.standard_usd != cost.standard_usd


def test_prices_carry_their_dates() -> None:
    # o3's price changed on 2025-06-10 in the database.
    before, after = date(2025, 6, 1), date(2025, 7, 1)
    old, new = input_cost("o3", 1_000_000, on=before), input_cost("o3", 1_000_000, on=after)
    assert old is not None and new is not None
    for cost, day in ((old, before), (new, after)):
        when = datetime.combine(day, time(), UTC)
        assert cost.standard_usd == pytest.approx(db_input_usd("o3", 1_000_000, when=when))
        assert cost.source.endswith(f"price as of {day}")
    assert old.standard_usd != new.standard_usd


def test_only_the_bundled_data_is_read() -> None:
    """A snapshot that genai-prices' UpdatePrices would download is never used."""
    bundled = input_cost("gpt-5", 1_000_000, on=DAY)
    fake = genai_prices.types.Provider(
        id="openai",
        name="OpenAI",
        api_pattern="",
        models=[
            genai_prices.types.ModelInfo(
                id="gpt-5",
                match=genai_prices.types.ClauseEquals(equals="gpt-5"),
                prices=genai_prices.types.ModelPrice(input_mtok=Decimal(999)),
            )
        ],
    )
    data_snapshot.set_custom_snapshot(data_snapshot.DataSnapshot([fake], from_auto_update=True))
    try:
        assert db_input_usd("gpt-5", 1_000_000) == 999  # the process-wide snapshot changed
        fresh = input_cost("gpt-5", 1_000_000, on=date(2026, 12, 2))  # not cached yet
    finally:
        data_snapshot.set_custom_snapshot(None)
    assert bundled is not None and fresh is not None
    assert fresh.standard_usd == bundled.standard_usd != 999


_OFFLINE = """
import json, socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
from inputtokens.pricing import input_cost
cost = input_cost("gpt-5", 1000)
print(json.dumps(cost.to_dict()))
"""


def test_pricing_needs_no_network() -> None:
    out = json.loads(run_python(_OFFLINE))
    assert out["standard"] == pytest.approx(db_input_usd("gpt-5", 1000, when=datetime.now(UTC)))


_LAZY = """
import json, sys
import inputtokens
result = inputtokens.count_input_tokens({"model": "gpt-5", "input": "Hi"})
before = "genai_prices" in sys.modules
cost = result.to_rich()["cost_usd"]
print(json.dumps({"before": before, "after": "genai_prices" in sys.modules, "cost": cost}))
"""


def test_a_count_loads_the_price_database_only_for_the_rich_view() -> None:
    out = json.loads(run_python(_LAZY))
    assert out["before"] is False and out["after"] is True
    assert set(out["cost"]) == {"standard", "batch"}


_WITHOUT_PACKAGE = """
import json, sys
sys.modules["genai_prices"] = None  # as if the pricing extra were not installed
import inputtokens
from inputtokens.pricing import input_cost
result = inputtokens.count_input_tokens({"model": "gpt-5", "input": "Hi"})
rich = result.to_rich()
print(json.dumps({"n": rich["input_tokens"], "cost": rich["cost_usd"],
                  "direct": input_cost("gpt-5", 10) is None}))
"""


def test_without_genai_prices_cost_is_null() -> None:
    out = json.loads(run_python(_WITHOUT_PACKAGE))
    assert out["n"] > 0 and out["cost"] is None and out["direct"] is True


# ---- the rich view ----------------------------------------------------------------------------


def test_library_rich_view_shows_cost() -> None:
    result = count_input_tokens({"model": "gpt-5", "input": "Tell me a joke."})
    rich = result.to_rich()
    cost = input_cost("gpt-5", result.input_tokens)
    assert cost is not None
    assert rich["cost_usd"] == {"standard": cost.standard_usd, "batch": cost.batch_usd}
    assert result.to_openai() == {"object": "response.input_tokens", "input_tokens": 11}


def test_chat_and_embeddings_rich_views_show_cost() -> None:
    chat = count_chat_tokens({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]})
    cost = input_cost("gpt-4o", chat.input_tokens)
    assert cost is not None and chat.to_rich()["cost_usd"] == cost.to_dict()
    emb = count_embedding_tokens({"model": "text-embedding-3-small", "input": ["Hello world"]})
    expected = input_cost("text-embedding-3-small", emb.input_tokens)
    assert expected is not None and emb.to_rich()["cost_usd"] == expected.to_dict()


def test_rich_view_of_an_unpriced_model_is_null() -> None:
    # gpt-6.3-sol: counted by its family's rules (flagged), priced by nobody.
    result = count_input_tokens({"model": "gpt-6.3-sol", "input": "Hi"})
    assert result.to_rich()["cost_usd"] is None


def test_rich_view_over_http(http: httpx.Client) -> None:
    body = {"model": "gpt-5.6-sol", "input": "Tell me a joke."}
    rich = http.post("/v1/responses/input_tokens", params={"verbose": "true"}, json=body).json()
    cost = input_cost("gpt-5.6-sol", rich["input_tokens"])
    assert cost is not None and rich["cost_usd"] == cost.to_dict()
    plain = http.post("/v1/responses/input_tokens", json=body).json()
    assert plain == {"object": "response.input_tokens", "input_tokens": rich["input_tokens"]}
    unpriced = {"model": "gpt-6.3-sol", "input": "Hi"}
    data = http.post("/v1/responses/input_tokens?verbose=true", json=unpriced).json()
    assert data["cost_usd"] is None


def test_rich_view_over_http_chat_and_embeddings(http: httpx.Client) -> None:
    chat = {"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}]}
    data = http.post(
        "/v1/chat/completions/input_tokens", headers={"Inputtokens-Verbose": "true"}, json=chat
    ).json()
    cost = input_cost("gpt-4.1", data["input_tokens"])
    assert cost is not None and data["cost_usd"] == cost.to_dict()
    emb = {"model": "text-embedding-3-large", "input": "Hello"}
    data = http.post("/v1/embeddings/input_tokens?verbose=true", json=emb).json()
    cost = input_cost("text-embedding-3-large", data["input_tokens"])
    assert cost is not None and data["cost_usd"] == cost.to_dict()
