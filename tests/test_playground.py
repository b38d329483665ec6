"""The playground page (``GET /playground``, api/playground.py) in a real browser.

Headless Chromium from Debian's packages (``/usr/bin/chromium``, or INPUTTOKENS_TEST_CHROMIUM),
driven by Playwright for Python. Playwright rather than Selenium: its package carries its own
driver, so there is no chromedriver to keep matched to the browser's version, and it reports
console messages, uncaught page errors and every request the page makes as events, which is
what these tests assert on. Its own browser download (``playwright install``) is never used.

Without the browser or the driver the browser tests are skipped; under ``CI`` they fail, like
the PostgreSQL cases (tests/conftest.py). Each page's screenshot is written to
INPUTTOKENS_TEST_ARTIFACTS (default tests/artifacts/, not committed); with
INPUTTOKENS_UPDATE_SCREENSHOT=1 the README's screenshot (docs/images/playground.png) is
written again too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .conftest import API_KEY, IN_CI, LiveServer

CHROMIUM = os.environ.get("INPUTTOKENS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # tests run as root in containers, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Nothing but the page's own requests: no update checks, field trials or sync.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("INPUTTOKENS_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
README_SCREENSHOT = ROOT / "docs" / "images" / "playground.png"
README_EXAMPLE = "tools"  # the example the README's screenshot shows
UPDATE_SCREENSHOT = os.environ.get("INPUTTOKENS_UPDATE_SCREENSHOT", "") not in ("", "0")

EXAMPLES: list[dict[str, Any]] = json.loads(
    files("inputtokens.api").joinpath("static/playground/examples.json").read_text("utf-8")
)
ROUTES = {
    "responses": "/v1/responses/input_tokens",
    "chat": "/v1/chat/completions/input_tokens",
    "embeddings": "/v1/embeddings/input_tokens",
}
API_NAMES = {"responses": "Responses", "chat": "Chat Completions", "embeddings": "Embeddings"}
WAIT_MS = 15_000  # a count on this shared 2-core machine takes milliseconds; this is slack
# What Chromium logs to the console for a fetch answered 4xx: expected where a test sends a
# body the API refuses, an error anywhere else.
REFUSED = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d \([A-Za-z ]+\)"
)


# ---- without a browser: the page as served -----------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_page_and_files_are_served_under_a_strict_csp(http: httpx.Client) -> None:
    response = http.get("/playground")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    csp = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe" not in policy and "http" not in policy
    page = _Tags()
    page.feed(response.text)
    # No inline script, style or handler: every script and sheet is a file of this origin.
    for tag, attrs in page.tags:
        assert tag != "style" and "style" not in attrs, tag
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        if tag == "script":
            assert attrs["src"] == "/playground/app.js"
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not value.startswith(("http:", "https:", "//")), value
    assert "<script>" not in response.text
    for name, media in [("app.js", "text/javascript"), ("playground.css", "text/css")]:
        asset = http.get(f"/playground/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(media)
        assert asset.headers["content-security-policy"] == policy
    assert http.get("/playground/examples.json").json() == EXAMPLES
    missing = http.get("/playground/nothing.js")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "asset"


def test_the_examples_cover_each_api_and_the_brief() -> None:
    names = {example["name"] for example in EXAMPLES}
    assert {"plain", "tools", "structured", "image", "multi-turn"} <= names
    assert {example["api"] for example in EXAMPLES} == set(ROUTES)


def test_page_needs_no_key(keyed_http: httpx.Client) -> None:
    assert keyed_http.get("/playground").status_code == 200
    assert keyed_http.get("/playground/app.js").status_code == 200


# ---- the browser -------------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the playground's browser tests need {reason} (CI is set)")
    pytest.skip(f"no browser for the playground tests: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python (pip install playwright, the test extra)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    """A page and what it did: console errors, uncaught errors and every URL it asked for."""

    page: Any
    base_url: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def open(self, query: str = "") -> Any:
        response = self.page.goto(f"{self.base_url}/playground{query}")
        assert response is not None and response.status == 200
        return response

    def type_body(self, text: str) -> None:
        """Put `text` in the box as a paste would (one input event), then wait for the page
        to settle on its answer."""
        self.page.fill("#body", text)
        self.settled()

    def settled(self) -> str:
        # A selector, not wait_for_function: that one evals its predicate in the page, which
        # the page's CSP (no 'unsafe-eval') forbids.
        self.page.wait_for_selector("body[data-state=done], body[data-state=error]")
        return str(self.page.evaluate("document.body.dataset.state"))

    def shown_count(self) -> int:
        text = self.page.inner_text("#input-tokens")
        return int(text.replace(",", ""))

    def check_clean(self, refused: int = 0) -> None:
        """No uncaught error, no console error but `refused` 4xx answers, and no request
        anywhere but the server under test."""
        assert self.errors == []
        assert len([m for m in self.console if REFUSED.fullmatch(m)]) == refused, self.console
        assert [m for m in self.console if not REFUSED.fullmatch(m)] == []
        outside = [url for url in self.requests if not url.startswith(self.base_url + "/")]
        assert [url for url in outside if not url.startswith("data:")] == [], outside

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"playground-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _tab(browser: Any, base_url: str) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    tab = Tab(page, base_url)
    page.on("console", lambda m: tab.console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))

    def on_request(request: Any) -> None:
        tab.requests.append(request.url)
        tab.headers.append(request.headers)

    page.on("request", on_request)
    yield tab
    context.close()


@pytest.fixture
def tab(browser: Any, live_server: LiveServer) -> Iterator[Tab]:
    yield from _tab(browser, live_server.base_url)


@pytest.fixture
def keyed_tab(browser: Any, keyed_server: LiveServer) -> Iterator[Tab]:
    yield from _tab(browser, keyed_server.base_url)


def _api_answer(http: httpx.Client, api: str, text: str) -> dict[str, Any]:
    """What any client gets for the same bytes from the same route, with tokens."""
    response = http.post(
        ROUTES[api] + "?tokens=true",
        content=text.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_each_example_shows_what_the_api_answers(tab: Tab, http: httpx.Client) -> None:
    tab.open()
    for example in EXAMPLES:
        text = json.dumps(example["body"], indent=2)
        tab.type_body(text)
        assert tab.settled() == "done", tab.page.inner_text("#error")
        answer = _api_answer(http, example["api"], text)
        page = tab.page
        assert tab.shown_count() == answer["input_tokens"], example["name"]
        assert page.inner_text("#api-guess") == "guessed: " + API_NAMES[example["api"]]
        # One span per token id, in order, each with its id on hover; framing tokens apart.
        spans = page.locator("#prompt .tok")
        assert spans.count() == len(answer["tokens"]), example["name"]
        titles = spans.evaluate_all("spans => spans.map(s => s.title)")
        assert titles == [f"id {i}" for i in answer["tokens"]]
        shown = spans.evaluate_all("spans => spans.map(s => s.textContent)")
        assert shown == answer["token_strings"]
        special = page.locator("#prompt .tok.special").count()
        assert special == sum(bool(re.fullmatch(r"<\|[a-z_]+\|>", s)) for s in shown)
        # Images and files as blocks with their cost; what no id stands for is said.
        media = page.locator("#prompt .media").evaluate_all(
            "blocks => blocks.map(b => Number(b.dataset.tokens))"
        )
        expected_media = [m["tokens"] for part in answer["breakdown"] for m in part["media"]]
        assert media == expected_media
        offsets = 0
        if page.locator("#offsets").is_visible():
            offsets = int(page.get_attribute("#offsets", "data-tokens") or "")
        assert len(answer["tokens"]) + sum(media) + offsets == answer["input_tokens"]
        # The verdict, the breakdown (a row and, when it has tokens, a bar segment per part).
        assert page.inner_text("#verdict").startswith("exact" if answer["exact"] else "estimate")
        reasons = page.locator("#reasons li").all_inner_texts()
        assert reasons == answer["estimate_reasons"]
        assert page.locator("#breakdown tbody tr").count() == len(answer["breakdown"])
        segments = page.locator("#breakdown-bar .segment").count()
        assert segments == len([p for p in answer["breakdown"] if p["tokens"]])
        assert "of {:,} input tokens".format(answer["max_input_tokens"]) in page.inner_text(
            "#gauge-text"
        )
        if answer["cost_usd"]:
            shown_cost = re.match(r"cost \$([0-9.e-]+)", page.inner_text("#cost"))
            assert shown_cost and float(shown_cost[1]) == answer["cost_usd"]["standard"]
        path = tab.screenshot(example["name"])
        if UPDATE_SCREENSHOT and example["name"] == README_EXAMPLE:
            README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SCREENSHOT)
    tab.check_clean()


def test_example_buttons_and_model_picker(tab: Tab, http: httpx.Client) -> None:
    tab.open()
    page = tab.page
    page.click("#examples button[data-example='plain']")
    assert tab.settled() == "done"
    plain = next(e for e in EXAMPLES if e["name"] == "plain")
    assert json.loads(page.input_value("#body")) == plain["body"]
    # The picker lists GET /v1/models and follows the body's model...
    models = [card["id"] for card in http.get("/v1/models").json()["data"]]
    page.wait_for_selector(f"#model option:nth-child({len(models) + 1})", state="attached")
    options = page.locator("#model option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["", *models]
    assert page.input_value("#model") == plain["body"]["model"]
    # ...and picking one writes it into the body, which is counted again.
    page.select_option("#model", "gpt-5")
    tab.settled()
    text = page.input_value("#body")
    assert json.loads(text)["model"] == "gpt-5"
    assert tab.shown_count() == _api_answer(http, "responses", text)["input_tokens"]
    tab.check_clean()


def test_body_in_the_url_is_counted_without_interaction(tab: Tab, http: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi there!"}]}
    tab.open("?body=" + quote(json.dumps(body)))
    assert tab.settled() == "done"
    text = tab.page.input_value("#body")
    assert json.loads(text) == body
    assert tab.shown_count() == _api_answer(http, "chat", text)["input_tokens"]
    tab.screenshot("url-body")
    tab.check_clean()


def test_a_long_prompt_is_drawn_in_part_until_asked(tab: Tab, http: httpx.Client) -> None:
    tab.open()
    tab.type_body(json.dumps({"model": "gpt-4o", "input": "word " * 20_500}))
    assert tab.settled() == "done"
    answer = _api_answer(http, "responses", tab.page.input_value("#body"))
    assert len(answer["tokens"]) > 20_000
    assert tab.page.locator("#prompt .tok").count() == 20_000
    tab.page.click("#prompt button.more")
    assert tab.page.locator("#prompt .tok").count() == len(answer["tokens"])
    tab.check_clean()


def test_a_dropped_file_is_counted(tab: Tab, http: httpx.Client) -> None:
    tab.open()
    text = json.dumps({"model": "gpt-4o", "input": "Counted from a dropped file."})
    # A drop as the browser makes it: a DataTransfer holding a File, dropped on the box.
    transfer = tab.page.evaluate_handle(
        "text => { const t = new DataTransfer();"
        " t.items.add(new File([text], 'body.json', {type: 'application/json'})); return t; }",
        text,
    )
    tab.page.dispatch_event("#body", "drop", {"dataTransfer": transfer})
    tab.page.wait_for_selector("body[data-state=done]")
    assert json.loads(tab.page.input_value("#body")) == json.loads(text)
    assert tab.shown_count() == _api_answer(http, "responses", text)["input_tokens"]
    tab.check_clean()


def test_bad_json_and_refused_bodies_show_a_clear_message(tab: Tab) -> None:
    tab.open()
    page = tab.page
    tab.type_body('{"model": "gpt-4o",\n "input": }')
    assert tab.settled() == "error"
    error = page.inner_text("#error")
    assert "not valid JSON at line 2, column 11: expected a value" in error, error
    tab.type_body("[1, 2]")
    assert "must be a JSON object" in page.inner_text("#error")
    # The API's refusal: OpenAI's message and the param it names, from the 400's body.
    tab.type_body('{"model": "gpt-4o", "input": 3}')
    assert tab.settled() == "error"
    error = page.inner_text("#error")
    assert "Invalid type for 'input'" in error and "param: input" in error, error
    tab.screenshot("api-error")
    # A good body again: the message goes, the count comes back.
    tab.type_body('{"model": "gpt-4o", "input": "Hi"}')
    assert tab.settled() == "done" and not page.is_visible("#error")
    tab.check_clean(refused=1)


def test_a_keyed_server_asks_for_a_key_and_keeps_it_for_the_tab(keyed_tab: Tab) -> None:
    tab = keyed_tab
    tab.open()
    page = tab.page
    page.wait_for_selector("#key-row", state="visible")  # GET /v1/models answered 401
    tab.type_body('{"model": "gpt-4o", "input": "Hi"}')
    assert tab.settled() == "error" and "API key" in page.inner_text("#error")
    page.fill("#api-key", API_KEY)
    page.locator("#api-key").blur()  # the change event
    page.wait_for_selector("#model option:nth-child(2)", state="attached")
    assert tab.settled() == "done" and tab.shown_count() == 8
    sent = [h.get("authorization") for h in tab.headers if "authorization" in h]
    assert sent and set(sent) == {f"Bearer {API_KEY}"}
    # Kept for this tab only: in sessionStorage, nowhere that outlives it.
    assert page.evaluate("Object.values(sessionStorage)") == [API_KEY]
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    tab.check_clean(refused=2)  # the models list and the first count, before the key
