"""The Config API's JSON parser: DRF's, with the limits hostile bodies need.

A body larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is 413 (DRF reads the stream
itself, so Django's own limit never applies to it); a body nested deeper than
``MAX_JSON_DEPTH`` or holding U+0000 in any key or string is 400, before any
view sees it.
"""

from __future__ import annotations

import io
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

from switchyard.errors import InvalidArgument
from switchyard.validation import MAX_JSON_DEPTH, check_json


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "request body too large"
    default_code = "request_too_large"


def too_large_message() -> str:
    return f"request body too large: the limit is {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit is not None else -1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(too_large_message())
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            # Deeper than the interpreter can parse: the same answer as the limit.
            raise exceptions.ParseError(_too_deep()) from None
        try:
            check_json(data)
        except InvalidArgument as exc:
            raise exceptions.ParseError(exc.message) from None
        return data


def _too_deep() -> str:
    return f"JSON must not be nested more than {MAX_JSON_DEPTH} levels deep"
