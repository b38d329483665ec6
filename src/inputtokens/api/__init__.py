"""The HTTP face: the Starlette app (``app.py``), the bare count route (``count.py``, the hot
path), one module per OpenAI API over the stored-object service (files, conversations,
responses), the upstream as seen from a request, metrics and the OpenAPI document. Errors
leave through ``core.errors.wire_error``, the one mapper every face uses."""
