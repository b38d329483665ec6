"""OpenAI's Conversations API over the store: conversations with metadata, and their items
(added, listed a page at a time, read and deleted). A conversation belongs to the caller that
made it; anyone else gets a 404. Items are checked as count input items are, so whatever a
conversation holds can be counted."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import InvalidRequestError, NotFoundError
from ..state.records import ItemPage
from ..state.service import check_items, check_metadata, dereference
from .common import ApiContext, JSONResponse, read_json_object

# Limits on a page of items.
MAX_PAGE = 100


def _conversation_missing(conv_id: str) -> NotFoundError:
    return NotFoundError(f"Conversation with id '{conv_id}' not found.", param="conversation_id")


def _item_missing(item_id: str) -> NotFoundError:
    return NotFoundError(f"Item with id '{item_id}' not found.", param="item_id")


def page_params(request: Request) -> tuple[int, str, str | None]:
    """`limit`, `order` and `after` of a listing, checked."""
    query = request.query_params
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAGE:
        raise InvalidRequestError(
            f"Invalid 'limit': expected an integer between 1 and {MAX_PAGE}.",
            param="limit",
            code="invalid_value",
        )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequestError(
            "Invalid 'order': expected 'asc' or 'desc'.", param="order", code="invalid_value"
        )
    return int(raw_limit), order, query.get("after")


def routes(ctx: ApiContext) -> list[Route]:
    limit = ctx.settings.max_body_bytes

    async def create(request: Request) -> Response:
        owner = ctx.authenticate(request)
        body = await read_json_object(request, limit)
        metadata = check_metadata(body.get("metadata"))
        initial = check_items(body.get("items"))

        def work() -> dict[str, Any]:
            store = ctx.store()
            return store.create_conversation(
                owner, metadata, dereference(store, owner, initial, "items")
            ).to_openai()

        return JSONResponse(await run_in_threadpool(work))

    async def get(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        conv = await run_in_threadpool(ctx.store().get_conversation, owner, conv_id)
        if conv is None:
            raise _conversation_missing(conv_id)
        return JSONResponse(conv.to_openai())

    async def update(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        body = await read_json_object(request, limit)
        if "metadata" not in body:
            raise InvalidRequestError(
                "Missing required parameter: 'metadata'.",
                param="metadata",
                code="missing_required_parameter",
            )
        metadata = check_metadata(body["metadata"])
        conv = await run_in_threadpool(ctx.store().update_conversation, owner, conv_id, metadata)
        if conv is None:
            raise _conversation_missing(conv_id)
        return JSONResponse(conv.to_openai())

    async def delete(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        if not await run_in_threadpool(ctx.store().delete_conversation, owner, conv_id):
            raise _conversation_missing(conv_id)
        return JSONResponse({"id": conv_id, "object": "conversation.deleted", "deleted": True})

    async def list_items(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        page_limit, order, after = page_params(request)
        page = await run_in_threadpool(
            lambda: ctx.store().list_items(
                owner, conv_id, limit=page_limit, order=order, after=after
            )
        )
        if page is None:
            raise _conversation_missing(conv_id)
        return JSONResponse(page.to_openai())

    async def add_items(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        body = await read_json_object(request, limit)
        new = check_items(body.get("items"), required=True)

        def work() -> list[dict[str, Any]] | None:
            store = ctx.store()
            return store.add_items(owner, conv_id, dereference(store, owner, new, "items"))

        added = await run_in_threadpool(work)
        if added is None:
            raise _conversation_missing(conv_id)
        return JSONResponse(ItemPage(added, has_more=False).to_openai())

    async def get_item(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        item_id = request.path_params["item_id"]

        def work() -> tuple[bool, dict[str, Any] | None]:
            store = ctx.store()
            if store.get_conversation(owner, conv_id) is None:
                return False, None
            return True, store.get_item(owner, item_id, conv_id)

        found_conv, item = await run_in_threadpool(work)
        if not found_conv:
            raise _conversation_missing(conv_id)
        if item is None:
            raise _item_missing(item_id)
        return JSONResponse(item)

    async def delete_item(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        item_id = request.path_params["item_id"]

        def work() -> tuple[Any, bool]:
            store = ctx.store()
            conv = store.get_conversation(owner, conv_id)
            if conv is None:
                return None, False
            return conv, store.delete_item(owner, conv_id, item_id)

        conv, deleted = await run_in_threadpool(work)
        if conv is None:
            raise _conversation_missing(conv_id)
        if not deleted:
            raise _item_missing(item_id)
        return JSONResponse(conv.to_openai())  # OpenAI answers with the conversation

    base = "/v1/conversations/{conversation_id}"
    return [
        Route("/v1/conversations", create, methods=["POST"]),
        Route(base, get, methods=["GET"]),
        Route(base, update, methods=["POST"]),
        Route(base, delete, methods=["DELETE"]),
        Route(base + "/items", list_items, methods=["GET"]),
        Route(base + "/items", add_items, methods=["POST"]),
        Route(base + "/items/{item_id}", get_item, methods=["GET"]),
        Route(base + "/items/{item_id}", delete_item, methods=["DELETE"]),
    ]
