"""``POST /v1/batches/input_tokens``: the pre-flight of a Batch API file uploaded through the
Files API (docs/http.md, Batch files).

The body names the file (``{"input_file_id": "file-..."}``), as OpenAI's ``POST /v1/batches``
does. The answer is the summary ``inputtokens batch --summary`` writes; ``?lines=true`` answers
the per-line results as JSONL instead. The file must belong to the caller (another key's file
is a 404, as on the Files API) and have the purpose ``batch``; a file of more than
``INPUTTOKENS_MAX_BATCH_LINES`` lines is a 400. The count runs in a worker thread.
"""

from __future__ import annotations

import io

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..batch.run import BatchRun, LocalCounter, count_stream
from ..batch.summary import price_line
from ..core.errors import InvalidRequestError
from .common import TRUE_WORDS, ApiContext, JSONResponse, parse_json, read_body

_MAX_BODY = 64 * 1024  # the body is one id


def routes(ctx: ApiContext) -> list[Route]:
    settings = ctx.settings

    async def count_batch(request: Request) -> Response:
        owner = ctx.authenticate(request)
        body = parse_json(await read_body(request, _MAX_BODY))
        file_id = _input_file_id(body)
        stored = await ctx.run_stored(owner, lambda objects: objects.get_file(file_id))
        if stored.get("purpose") != "batch":
            raise InvalidRequestError(
                f"File '{file_id}' has purpose '{stored.get('purpose')}'; a batch input file "
                "is uploaded with purpose 'batch'.",
                param="input_file_id",
                code="invalid_value",
            )
        data = await ctx.run_stored(owner, lambda objects: objects.file_content(file_id))
        lines = data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
        if lines > settings.max_batch_lines:
            raise InvalidRequestError(
                f"The file has {lines} lines; this server counts at most "
                f"{settings.max_batch_lines} per request (INPUTTOKENS_MAX_BATCH_LINES).",
                param="input_file_id",
                code="batch_too_large",
            )
        per_line = request.query_params.get("lines", "").lower() in TRUE_WORDS
        output = io.BytesIO() if per_line else None
        run: BatchRun = await run_in_threadpool(
            lambda: count_stream(
                io.BytesIO(data), LocalCounter(1, settings), output=output, price=price_line
            )
        )
        if output is not None:
            return Response(output.getvalue(), media_type="application/jsonl")
        return JSONResponse({"input_file_id": file_id, **run.report()})

    return [Route("/v1/batches/input_tokens", count_batch, methods=["POST"])]


def _input_file_id(body: object) -> str:
    if not isinstance(body, dict):
        raise InvalidRequestError(
            "The request body must be a JSON object.", param=None, code="invalid_type"
        )
    unknown = sorted(set(body) - {"input_file_id"})
    if unknown:
        raise InvalidRequestError(
            f"Unknown parameter: '{unknown[0]}'.", param=unknown[0], code="unknown_parameter"
        )
    file_id = body.get("input_file_id")
    if file_id is None:
        raise InvalidRequestError(
            "Missing required parameter: 'input_file_id'.",
            param="input_file_id",
            code="missing_required_parameter",
        )
    if not isinstance(file_id, str) or not file_id:
        raise InvalidRequestError(
            "Invalid type for 'input_file_id': expected a file id.",
            param="input_file_id",
            code="invalid_type",
        )
    return file_id
