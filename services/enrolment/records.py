"""Splitting an upload into records as its bytes arrive, so that a bad record costs only itself.

Lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old spreadsheet exports), mixed as they come;
a UTF-8 byte order mark before the first line is dropped. A line longer than the record limit is
never held: it is reported as too long and skipped to its end.

A CSV record is one line, or several when a quoted field holds line breaks (a multi-line
comment in an HRIS export). Quotes follow the csv module's rules: a quote opens a field only as
its first character (``Dana O"Neil`` is a name with a quote in it), and ``""`` inside a quoted
field is a literal quote. A quote opened and never closed would swallow every row after it up to
the next quote in the file, so a record spanning lines is taken back when it cannot be one:

* the quote is still open at the end of the upload, after ``max_bytes`` or after
  ``MAX_RECORD_LINES`` lines;
* one of its continuation lines reads as a row on its own (at least as many fields as the
  header);
* it does not have as many fields as the header, or a line break falls into a field that cannot
  hold one (only free text such as ``goals`` and ignored columns may span lines).

Then only its first line is a bad record (an unbalanced quote) and the lines after it are read
again as records of their own: every line of the upload ends up in exactly one record. What
remains ambiguous is what the file literally says: two rows that each leave a quote open in the
same free-text column read as one record whose field spans the lines between them (the report
shows the line it starts on; the next row's line shows where it ended).
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"
MAX_RECORD_LINES = 100
_BREAK = re.compile(rb"\r\n|\r|\n")
_QUOTE, _COMMA = ord('"'), b","


@dataclass(frozen=True)
class Line:
    number: int
    data: bytes | None
    """Without its line break; ``None`` if longer than the limit."""
    end: bytes = b""
    """Its line break as sent (empty for the last line)."""


@dataclass(frozen=True)
class Record:
    line: int
    """The line the record starts on."""
    data: bytes | None = None
    error: str | None = None


async def lines(chunks: AsyncIterator[bytes], max_bytes: int) -> AsyncIterator[Line]:
    """The upload's lines, numbered from 1, whatever line breaks it uses."""
    buffer, number, overlong = b"", 0, False
    async for chunk in chunks:
        if not chunk:
            continue
        scan_from = max(len(buffer) - 1, 0)  # a held "\r" may pair with this chunk's "\n"
        buffer += chunk
        start = 0
        for match in _BREAK.finditer(buffer, scan_from):
            if match.group() == b"\r" and match.end() == len(buffer):
                break  # perhaps the first half of "\r\n": wait for the next chunk
            number += 1
            yield _line(number, buffer[start:match.start()], match.group(), overlong, max_bytes)
            start, overlong = match.end(), False
        buffer = buffer[start:]
        if len(buffer) - buffer.endswith(b"\r") > max_bytes:
            buffer, overlong = (b"\r" if buffer.endswith(b"\r") else b""), True
    if buffer.endswith(b"\r"):
        number += 1
        yield _line(number, buffer[:-1], b"\r", overlong, max_bytes)
    elif buffer or overlong:
        number += 1
        yield _line(number, buffer, b"", overlong, max_bytes)


def _line(number: int, data: bytes, end: bytes, overlong: bool, max_bytes: int) -> Line:
    if overlong or len(data) > max_bytes:
        return Line(number, None, end)
    return Line(number, data.removeprefix(BOM) if number == 1 else data, end)


def ends_in_quotes(line: bytes, quoted: bool = False) -> bool:
    """Whether a CSV line ends inside a quoted field, given whether it starts inside one."""
    i, n = 0, len(line)
    while True:
        if quoted:
            j = line.find(b'"', i)
            if j < 0:
                return True
            if j + 1 < n and line[j + 1] == _QUOTE:
                i = j + 2
                continue
            quoted = False
            i = line.find(_COMMA, j + 1)  # what follows a closing quote is literal text
            if i < 0:
                return False
            i += 1
        if i < n and line[i] == _QUOTE:
            quoted, i = True, i + 1
            continue
        i = line.find(_COMMA, i)
        if i < 0:
            return False
        i += 1


def fields(record: bytes) -> list[str]:
    """The record's fields; ``UnicodeDecodeError`` if not UTF-8, ``csv.Error`` if unreadable."""
    return next(csv.reader([record.decode("utf-8")]), [])


class CsvRecords:
    """Feeds lines in, takes whole CSV records out (see the module docstring)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.width: int | None = None
        """Fields of the header, once known."""
        self.multiline: frozenset[int] | None = None
        """Fields that may hold line breaks, once known (``None``: any)."""
        self._pending: list[Line] = []
        self._text = b""

    def feed(self, line: Line) -> Iterator[Record]:
        queue = deque([line])
        while queue:
            yield from self._take(queue.popleft(), queue)

    def finish(self) -> Iterator[Record]:
        """The records left at the end of the upload: an open quote there was never closed."""
        queue: deque[Line] = deque()
        while self._pending:
            yield self._take_back(queue)
            while queue:
                yield from self._take(queue.popleft(), queue)

    def _take(self, line: Line, queue: deque[Line]) -> Iterator[Record]:
        if line.data is None:
            if self._pending:
                yield self._take_back(queue, line)
            else:
                yield Record(line.number, error=f"longer than {self.max_bytes} bytes")
        elif not self._pending:
            if ends_in_quotes(line.data):
                self._pending, self._text = [line], line.data
            else:
                yield Record(line.number, line.data)
        elif self.width is not None and _width(line.data) >= self.width:
            yield self._take_back(queue, line)  # a row of the file, not a line of a field
        else:
            self._text += self._pending[-1].end + line.data
            self._pending.append(line)
            if len(self._text) > self.max_bytes or len(self._pending) > MAX_RECORD_LINES:
                yield self._take_back(queue)
            elif not ends_in_quotes(line.data, quoted=True):
                if self._spans_lines_plausibly(self._text):
                    yield Record(self._pending[0].number, self._text)
                    self._pending, self._text = [], b""
                else:
                    yield self._take_back(queue)

    def _spans_lines_plausibly(self, record: bytes) -> bool:
        """As many fields as the header, line breaks only where a field may hold them."""
        if self.width is None:
            return True
        try:
            values = fields(record)
        except (UnicodeDecodeError, csv.Error):
            return False
        allowed = self.multiline
        return len(values) == self.width and (allowed is None or all(
            i in allowed for i, v in enumerate(values) if "\n" in v or "\r" in v))

    def _take_back(self, queue: deque[Line], *then: Line) -> Record:
        """The pending record's first line is a bad record; the lines after it are read again."""
        first, *rest = self._pending
        self._pending, self._text = [], b""
        queue.extendleft(reversed([*rest, *then]))
        return Record(first.number, error="a quoted field is not closed (an unbalanced quote)")


def _width(record: bytes) -> int:
    try:
        return len(fields(record))
    except (UnicodeDecodeError, csv.Error):
        return -1
