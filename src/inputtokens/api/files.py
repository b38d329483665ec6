"""OpenAI's Files API over the store: upload (multipart, size-limited), list, read, delete.
Every file belongs to the caller that uploaded it; anyone else gets a 404. The routes read the
request and answer; the checks and the store work are state/service.py's."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.errors import InvalidRequestError, UnsupportedMediaTypeError
from ..state.service import file_too_large
from .common import ApiContext, JSONResponse

# What multipart framing may add to a file's bytes: a body declared longer than the limit plus
# this cannot hold an acceptable file, and is refused before it is read.
MULTIPART_SLACK = 64 * 1024


async def _read_upload(form: FormData, limit: int) -> tuple[str, Any, bytes | None]:
    """(filename, purpose, at most `limit` + 1 bytes) of a Files API upload; the bytes are
    None when the form has no file part. The service checks all three."""
    upload, purpose = form.get("file"), form.get("purpose")
    if upload is None or isinstance(upload, str):
        return "file", purpose, None
    return upload.filename or "file", purpose, await upload.read(limit + 1)


def routes(ctx: ApiContext) -> list[Route]:
    settings = ctx.settings

    async def upload_file(request: Request) -> Response:
        owner = ctx.authenticate(request)
        limit = settings.max_file_bytes
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":  # the form is parsed as it streams in: never decoded
            raise UnsupportedMediaTypeError(
                f"Unsupported Content-Encoding '{encoding}' for an upload: send the form as it is.",
                code="unsupported_content_encoding",
            )
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limit + MULTIPART_SLACK:
            raise file_too_large(limit)
        try:
            # `async with` closes the spooled upload files whatever happens below.
            async with request.form(max_files=1, max_fields=8) as form:
                filename, purpose, data = await _read_upload(form, limit)
        except HTTPException as exc:
            raise InvalidRequestError(
                f"The upload is not valid multipart form data: {exc.detail}",
                param="file",
                code="invalid_value",
            ) from None
        stored = await ctx.run_stored(
            owner, lambda objects: objects.upload_file(filename, purpose, data, limit=limit)
        )
        return JSONResponse(stored)

    async def list_files(request: Request) -> Response:
        owner = ctx.authenticate(request)
        return JSONResponse(await ctx.run_stored(owner, lambda objects: objects.list_files()))

    async def get_file(request: Request) -> Response:
        owner = ctx.authenticate(request)
        file_id = request.path_params["file_id"]
        return JSONResponse(await ctx.run_stored(owner, lambda objects: objects.get_file(file_id)))

    async def file_content(request: Request) -> Response:
        owner = ctx.authenticate(request)
        file_id = request.path_params["file_id"]
        data = await ctx.run_stored(owner, lambda objects: objects.file_content(file_id))
        return Response(data, media_type="application/octet-stream")

    async def delete_file(request: Request) -> Response:
        owner = ctx.authenticate(request)
        file_id = request.path_params["file_id"]
        return JSONResponse(
            await ctx.run_stored(owner, lambda objects: objects.delete_file(file_id))
        )

    return [
        Route("/v1/files", upload_file, methods=["POST"]),
        Route("/v1/files", list_files, methods=["GET"]),
        Route("/v1/files/{file_id}", get_file, methods=["GET"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
    ]
