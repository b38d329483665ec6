"""The pure core: errors and their one mapper, the model registry, the tokenizer and exact
splitting of huge texts, the content cache, the count result, the estimate reasons table.
Imports nothing else of the package and does no I/O beyond reading the packaged vocabularies."""
