"""OpenAI's Conversations API over the store: conversations with metadata, and their items
(added, listed a page at a time, read and deleted). A conversation belongs to the caller that
made it; anyone else gets a 404. Items are checked as count input items are, so whatever a
conversation holds can be counted. The routes read the request and answer; the checks and the
store work are state/service.py's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state.service import MISSING
from .common import ApiContext, JSONResponse, read_json_object


def routes(ctx: ApiContext) -> list[Route]:
    limit = ctx.settings.max_body_bytes

    async def create(request: Request) -> Response:
        owner = ctx.authenticate(request)
        body = await read_json_object(request, limit)
        metadata, items = body.get("metadata"), body.get("items")
        return JSONResponse(
            await ctx.run_stored(
                owner, lambda objects: objects.create_conversation(metadata, items)
            )
        )

    async def get(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.get_conversation(conv_id))
        )

    async def update(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        body = await read_json_object(request, limit)
        metadata = body.get("metadata", MISSING)  # null clears it; leaving it out is an error
        return JSONResponse(
            await ctx.run_stored(
                owner, lambda objects: objects.update_conversation(conv_id, metadata)
            )
        )

    async def delete(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.delete_conversation(conv_id))
        )

    async def list_items(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        query = request.query_params
        page_limit, order, after = query.get("limit"), query.get("order"), query.get("after")
        return JSONResponse(
            await ctx.run_stored(
                owner,
                lambda objects: objects.list_items(
                    conv_id, limit=page_limit, order=order, after=after
                ),
            )
        )

    async def add_items(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        body = await read_json_object(request, limit)
        items = body.get("items")
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.add_items(conv_id, items))
        )

    async def get_item(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        item_id = request.path_params["item_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.get_item(conv_id, item_id))
        )

    async def delete_item(request: Request) -> Response:
        owner = ctx.authenticate(request)
        conv_id = request.path_params["conversation_id"]
        item_id = request.path_params["item_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.delete_item(conv_id, item_id))
        )

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
