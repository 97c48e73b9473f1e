"""Error bodies a provider answers a failed call with, and the envelope's fallback kind.

Shapes: Anthropic `{"type": "error", "error": {"type", "message"}, "request_id"}`; OpenAI and
OpenAI-compatible `{"error": {"message", "type", "code", "param"}}`; Google
`{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED"}}`; a boto3 `ClientError`
response `{"Error": {"Code", "Message"}, "ResponseMetadata": {"RequestId", "HTTPStatusCode"}}`.
Only codes, types and statuses are read; messages are never stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ingest.conventions.canonical import FieldError, http_status, text
from ingest.conventions.responses.reading import ResponseKind, ResponseReading, mapping, under

RECOGNISED_RESPONSES = (
    "expected an OpenAI chat completion (object 'chat.completion'), a Responses object "
    "(object 'response'), an Anthropic message (type 'message'), a Gemini response "
    "(candidates), a Bedrock Converse response (output.message, stopReason) or an error body "
    "(error)"
)


def detect(response: Mapping[str, Any]) -> bool:
    return response.get("error") is not None or response.get("Error") is not None


def error_object(error: Mapping[str, Any]) -> tuple[tuple[str | None, ...], int | None]:
    """Signals (most specific first) and HTTP status of an `{code, type, status}` object; an
    HTTP-like numeric `code` is Google's copy of the HTTP status."""
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599:
        return (text(error, "type"), text(error, "status")), code
    return (text(error, "code"), text(error, "type"), text(error, "status")), None


def read(response: Mapping[str, Any], provider_raw: str | None) -> ResponseReading:
    if not detect(response):
        raise FieldError(None, f"unrecognised response shape: {RECOGNISED_RESPONSES}")
    reading = ResponseReading(response_id=text(response, "request_id"))
    if isinstance(response.get("error"), str):  # a bare code or class name
        reading.error_signals = (text(response, "error"),)
    else:
        error = mapping(response, "error")
        if error is not None:
            with under("error"):
                reading.error_signals, reading.http_status = error_object(error)
    boto_error = mapping(response, "Error")
    if boto_error is not None:
        with under("Error"):
            reading.error_signals = (text(boto_error, "Code"),)
    boto_metadata = mapping(response, "ResponseMetadata") or {}
    with under("ResponseMetadata"):
        reading.response_id = reading.response_id or text(boto_metadata, "RequestId")
        reading.http_status = reading.http_status or http_status(boto_metadata, "HTTPStatusCode")
    return reading


# Tried last: it claims every response the other kinds do not, and rejects what is not an error.
KIND = ResponseKind("requests:provider-error", None, lambda response: True, read)
