"""Request formats: a body parsed into a validated request value, errors naming the JSON path
(the Responses API today: ``responses.py`` over the schema in ``responses_schema.py``)."""
