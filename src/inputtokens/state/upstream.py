"""The upstream (OpenAI, or anything serving its API): where ids the store lacks are looked up
with the caller's own key, and where ``POST /v1/responses`` is passed through to
(api/responses.py). Not configured (``upstream_base_url`` empty): nothing is looked up.

A count runs in a worker thread, so the lookups here are synchronous (``httpx.Client``). What
is found is kept in the store under ``key_owner(key)``, a digest of the caller's bearer key:
the owner ``ApiContext.authenticate`` gives that key, with API keys configured or not, so a
copy fetched with one upstream key is never shown to a caller holding another. A caller without
a key has no fallback (nothing to ask the upstream with).

Errors: the upstream's 404 is "not there" (None; the count then says ``*_not_found``). Any
other 4xx keeps its status, type and code, the message saying which lookup failed and
``param`` naming the field; a 5xx or an answer that is not the expected JSON is a 502
``upstream_error``, a connection failure a 502 ``upstream_unavailable`` and a timeout a 504
``upstream_timeout`` (docs/configuration.md, "Upstream").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..core.errors import InputTokensError, InvalidRequestError
from ..core.types import JSON

if TYPE_CHECKING:
    import ssl

    import httpx


PAGE = 100  # OpenAI's largest page of items
# Request headers passed on to the upstream: the caller's key and the account it selects.
FORWARDED_HEADERS = ("authorization", "openai-organization", "openai-project")


class UpstreamError(InputTokensError):
    """The upstream could not be asked, or refused: carries the status to answer with."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 502,
        type: str = "server_error",
        param: str | None = None,
        code: str | None = "upstream_error",
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.status = status
        self.type = type


@lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """One TLS context for every upstream client (building one costs milliseconds)."""
    import httpx

    return httpx.create_ssl_context()


def transport_error(exc: Exception, doing: str, param: str | None = None) -> UpstreamError:
    """The error for a request to the upstream that got no answer."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return UpstreamError(
            f"The upstream did not answer in time ({doing}).",
            status=504,
            param=param,
            code="upstream_timeout",
        )
    return UpstreamError(
        f"The upstream could not be reached ({doing}): {type(exc).__name__}.",
        param=param,
        code="upstream_unavailable",
    )


def refused(response: httpx.Response, doing: str, param: str | None) -> UpstreamError:
    """The error for an upstream answer of 4xx (but 404) or 5xx."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    detail = error.get("message") or response.reason_phrase or "no message"
    if response.status_code >= 500:
        return UpstreamError(
            f"The upstream failed ({doing}): {response.status_code} {detail}", param=param
        )
    return UpstreamError(
        f"The upstream refused {doing}: {detail}",
        status=response.status_code,
        type=str(error.get("type") or "invalid_request_error"),
        param=param,
        code=str(error.get("code") or "upstream_error"),
    )


