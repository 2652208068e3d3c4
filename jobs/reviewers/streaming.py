"""An incremental scanner over streamed JSON: each item of one array, the moment it closes.

The model's answer is a tool input ``{"findings": [{...}, {...}]}`` that arrives in
``input_json_delta`` chunks cut anywhere (inside a string, an escape, a number). The
scanner follows bracket depth and string state character by character and hands out
the raw text of every object of the ``findings`` array as soon as its closing brace
arrives, long before the answer ends. It does not judge the JSON: the caller parses
each item strictly, and parses the whole text strictly once the stream is over.
"""

from __future__ import annotations

import json


class ItemScanner:
    """Feed chunks; get back the raw JSON text of each completed array item."""

    def __init__(self, key: str = "findings") -> None:
        self.key = key
        self.chars = 0
        self._chunks: list[str] = []
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._key_chars: list[str] | None = None  # a string at depth 1, maybe a key
        self._last_string: str | None = None
        self._current_key: str | None = None
        self._in_array = False  # inside the array of `key`, at depth 2
        self._item: list[str] | None = None  # chars of the object being read

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return "".join(self._chunks)

    def feed(self, chunk: str) -> list[str]:
        self._chunks.append(chunk)
        self.chars += len(chunk)
        done: list[str] = []
        for ch in chunk:
            item = self._item
            if item is not None:
                item.append(ch)
            if self._in_string:
                self._string_char(ch)
                continue
            if ch == '"':
                self._in_string = True
                if self._depth == 1:
                    self._key_chars = []
            elif ch in "{[":
                self._open(ch)
            elif ch in "}]":
                closed = self._close()
                if closed is not None:
                    done.append(closed)
            elif self._depth == 1 and ch == ":":
                self._current_key = self._last_string
            elif self._depth == 1 and ch == ",":
                self._current_key = None
        return done

    def _string_char(self, ch: str) -> None:
        if self._escape:
            self._escape = False
        elif ch == "\\":
            self._escape = True
        elif ch == '"':
            self._in_string = False
            if self._key_chars is not None:
                self._last_string = _decode_key("".join(self._key_chars))
                self._key_chars = None
            return
        if self._key_chars is not None:
            self._key_chars.append(ch)

    def _open(self, ch: str) -> None:
        self._depth += 1
        if self._depth == 2 and ch == "[" and self._current_key == self.key:
            self._in_array = True
        elif self._depth == 3 and ch == "{" and self._in_array:
            self._item = ["{"]

    def _close(self) -> str | None:
        self._depth -= 1
        if self._depth == 2 and self._item is not None:
            raw, self._item = "".join(self._item), None
            return raw
        if self._depth == 1:
            self._in_array = False
        return None


def _decode_key(raw: str) -> str:
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return raw
