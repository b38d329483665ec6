"""The count pipeline: what a request needs from outside (``needs.py``), the ``Sources``
protocol a face implements, render once, tokenize, the context window (``truncation.py``).
Pure: it reads no settings and opens nothing."""
