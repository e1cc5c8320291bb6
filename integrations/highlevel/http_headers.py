"""The HighLevel adapter's connection pools (transport.py), whose answers' header blocks are read without the
email package.

http.client hands every header block to `email.parser` (a feed parser with a policy object, per line and per
lookup): a sixteenth of a sync's CPU, for the ten plain `Name: value` lines an API answers with. Here a
block made only of such lines becomes the same HTTPMessage with the same (name, value) pairs, read without
the parser; any other block (a folded line, a line without a colon, a bare CR or LF, a name with spaces) goes
through the email parser exactly as before. The rest of http.client's reading (status line, chunking, length,
keep-alive) is its own: `begin` is http.client's own code, only its `parse_headers` is this module's.

`Headers` is requests' CaseInsensitiveDict, filled and copied in one pass: the adapter builds one for every
request and every answer, and urllib3 copies the request's once more.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import types
from collections.abc import Iterable
from typing import Any

from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# A header line the email parser reads as `name: value` with nothing else to it: a name of printable ASCII
# without ':' or spaces (its `headerRE`), then the value, ended by the one CRLF of the line.
_PLAIN_LINE = re.compile(rb"([!-9;-~]+):([^\r\n]*)\r\n")


class PlainMessage(http.client.HTTPMessage):
    """An HTTPMessage whose values are plain text (ISO-8859-1 decoded: never a surrogate), so the policy's
    `header_fetch_parse` would answer each as it is: `get` and `items` read them directly."""

    _names: list[str] = []  # the names lower-cased, in order, for the `_headers` list they were read from
    _names_of: list | None = None

    def get(self, name: str, failobj: Any = None) -> Any:
        """The first value of `name` (any case), as Message.get. http.client asks four names of every answer:
        the names are lower-cased once, not on every lookup. Message changes names only by appending (a longer
        list) or by building a new list; `replace_header` changes values in place, and those are read here."""
        headers = self._headers
        if self._names_of is not headers or len(self._names) != len(headers):
            self._names, self._names_of = [key.lower() for key, _ in headers], headers
        try:
            return headers[self._names.index(name.lower())][1]
        except ValueError:
            return failobj

    def items(self) -> list[tuple[str, str]]:
        return list(self._headers)


class Headers(CaseInsensitiveDict):
    """requests' CaseInsensitiveDict, the same mapping, built and copied without a Python call per item: its own
    constructor and `copy` set each item through MutableMapping.update (~2 % of a sync's CPU, three times per
    request). It fills the parent's `_store` ({lower-case name: (name, value)}) as `__setitem__` does."""

    @classmethod
    def of(cls, *sources: Iterable[tuple[str, Any]]) -> Headers:
        """The (name, value) pairs of every source in order; a later name replaces an earlier one in any case,
        as `update` would."""
        headers = cls()
        store = headers._store
        for pairs in sources:
            store.update([(name.lower(), (name, value)) for name, value in pairs])
        return headers

    def copy(self) -> Headers:
        headers = type(self)()
        headers._store = self._store.copy()
        return headers

    # Read as often as built (urllib3 sends the items, the limiter and the error mapping look names up): one
    # dictionary lookup each, where Mapping's went through __getitem__ (and a KeyError for a missing name).
    def get(self, key: str, default: Any = None) -> Any:
        item = self._store.get(key.lower())
        return default if item is None else item[1]

    def items(self) -> Any:
        """(name as last set, value) pairs: iterable and sized as Mapping's view."""
        return self._store.values()


def parse_headers(fp: Any, _class: type = http.client.HTTPMessage) -> http.client.HTTPMessage:
    """http.client.parse_headers: the header block read from `fp` (limits included), as an HTTPMessage."""
    lines = http.client._read_headers(fp)  # http.client's own reading, with its limits
    pairs = []
    for line in lines[:-1]:  # the last is the empty line ending the block (or EOF)
        plain = _PLAIN_LINE.fullmatch(line)
        if plain is None:
            return email.parser.Parser(_class=_class).parsestr(b"".join(lines).decode("iso-8859-1"))
        name, value = plain.groups()
        # As the email parser's compat32 policy keeps them: the value without its leading blanks.
        pairs.append((name.decode("iso-8859-1"), value.decode("iso-8859-1").lstrip(" \t")))
    message = PlainMessage()
    message._headers = pairs
    message.set_payload("")  # as the parser leaves it: no text after the block
    return message


def _begin_with(parse: Any) -> Any:
    """http.client.HTTPResponse.begin, reading its header block with `parse` (the same code, its module's
    names, `parse_headers` replaced); http.client's own when a Python's begin no longer calls parse_headers."""
    begin = http.client.HTTPResponse.begin
    if "parse_headers" not in begin.__code__.co_names:
        return begin
    names = {**vars(http.client), "parse_headers": parse}
    return types.FunctionType(begin.__code__, names, begin.__name__, begin.__defaults__, begin.__closure__)


class PlainHeadersResponse(http.client.HTTPResponse):
    begin = _begin_with(parse_headers)


class _Connection(HTTPConnection):
    response_class = PlainHeadersResponse


class _SecureConnection(HTTPSConnection):
    response_class = PlainHeadersResponse


class ConnectionPool(HTTPConnectionPool):
    ConnectionCls = _Connection


class SecureConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _SecureConnection


POOL_CLASSES = {"http": ConnectionPool, "https": SecureConnectionPool}
