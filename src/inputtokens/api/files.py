"""OpenAI's Files API over the store: upload (multipart, size-limited), list, read, delete.
Every file belongs to the caller that uploaded it; anyone else gets a 404."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import InvalidRequestError, NotFoundError, PayloadTooLargeError
from ..state.records import StoredFile
from .common import ApiContext, JSONResponse


async def _read_upload(form: FormData, limit: int) -> tuple[str, str, bytes]:
    """(filename, purpose, bytes) of a Files API upload, or an OpenAI-shaped error."""
    upload, purpose = form.get("file"), form.get("purpose")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidRequestError(
            "Missing required parameter: 'purpose'.",
            param="purpose",
            code="missing_required_parameter",
        )
    if upload is None or isinstance(upload, str):
        raise InvalidRequestError(
            "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
        )
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"The file is larger than the limit of {limit} bytes.",
            param="file",
            code="file_too_large",
        )
    return upload.filename or "file", purpose, data


def routes(ctx: ApiContext) -> list[Route]:
    settings = ctx.settings

    async def upload_file(request: Request) -> Response:
        owner = ctx.authenticate(request)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_file_bytes + 64 * 1024:
            raise PayloadTooLargeError(
                f"The file is larger than the limit of {settings.max_file_bytes} bytes.",
                param="file",
                code="file_too_large",
            )
        try:
            # `async with` closes the spooled upload files whatever happens below.
            async with request.form(max_files=1, max_fields=8) as form:
                filename, purpose, data = await _read_upload(form, settings.max_file_bytes)
        except HTTPException as exc:
            raise InvalidRequestError(
                f"The upload is not valid multipart form data: {exc.detail}",
                param="file",
                code="invalid_value",
            ) from None
        stored = await run_in_threadpool(ctx.store().put_file, owner, filename, purpose, data)
        return JSONResponse(stored.to_openai())

    async def list_files(request: Request) -> Response:
        owner = ctx.authenticate(request)
        stored = await run_in_threadpool(ctx.store().list_files, owner)
        return JSONResponse(
            {"object": "list", "data": [f.to_openai() for f in stored], "has_more": False}
        )

    async def owned_file(request: Request) -> tuple[str, StoredFile]:
        """The caller's file named in the path; 404 when it is not theirs or not there."""
        owner = ctx.authenticate(request)
        file_id = request.path_params["file_id"]
        stored = await run_in_threadpool(ctx.store().get_file, owner, file_id)
        if stored is None:
            raise NotFoundError(f"No such File object: {file_id}", param="id")
        return owner, stored

    async def get_file(request: Request) -> Response:
        _, stored = await owned_file(request)
        return JSONResponse(stored.to_openai())

    async def file_content(request: Request) -> Response:
        owner = ctx.authenticate(request)
        file_id = request.path_params["file_id"]
        found = await run_in_threadpool(ctx.store().file_with_content, owner, file_id)
        if found is None:
            raise NotFoundError(f"No such File object: {file_id}", param="id")
        return Response(found[1], media_type="application/octet-stream")

    async def delete_file(request: Request) -> Response:
        owner, stored = await owned_file(request)
        await run_in_threadpool(ctx.store().delete_file, owner, stored.id)
        return JSONResponse({"id": stored.id, "object": "file", "deleted": True})

    return [
        Route("/v1/files", upload_file, methods=["POST"]),
        Route("/v1/files", list_files, methods=["GET"]),
        Route("/v1/files/{file_id}", get_file, methods=["GET"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
    ]
