"""``GET /`` and ``GET /docs`` over a real server: the index of the service and the API
reference rendered from the OpenAPI document, offline, under a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import httpx

from inputtokens.api.docs_page import _CSS


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_index_lists_the_routes_and_points_to_the_docs(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    index = response.json()
    assert index["api_reference"] == "/docs"
    assert index["openapi"] == "/openapi.json"
    assert "docs/" in index["documentation"]
    served = {(r["method"], r["path"]) for r in index["routes"]}
    doc = http.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented | {("GET", "/openapi.json")}
    for method, path in [("POST", "/v1/responses/input_tokens"), ("GET", "/docs")]:
        assert (method, path) in served
    assert http.get(index["api_reference"]).status_code == 200


def test_docs_page_renders_every_operation_of_the_openapi_document(http: httpx.Client) -> None:
    response = http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    doc = http.get("/openapi.json").json()
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert f'id="{op["operationId"]}"' in html, path
            assert op["summary"].replace("'", "&#x27;") in html, path
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html


def test_docs_page_is_offline_and_under_a_strict_csp(http: httpx.Client) -> None:
    response = http.get("/docs")
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert csp["default-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'" and csp["form-action"] == "'none'"
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", csp["style-src"])
    assert "script-src" not in csp and "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    page = Page()
    page.feed(response.text)
    # Nothing loaded from anywhere: no scripts, no external sheets or images, and the one inline
    # style is the package's own sheet, which the CSP's hash allows.
    assert not [t for t, _ in page.tags if t in ("script", "link", "img", "iframe")]
    assert page.styles == [_CSS]
    digest = base64.b64encode(hashlib.sha256(page.styles[0].encode()).digest()).decode()
    assert csp["style-src"] == f"'sha256-{digest}'"
    for _, attrs in page.tags:
        href = attrs.get("href") or ""
        assert not href.startswith(("http:", "https:", "//")), href


def test_index_and_docs_need_no_key(keyed_base_url: str) -> None:
    with httpx.Client(base_url=keyed_base_url, trust_env=False) as client:
        assert client.get("/").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/v1/models").status_code == 401