@dataclass(frozen=True, slots=True)
class UpstreamFallback:
    """A ``state.Fallback`` over the upstream, for one caller (their key and headers)."""

    base_url: str
    headers: tuple[tuple[str, str], ...]
    owner: str  # where what is found is kept: key_owner of the caller's key
    timeout_s: float = 60.0
    conversation_ttl_s: float = 60.0
    max_file_bytes: int = 50 * 1024 * 1024
    max_items: int = 200_000

    def response(self, resp_id: str) -> tuple[JSON, list[JSON]] | None:
        """GET /responses/{id} and all its input items (oldest first)."""
        what = f"looking up the previous response '{resp_id}'"
        with self._client() as client:
            response = self._get(
                client, f"/responses/{_path(resp_id)}", what, "previous_response_id"
            )
            if response is None:
                return None
            if not isinstance(response.get("output"), list):
                raise UpstreamError(
                    f"The upstream's answer to {what} is not a response.",
                    param="previous_response_id",
                )
            found = self._items(
                client, f"/responses/{_path(resp_id)}/input_items", what, "previous_response_id"
            )
        return None if found is None else (response, found)

    def input_items(self, resp_id: str) -> list[JSON] | None:
        """All input items of a response, as the upstream resolved them (oldest first)."""
        with self._client() as client:
            return self._items(
                client,
                f"/responses/{_path(resp_id)}/input_items",
                f"listing the input items of '{resp_id}'",
                None,
            )

    def conversation(self, conv_id: str) -> tuple[JSON, list[JSON]] | None:
        """GET /conversations/{id} and all its items (oldest first)."""
        what = f"looking up the conversation '{conv_id}'"
        with self._client() as client:
            conv = self._get(client, f"/conversations/{_path(conv_id)}", what, "conversation")
            if conv is None:
                return None
            found = self._items(
                client, f"/conversations/{_path(conv_id)}/items", what, "conversation"
            )
        return None if found is None else (conv, found)

    def file(self, file_id: str) -> tuple[JSON, bytes] | None:
        """The file object and content of /files/{id}; the content is read up to
        ``max_file_bytes`` and refused past it (``param`` is left for the caller to name)."""
        import httpx

        what = f"looking up the file '{file_id}'"
        too_large = InvalidRequestError(
            f"The file '{file_id}' is larger than the limit of {self.max_file_bytes} bytes.",
            code="file_too_large",
        )
        with self._client() as client:
            meta = self._get(client, f"/files/{_path(file_id)}", what, None)
            if meta is None:
                return None
            size = meta.get("bytes")
            if isinstance(size, int) and size > self.max_file_bytes:
                raise too_large
            chunks: list[bytes] = []
            total = 0
            try:
                with client.stream("GET", f"/files/{_path(file_id)}/content") as answer:
                    if answer.status_code == 404:
                        return None
                    if answer.status_code >= 400:
                        answer.read()
                        raise refused(answer, what, None)
                    for chunk in answer.iter_bytes():
                        total += len(chunk)
                        if total > self.max_file_bytes:
                            raise too_large
                        chunks.append(chunk)
            except httpx.HTTPError as exc:
                raise transport_error(exc, what) from None
        return meta, b"".join(chunks)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        import httpx

        with httpx.Client(
            base_url=self.base_url,
            headers=dict(self.headers),
            timeout=self.timeout_s,
            verify=ssl_context(),
        ) as client:
            yield client

    def _get(
        self,
        client: httpx.Client,
        path: str,
        what: str,
        param: str | None,
        params: dict[str, Any] | None = None,
    ) -> JSON | None:
        """The JSON object at `path`; None on 404; the errors of the module docstring."""
        import httpx

        try:
            answer = client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise transport_error(exc, what, param) from None
        if answer.status_code == 404:
            return None
        if answer.status_code >= 400:
            raise refused(answer, what, param)
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise UpstreamError(
                f"The upstream's answer to {what} is not a JSON object.", param=param
            )
        return body

    def _items(
        self, client: httpx.Client, path: str, what: str, param: str | None
    ) -> list[JSON] | None:
        """Every item of a listing, oldest first, a page of 100 at a time."""
        out: list[JSON] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"order": "asc", "limit": PAGE}
            if after is not None:
                params["after"] = after
            page = self._get(client, path, what, param, params)
            if page is None:
                return None
            data = page.get("data")
            if not isinstance(data, list) or not all(isinstance(i, dict) for i in data):
                raise UpstreamError(
                    f"The upstream's answer to {what} is not a list of items.", param=param
                )
            out.extend(data)
            if len(out) > self.max_items:
                raise InvalidRequestError(
                    f"Too many items upstream ({what}): more than {self.max_items}.",
                    param=param,
                    code="array_above_max_length",
                )
            last = page.get("last_id") or (data[-1].get("id") if data else None)
            if not page.get("has_more") or not data or not isinstance(last, str) or last == after:
                return out
            after = last


def _path(object_id: str) -> str:
    """An id as one path segment (an id cannot reach another path of the upstream)."""
    return quote(object_id, safe="")
