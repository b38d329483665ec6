"""``GET /playground``: a page that shows why a request costs what it costs (docs/playground.md).

The page is static: one HTML file, its script, style sheet and example bodies, all shipped in
the package (``static/playground/``) and served from here. Everything it shows it asks of the
count routes and ``GET /v1/models`` like any other client, so it shows what the API answers.

It works offline and under a strict Content-Security-Policy: everything from this origin only,
no inline script or style (the script sets sizes through the CSSOM, which the policy allows),
and images from ``data:`` URLs only, the one way a pasted body's image can be shown without
fetching anything.
"""

from __future__ import annotations

from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import NotFoundError

PATH = "/playground"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The files change with the package, and a stale script against a newer API would show
    # wrong things: the browser asks again (cheap: they are in memory here).
    "Cache-Control": "no-cache",
}

# The page's files: name -> media type. Nothing else under /playground/ is served.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
    "examples.json": "application/json",
}
_DIR = files(__package__).joinpath("static/playground")


def _read(name: str) -> bytes:
    return _DIR.joinpath(name).read_bytes()


def routes() -> list[Route]:
    """The page and its files, read once when the app is built."""
    page = _read("index.html")
    assets = {name: (_read(name), media) for name, media in ASSETS.items()}

    async def playground(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["asset"]
        if name not in assets:
            raise NotFoundError(
                f"The playground has no file '{name}'.", param="asset", code="not_found"
            )
        content, media = assets[name]
        return Response(content, media_type=media, headers=HEADERS)

    return [
        Route(PATH, playground, methods=["GET"]),
        Route(PATH + "/{asset}", asset, methods=["GET"]),
    ]
