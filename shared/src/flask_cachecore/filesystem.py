"""cachelib's ``FileSystemCache``, with values serialized before any file is made.

cachelib makes a temporary file, then serializes into it; a value the serializer refuses (over
the per-entry limit, or unpicklable) raises in between and leaves the temporary file behind,
one per refused write. Here the value is serialized first, so a refusal leaves no file.
"""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from cachelib import FileSystemCache as _CachelibFileSystemCache


class _Serialized:
    """A value already serialized by :class:`FileSystemCache.set`."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


class _WritesSerialized:
    """The cache's serializer, which writes a :class:`_Serialized` value as it is."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def dumps(self, value: Any, *args: Any) -> bytes:
        return self.inner.dumps(value)  # type: ignore[no-any-return]

    def loads(self, data: bytes) -> Any:
        return self.inner.loads(data)

    def dump(self, value: Any, f: IO[bytes], *args: Any) -> None:
        if type(value) is _Serialized:
            f.write(value.data)
        else:
            self.inner.dump(value, f)

    def load(self, f: IO[bytes]) -> Any:
        return self.inner.load(f)


class FileSystemCache(_CachelibFileSystemCache):
    """cachelib's ``FileSystemCache``; a value the serializer refuses raises before any
    temporary file exists (see the module's docstring)."""

    _writer: _WritesSerialized = _WritesSerialized(_CachelibFileSystemCache.serializer)

    @property
    def serializer(self) -> Any:
        return self._writer

    @serializer.setter
    def serializer(self, value: Any) -> None:
        self._writer = value if isinstance(value, _WritesSerialized) else _WritesSerialized(value)

    def set(
        self,
        key: str,
        value: Any,
        timeout: int | dt.timedelta | None = None,
        mgmt_element: bool = False,
    ) -> bool:
        if not mgmt_element:
            value = _Serialized(self._writer.dumps(value))
        return bool(super().set(key, value, timeout, mgmt_element))
