"""The wire between the grader and the student process: JSON plus raw array blobs, nothing else.

Both sides use this module; the child loads it by file path (it never imports the
``autograder`` package), so it depends on numpy and the standard library only.

Frames
------
One message is one frame::

    b"LCW1" | u32 json_length | u32 blob_count | json | (u64 blob_length | blob) * blob_count

(big-endian).  The JSON document is the encoded value; every ndarray (and numpy scalar)
travels as a blob of its raw bytes in C order, its dtype and shape in the JSON (``"t"``: the
dtype's ``str``, such as ``"<f8"``; ``"s"``: the shape).  The receiver checks the dtype
against the allowed kinds and the blob's length against the shape, and views the bytes as an
array (no copy).  Nothing received is ever unpickled or eval'd (numpy's own ``.npy`` header
is a Python literal, parsed with :func:`ast.literal_eval`, which is also slow: it was a third
of the time the grader spent decoding replies).

Values
------
JSON-native values travel as themselves: finite floats, ints, bools, None, strings
(truncated to ``max_str`` characters) and lists.  Everything else is a JSON object with a
``"$"`` tag:

==============================  ==================================================
``{"$": "float", "v": "nan"}``   non-finite float ("nan", "inf", "-inf"), or a float subclass
``{"$": "int", "v": 3}``         an int subclass (flagged)
``{"$": "str", "v": "..."}``     a str subclass (flagged)
``{"$": "tuple", "items": []}``  a tuple (kept distinct from a list)
``{"$": "dict", "items": []}``   a dict as [key, value] pairs (tuple keys allowed)
``{"$": "nd", "b": 0, ...}``     an ndarray in blob 0 (``"t"``: dtype, ``"s"``: shape)
``{"$": "np", "b": 0, ...}``     a numpy scalar, as a 0-d array in blob 0
``{"$": "complex", ...}``        a complex number (``re``, ``im`` are encoded floats)
``{"$": "unsupported", ...}``    anything else: ``type`` name and a safe ``repr``
==============================  ==================================================

Any tagged value may carry ``"sub": "<type name>"``: the sender had a subclass (an ndarray
subclass, a float subclass, an OrderedDict, ...) and converted it to the plain base type.
The receiver gets the plain type and a note in :attr:`Decoded.notes`, so a lying ``__eq__``
or ``__sub__`` can never reach the grader.  Object arrays, structured arrays and other
non-numeric dtypes are refused (sent as :class:`Unsupported`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"LCW1"
_HEAD = struct.Struct(">4sII")
_BLOB = struct.Struct(">Q")

#: dtype kinds allowed on the wire: bool, ints, floats, complex, str/bytes (no datetimes:
#: numpy parses their units itself, and some unit strings crash it).
ARRAY_KINDS = "biufcUS"
#: The dtype strings a node may name (``dtype.str`` of the allowed kinds): a string is matched
#: here before numpy sees it, so numpy's own dtype parser never gets a hostile string.
DTYPE_STR = re.compile(r"[<>|=](b1|[iu][1248]|f(2|4|8|16)|c(8|16|32)|[US][1-9][0-9]{0,6})")
#: The largest code point a str can hold (numpy's U items beyond it cannot become str).
MAX_CODE_POINT = 0x10FFFF


class WireError(Exception):
    """A frame or a value that does not follow the protocol (treated as protocol garbage)."""


@dataclass(frozen=True)
class Unsupported:
    """A value the wire does not carry, described by its type name and a safe repr."""

    type_name: str
    repr_text: str

    def __repr__(self) -> str:
        return f"<unsupported {self.type_name}: {self.repr_text}>"


@dataclass
class FrameLimits:
    """Size limits of one encoded or decoded value."""

    max_str: int = 10_000  # characters kept of a string (the rest is dropped)
    max_depth: int = 64  # nesting of lists/tuples/dicts
    max_items: int = 2_000_000  # containers' items in total
    max_json_bytes: int = 256 << 20
    max_blobs: int = 200_000
    max_frame_bytes: int = 2 << 30


@dataclass
class Decoded:
    """A decoded value and the notes (subclasses converted, strings truncated, ...)."""

    value: Any
    notes: list[str] = field(default_factory=list)


def type_name(obj: Any) -> str:
    try:
        t = type(obj)
        name = type.__dict__["__qualname__"].__get__(t)
        module = type.__dict__["__module__"].__get__(t)
        return name if module in ("builtins", None) else f"{module}.{name}"
    except BaseException:  # noqa: BLE001 - a hostile metaclass
        return "<unknown type>"


def safe_repr(obj: Any, limit: int = 200) -> str:
    """``repr(obj)`` cut to ``limit`` characters; survives a raising or lying ``__repr__``."""
    try:
        text = repr(obj)
        if type(text) is not str:
            raise TypeError("__repr__ returned a non-string")
    except BaseException:  # noqa: BLE001 - student objects may raise anything
        try:
            text = object.__repr__(obj)
        except BaseException:  # noqa: BLE001
            text = "<unprintable object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def safe_str(obj: Any, limit: int = 2000) -> str:
    """``str(obj)`` cut to ``limit`` characters, or a note when ``__str__`` itself raises."""
    try:
        text = str(obj)
        if type(text) is not str:
            raise TypeError("__str__ returned a non-string")
    except BaseException as exc:  # noqa: BLE001
        return f"<the message could not be shown: its __str__ raised {type_name(exc)}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- encoding


class Encoder:
    """Turns a value into a JSON-able tree plus array blobs.

    Never raises on a strange value: whatever cannot be sent becomes :class:`Unsupported`.
    """

    def __init__(self, limits: FrameLimits | None = None) -> None:
        self.limits = limits or FrameLimits()
        self.blobs: list[bytes] = []
        self._items = 0

    def encode(self, value: Any, depth: int = 0) -> Any:
        try:
            return self._encode(value, depth)
        except (MemoryError, RecursionError):
            raise
        except BaseException as exc:  # noqa: BLE001 - never fail on student values
            return self._unsupported(value, f"could not be encoded ({type_name(exc)})")

    def _unsupported(self, value: Any, why: str = "") -> dict:
        text = safe_repr(value)
        if why:
            text = f"{text} [{why}]"
        return {"$": "unsupported", "type": type_name(value), "repr": text}

    def _float(self, x: float) -> Any:
        if math.isfinite(x):
            return x
        return {"$": "float", "v": "nan" if x != x else ("inf" if x > 0 else "-inf")}

    def _blob(self, arr: np.ndarray) -> dict:
        """``arr`` (a plain ndarray) as the next blob: its bytes in C order (a copy), and the
        node fields that describe them."""
        self.blobs.append(np.ndarray.tobytes(arr, order="C"))
        return {"b": len(self.blobs) - 1, "t": arr.dtype.str, "s": list(arr.shape)}

    def _encode(self, value: Any, depth: int) -> Any:
        t = type(value)
        if value is None or t is bool:
            return value
        if t is int:
            return value if value.bit_length() < 4000 else self._unsupported(value, "integer too large")
        if t is float:
            return self._float(value)
        if t is str:
            return value[: self.limits.max_str]
        self._items += 1
        if self._items > self.limits.max_items:
            return {"$": "unsupported", "type": type_name(value), "repr": "<too many items>"}
        if depth >= self.limits.max_depth:
            return {"$": "unsupported", "type": type_name(value), "repr": "<nested too deeply>"}
        if issubclass(t, np.generic):
            return self._numpy_scalar(value)
        if issubclass(t, np.ndarray):
            return self._array(value, t)
        if t is list or t is tuple:
            items = [self.encode(v, depth + 1) for v in list.__iter__(value)] if t is list else [
                self.encode(v, depth + 1) for v in tuple.__iter__(value)]
            return items if t is list else {"$": "tuple", "items": items}
        if t is dict:
            return {"$": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                          for k, v in dict.items(value)]}
        if t is complex:
            return {"$": "complex", "re": self._float(value.real), "im": self._float(value.imag)}
        # Subclasses of the plain types: convert with the base type's own methods (never the
        # subclass's overrides) and flag.
        sub = type_name(value)
        if issubclass(t, float):
            out = self._float(float.__float__(value))
            return {"$": "float", "v": out if not isinstance(out, dict) else out["v"], "sub": sub}
        if issubclass(t, int):  # bool cannot be subclassed
            return {"$": "int", "v": int.__index__(value), "sub": sub}
        if issubclass(t, str):
            return {"$": "str", "v": str.__str__(value)[: self.limits.max_str], "sub": sub}
        if issubclass(t, complex):
            c = complex.__complex__(value)
            return {"$": "complex", "re": self._float(c.real), "im": self._float(c.imag), "sub": sub}
        if issubclass(t, (list, tuple)):
            base = list if issubclass(t, list) else tuple
            items = [self.encode(v, depth + 1) for v in base.__iter__(value)]
            return {"$": "tuple" if base is tuple else "list", "items": items, "sub": sub}
        if issubclass(t, dict):
            return {"$": "dict", "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                                          for k, v in dict.items(value)], "sub": sub}
        return self._unsupported(value)

    def _numpy_scalar(self, value: np.generic) -> Any:
        arr = np.asarray(value)
        if type(arr) is not np.ndarray:
            arr = np.ndarray.view(arr, np.ndarray)
        if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.hasobject or arr.dtype.fields is not None:
            return self._unsupported(value, f"numpy scalar of dtype {arr.dtype}")
        out: dict[str, Any] = {"$": "np", **self._blob(np.ndarray.reshape(arr, ()))}
        if type.__dict__["__module__"].__get__(type(value)) != "numpy":
            out["sub"] = type_name(value)
        return out

    def _array(self, value: np.ndarray, t: type) -> Any:
        # View the memory as a plain ndarray (no subclass method runs), then copy it.
        plain = np.ndarray.view(value, np.ndarray) if t is not np.ndarray else value
        dtype = plain.dtype
        if dtype.hasobject or dtype.fields is not None or dtype.kind not in ARRAY_KINDS:
            return self._unsupported(value, f"array of dtype {dtype}, shape {plain.shape}")
        out: dict[str, Any] = {"$": "nd", **self._blob(plain)}
        if t is not np.ndarray:
            out["sub"] = type_name(value)
        return out


def encode(value: Any, limits: FrameLimits | None = None) -> bytes:
    """The frame carrying ``value``."""
    enc = Encoder(limits)
    tree = enc.encode(value)
    return pack_frame(json.dumps(tree, allow_nan=False, separators=(",", ":")).encode(), enc.blobs)


def pack_frame(payload: bytes, blobs: list[bytes]) -> bytes:
    """Frame a JSON payload and its blobs."""
    parts = [_HEAD.pack(MAGIC, len(payload), len(blobs)), payload]
    for blob in blobs:
        parts.append(_BLOB.pack(len(blob)))
        parts.append(blob)
    return b"".join(parts)


# --------------------------------------------------------------------------- decoding


class Decoder:
    """Rebuilds a value from a JSON tree and blobs, validating everything."""

    def __init__(self, blobs: list, limits: FrameLimits | None = None) -> None:
        self.blobs = blobs
        self.limits = limits or FrameLimits()
        self.notes: list[str] = []
        self._items = 0

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > self.limits.max_depth + 2:
            raise WireError("value nested too deeply")
        self._items += 1
        if self._items > self.limits.max_items:
            raise WireError("too many items")
        t = type(node)
        if node is None or t is bool or t is int or t is str:
            return node
        if t is float:
            if not math.isfinite(node):
                raise WireError("bare non-finite float")
            return node
        if t is list:
            return self._items_of(node, depth + 1)
        if t is not dict:
            raise WireError(f"unexpected JSON type {t.__name__}")
        tag = node.get("$")
        if tag == "nd" and len(node) == 4:  # (the commonest tagged node: an array without a subclass flag)
            return self._array(node)
        sub = node.get("sub")
        if sub is not None:
            if type(sub) is not str:
                raise WireError("bad subclass flag")
            self.notes.append(f"a {sub[:80]} was converted to its plain base type")
        if tag == "tuple" or tag == "list":
            out = self._items_of(self._list(node, "items"), depth + 1)
            return tuple(out) if tag == "tuple" else out
        if tag == "dict":
            result = {}
            for pair in self._list(node, "items"):
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("bad dict item")
                key = self.decode(pair[0], depth + 1)
                try:
                    result[key] = self.decode(pair[1], depth + 1)
                except TypeError:  # an unhashable key (a list or an array)
                    raise WireError("unhashable dict key") from None
            return result
        if tag == "float":
            return self._float(node.get("v"))
        if tag == "int":
            v = node.get("v")
            if type(v) is not int:
                raise WireError("bad int")
            return v
        if tag == "str":
            v = node.get("v")
            if type(v) is not str:
                raise WireError("bad str")
            return v
        if tag == "complex":
            return complex(self._float(node.get("re")), self._float(node.get("im")))
        if tag == "nd":
            return self._array(node)
        if tag == "np":
            arr = self._array(node)
            if arr.ndim != 0:
                raise WireError("numpy scalar is not 0-d")
            return arr[()]
        if tag == "unsupported":
            name, text = node.get("type"), node.get("repr")
            if type(name) is not str or type(text) is not str:
                raise WireError("bad unsupported value")
            return Unsupported(name[:200], text[:1000])
        raise WireError(f"unknown tag {str(tag)[:40]!r}")

    def _items_of(self, items: list, depth: int) -> list:
        """The decoded items of a JSON list at ``depth``: the same as :meth:`decode` of each, but
        plain scalars are counted and checked here, without a call each."""
        if items and depth > self.limits.max_depth + 2:
            raise WireError("value nested too deeply")
        self._items += len(items)
        if self._items > self.limits.max_items:
            raise WireError("too many items")
        out = []
        for v in items:
            t = type(v)
            if t is float:
                if not math.isfinite(v):
                    raise WireError("bare non-finite float")
            elif not (v is None or t is bool or t is int or t is str):
                self._items -= 1  # (decode counts it)
                v = self.decode(v, depth)
            out.append(v)
        return out

    def _list(self, node: dict, key: str) -> list:
        items = node.get(key)
        if type(items) is not list:
            raise WireError(f"bad {key}")
        return items

    @staticmethod
    def _float(v: Any) -> float:
        if type(v) is dict and v.get("$") == "float" and len(v) == 2:
            v = v.get("v")
        if type(v) is float or (type(v) is int and abs(v) < 1 << 1023):
            return float(v)
        if v == "nan":
            return math.nan
        if v == "inf":
            return math.inf
        if v == "-inf":
            return -math.inf
        raise WireError("bad float")

    def _array(self, node: dict) -> np.ndarray:
        index = node.get("b")
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise WireError("bad blob index")
        return load_array(self.blobs[index], node.get("t"), node.get("s"))


#: The longest dtype string accepted (``"<M8[ns]"``, ``"<U1000"``: a dozen characters).
MAX_DTYPE_STR = 24
#: The most dimensions an array on the wire may have (numpy's own limit).
MAX_DIMS = 64


def array_dtype(text: Any) -> np.dtype:
    """The dtype a node names, if it is one the wire carries (see :data:`ARRAY_KINDS`).

    Raises
    ------
    WireError
        For anything else: not a string, an object, structured, sub-array or empty dtype.
    """
    if type(text) is not str or not 0 < len(text) <= MAX_DTYPE_STR:
        raise WireError(f"bad array dtype {str(text)[:MAX_DTYPE_STR]!r}")
    return _parsed_dtype(text)


@functools.lru_cache(maxsize=256)
def _parsed_dtype(text: str) -> np.dtype:
    """:func:`array_dtype` of a short string, parsed once per process (a refusal is not cached)."""
    if not DTYPE_STR.fullmatch(text):
        raise WireError(f"bad array dtype {text!r}")
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError, SyntaxError):
        raise WireError(f"bad array dtype {text[:MAX_DTYPE_STR]!r}") from None
    if (dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in ARRAY_KINDS
            or dtype.itemsize == 0):
        raise WireError(f"refused dtype {text!r}")
    return dtype


def load_array(blob: bytes | memoryview, dtype: Any, shape: Any) -> np.ndarray:
    """The array of ``shape`` and ``dtype`` (as a node names them) whose bytes ``blob`` holds,
    in C order, without copying them (a view of ``blob``).

    Raises
    ------
    WireError
        For a dtype the wire does not carry, a bad shape, or a blob of another size.
    """
    dtype = array_dtype(dtype)
    if type(shape) is not list or len(shape) > MAX_DIMS or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("bad array shape")
    view = memoryview(blob).cast("B")
    count = math.prod(shape)
    if len(view) != count * dtype.itemsize:
        raise WireError("bad array blob (its size does not match its shape)")
    try:
        arr = np.frombuffer(view, dtype=dtype, count=count).reshape(shape)
    except (ValueError, TypeError) as exc:  # whatever numpy refuses is a bad frame, never the grader's error
        raise WireError(f"bad array blob ({exc})") from None
    if dtype.kind == "U" and count:
        points = arr.view(dtype.byteorder.replace("|", "=") + "u4")
        if int(points.max()) > MAX_CODE_POINT:
            raise WireError("bad array blob (a character beyond the last code point)")
        if bool(((points & 0xFFFFF800) == 0xD800).any()):  # (no str made of it could be written as UTF-8)
            raise WireError("bad array blob (a lone UTF-16 surrogate)")
    return arr


def decode(payload: bytes, blobs: list, limits: FrameLimits | None = None) -> Decoded:
    """Decode one frame's payload and blobs.

    Raises
    ------
    WireError
        Whenever the frame is not a valid message of this protocol.
    """
    try:
        tree = json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant)
        if _SURROGATE_ESCAPE.search(payload):  # (rare: a \\udXXX escape, which may stand alone)
            tree = _without_lone_surrogates(tree)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"bad JSON ({type(exc).__name__})") from None
    dec = Decoder(blobs, limits)
    try:
        value = dec.decode(tree)
    except RecursionError:
        raise WireError("value nested too deeply") from None
    except (WireError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - whatever a hostile frame makes numpy or Python raise is garbage
        raise WireError(f"bad value ({type(exc).__name__})") from None
    return Decoded(value, dec.notes)


#: A JSON escape of a UTF-16 surrogate: a pair of them is one character, but one alone decodes
#: to a str that cannot be written as UTF-8 (a report, a log) anywhere downstream.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _without_lone_surrogates(node: Any) -> Any:
    """``node`` with every lone surrogate of its strings (keys included) written as ``\\udXXX``."""
    if type(node) is str:
        return node.encode("utf-8", "backslashreplace").decode("utf-8")
    if type(node) is list:
        return [_without_lone_surrogates(v) for v in node]
    if type(node) is dict:
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in node.items()}
    return node


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"JSON constant {name} is not allowed")


def loads(frame: bytes, limits: FrameLimits | None = None) -> Decoded:
    """Decode a whole frame (as produced by :func:`encode`)."""
    reader = FrameReader(limits)
    reader.feed(frame)
    got = reader.pop()
    if got is None or reader.pending():
        raise WireError("incomplete or trailing data")
    return decode(*got, limits=limits)


class FrameReader:
    """Incremental frame parser for the receiving side (bytes in, whole frames out).

    A frame larger than ``limits.max_frame_bytes`` (whole) or ``limits.max_json_bytes`` (its
    JSON) is refused as soon as its header says so, before its bytes are buffered.  A complete
    frame's blobs are views of the one buffer that received it, not copies.
    """

    def __init__(self, limits: FrameLimits | None = None) -> None:
        self.limits = limits or FrameLimits()
        self._buf = bytearray()

    def feed(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) > self.limits.max_frame_bytes:
            raise WireError("frame too large")
        self._check_sizes()

    def pending(self) -> int:
        return len(self._buf)

    def _check_sizes(self) -> None:
        """Refuse a frame by its declared sizes, as early as they can be read."""
        buf = self._buf
        if len(buf) < _HEAD.size:
            if buf and not MAGIC.startswith(bytes(buf[:4])):
                raise WireError("bad frame magic")
            return
        magic, json_len, n_blobs = _HEAD.unpack_from(buf)
        if magic != MAGIC:
            raise WireError("bad frame magic")
        if json_len > self.limits.max_json_bytes or n_blobs > self.limits.max_blobs:
            raise WireError("frame too large")
        pos = _HEAD.size + json_len
        for _ in range(n_blobs):
            if len(buf) < pos + _BLOB.size:
                return
            (size,) = _BLOB.unpack_from(buf, pos)
            pos += _BLOB.size + size
            if pos > self.limits.max_frame_bytes:
                raise WireError("frame too large")

    def pop(self) -> tuple[bytes, list[memoryview]] | None:
        """The next complete frame as (payload, blobs), or None if more bytes are needed."""
        self._check_sizes()
        buf = self._buf
        if len(buf) < _HEAD.size:
            return None
        _, json_len, n_blobs = _HEAD.unpack_from(buf)
        pos = _HEAD.size + json_len
        blobs_at = []
        for _ in range(n_blobs):
            if len(buf) < pos + _BLOB.size:
                return None
            (size,) = _BLOB.unpack_from(buf, pos)
            pos += _BLOB.size
            blobs_at.append((pos, size))
            pos += size
        if len(buf) < pos:
            return None
        rest = buf[pos:]
        self._buf = bytearray(rest)
        del buf[pos:]
        view = memoryview(buf)  # the frame's own buffer: the arrays decoded from it are views of it
        payload = bytes(view[_HEAD.size:_HEAD.size + json_len])
        return payload, [view[start:start + size] for start, size in blobs_at]


def read_frame(fd: int, limits: FrameLimits | None = None) -> tuple[bytearray, list[bytearray]] | None:
    """Blocking read of one frame from a file descriptor; None at end of file."""
    limits = limits or FrameLimits()
    head = _read_exact(fd, _HEAD.size)
    if head is None:
        return None
    magic, json_len, n_blobs = _HEAD.unpack(head)
    if magic != MAGIC or json_len > limits.max_json_bytes or n_blobs > limits.max_blobs:
        raise WireError("bad frame header")
    payload = _read_exact(fd, json_len)
    blobs = []
    for _ in range(n_blobs):
        size_bytes = _read_exact(fd, _BLOB.size)
        if size_bytes is None:
            raise WireError("truncated frame")
        (size,) = _BLOB.unpack(size_bytes)
        if size > limits.max_frame_bytes:
            raise WireError("frame too large")
        blob = _read_exact(fd, size)
        if blob is None:
            raise WireError("truncated frame")
        blobs.append(blob)
    if payload is None:
        raise WireError("truncated frame")
    return payload, blobs


def _read_exact(fd: int, n: int) -> bytearray | None:
    """``n`` bytes from ``fd`` into a fresh buffer (writable: arrays decoded from it are views
    the student may modify in place); None at end of file before the first byte."""
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        count = os.readv(fd, [view[got:min(n, got + (1 << 20))]])
        if not count:
            if got == 0:
                return None
            raise WireError("truncated frame")
        got += count
    return buf


def write_all(fd: int, data: bytes) -> None:
    """Blocking write of all of ``data``."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]
