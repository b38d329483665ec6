"""Images and files: image sizes from headers, the image token rules, the text of files, the
loaded-media values the renderer reads (all pure), and safe fetching of URLs (``fetch.py``,
the only I/O here, used by ``state`` and never by the pure layers)."""
