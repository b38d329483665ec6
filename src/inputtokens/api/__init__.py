"""The HTTP routes beyond counting, one module per OpenAI API: files, conversations,
responses. Each exposes ``routes(ctx)``; app.py mounts them."""
