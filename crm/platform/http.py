"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from typing import IO, Any
from urllib.parse import urlsplit

from flask import Request, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from crm.platform.database import MAX_ID


class IdConverter(IntegerConverter):
    """``<int:...>`` on every route: a number no row can have is "not found" (404).

    Werkzeug's own converter passes any length of digits on, and the database driver then
    fails to bind it (a 500) instead of finding nothing.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise ValidationError()
        return number


def parse_id(text: str) -> int | None:
    """An id typed into a form or query string, or None when no row could have it."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


class _PartCountingParser(FormDataParser):
    """Werkzeug caps the parts of multipart forms only; cap url-encoded ones the same way,
    so a body of thousands of tiny fields is refused (413) before any view reads it.
    Every value counts, a repeated name as often as it is repeated."""

    def _parse_urlencoded(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        stream, form, files = super()._parse_urlencoded(*args, **kwargs)
        parts = sum(len(values) for values in form.listvalues())
        if self.max_form_parts is not None and parts > self.max_form_parts:
            raise RequestEntityTooLarge()
        return stream, form, files


# How much of a refused chunked body is read and thrown away before answering 413.
DRAIN_MAX = 1024 * 1024


class _CappedStream(LimitedStream):
    """A body of unknown length (``Transfer-Encoding: chunked``) capped at MAX_CONTENT_LENGTH.

    Werkzeug's own cap stops reading at the limit and keeps what it read, so a longer chunked
    body arrived cut short and was accepted, where the same body with a Content-Length is a
    413. Here a byte beyond the limit is a 413 as well; a body exactly at the limit is not.
    """

    def on_exhausted(self) -> None:
        # The server ends a chunked body (wsgi.input_terminated): this read cannot hang.
        if self._stream.read(1):
            # Read on, within a bound, so a client still sending hears the 413 instead of a
            # connection reset when the server closes on unread data.
            left = DRAIN_MAX
            while left > 0 and (chunk := self._stream.read(min(64 * 1024, left))):
                left -= len(chunk)
            raise RequestEntityTooLarge()

    def readall(self) -> bytes:
        data = super().readall()
        if self.is_exhausted:
            self.on_exhausted()
        return data


class ClinicRequest(Request):
    form_data_parser_class = _PartCountingParser

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        chunked = self.content_length is None and "wsgi.input_terminated" in self.environ
        if limit is not None and chunked:
            return _CappedStream(self.environ["wsgi.input"], limit, is_max=True)
        return get_input_stream(self.environ, max_content_length=limit)


def wants_json() -> bool:
    """True when the caller asked for JSON (our form script does) rather than a page."""
    if request.is_json:
        return True
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json"]) == "application/json" and (
        accept["application/json"] > accept["text/html"]
    )


def is_own_path(target: str | None) -> bool:
    """True for a path on this site ("/blog/x?y"), never for anything that leaves it.

    Rejects scheme-relative ("//evil"), backslash tricks ("/\\evil"), schemes ("https:evil",
    "javascript:"), control characters and anything with a host part.
    """
    if not target or len(target) > 500 or not target.startswith("/"):
        return False
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
