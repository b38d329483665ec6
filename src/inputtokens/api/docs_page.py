"""``GET /`` (what the service serves, and where its documentation is) and ``GET /docs`` (the
API reference: an HTML page rendered here from the OpenAPI document, no script, no CDN).

The page's one style sheet ships in the package (``static/docs.css``) and is inlined; the
Content-Security-Policy allows exactly that style by its hash and nothing else (no scripts,
images, frames, forms or other origins).
"""

from __future__ import annotations

import base64
import hashlib
import json
from html import escape
from importlib.resources import files
from typing import Any

# The documentation site: docs/ in the source tree, built with `mkdocs build` (mkdocs.yml).
DOCS_SITE = "docs/ in the source tree (mkdocs build makes the site; docs/index.md first)"

_CSS = files(__package__).joinpath("static/docs.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_METHODS = ("get", "post", "delete")


def index(document: dict[str, Any]) -> dict[str, Any]:
    """``GET /``: the service, its pages and every route with its summary."""
    routes = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", "")}
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]
    routes.append({"method": "GET", "path": "/openapi.json", "summary": "The OpenAPI document"})
    return {
        "object": "service",
        "name": document["info"]["title"],
        "version": document["info"]["version"],
        "api_reference": "/docs",
        "openapi": "/openapi.json",
        "documentation": DOCS_SITE,
        "routes": routes,
    }


def _schema(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False))


def _operation(path: str, method: str, op: dict[str, Any]) -> str:
    anchor = escape(op.get("operationId", f"{method}-{path}"), quote=True)
    parts = [
        f'<div class="op" id="{anchor}"><h3><span class="method {method}">{method.upper()}'
        f"</span> <code>{escape(path)}</code></h3>",
        f"<p>{escape(op.get('summary', ''))}</p>",
    ]
    if op.get("description"):
        parts.append(f"<p>{escape(op['description'])}</p>")
    params = op.get("parameters") or []
    if params:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p.get('in', ''))}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>"
            for p in params
        )
        parts.append(
            "<table><tr><th>parameter</th><th>in</th><th>required</th><th>meaning</th></tr>"
            f"{rows}</table>"
        )
    body = op.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            parts.append(f"<p>Body: <code>{escape(media)}</code></p>")
            if "schema" in content:
                parts.append(f"<pre>{_schema(content['schema'])}</pre>")
    responses = op.get("responses") or {}
    if responses:
        items = "".join(
            f"<li><code>{escape(str(status))}</code> {escape(r.get('description', ''))}</li>"
            for status, r in responses.items()
        )
        parts.append(f"<ul>{items}</ul>")
    parts.append("</div>")
    return "".join(parts)


def reference_html(document: dict[str, Any]) -> str:
    """The API reference page of `document` (an OpenAPI 3 document)."""
    info = document["info"]
    toc, ops = [], []
    for path, methods in document["paths"].items():
        for method in _METHODS:
            if method in methods:
                op = methods[method]
                anchor = escape(op.get("operationId", f"{method}-{path}"), quote=True)
                toc.append(
                    f'<li><a href="#{anchor}">{method.upper()} <code>{escape(path)}</code></a>'
                    f" {escape(op.get('summary', ''))}</li>"
                )
                ops.append(_operation(path, method, op))
    schemas = "".join(
        f'<h3 id="schema-{escape(name, quote=True)}">{escape(name)}</h3><pre>{_schema(s)}</pre>'
        for name, s in document.get("components", {}).get("schemas", {}).items()
    )
    title = escape(f"{info['title']} {info['version']}: API reference")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f"<h1>{title}</h1>"
        '<nav><a href="/">Index</a><a href="/openapi.json">OpenAPI document</a></nav>'
        f"<h2>Routes</h2><ul>{''.join(toc)}</ul>"
        f"<h2>Operations</h2>{''.join(ops)}"
        f"<h2>Schemas</h2>{schemas}"
        "</body></html>"
    )
