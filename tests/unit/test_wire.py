"""The wire carries plain data only: round trips, subclasses made plain, garbage refused."""

from __future__ import annotations

import json
import math
import pickle
import struct

import numpy as np
import pytest

from autograder.harness import wire


def roundtrip(value):
    return wire.loads(wire.encode(value))


@pytest.mark.parametrize("value", [
    0, -7, 2**62, 1.5, -0.0, 1e308, True, False, None, "text", "",
    [1, 2.0, "x"], (1, 2), ((1, (2,)), [3]), [], (),
    {"a": 1, (0.1, 0.2): (0.5, 0.75), 3: [None]},
    1 + 2j, complex(float("nan"), 1.0),
])
def test_plain_values_round_trip(value):
    back = roundtrip(value).value
    assert type(back) is type(value)
    assert repr(back) == repr(value)


def test_non_finite_floats_are_tagged_not_json_nan():
    frame = wire.encode([math.nan, math.inf, -math.inf])
    assert b"NaN" not in frame and b"Infinity" not in frame
    back = roundtrip([math.nan, math.inf, -math.inf]).value
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf


@pytest.mark.parametrize("arr", [
    np.arange(12.0).reshape(3, 4), np.array([1, 2], dtype=np.int32), np.array([True, False]),
    np.zeros((0, 3)), np.array(3.5), np.array([1 + 1j]), np.array(["a", "bc"]), np.float32([1.5, np.nan]),
])
def test_arrays_round_trip(arr):
    back = roundtrip({"x": arr}).value["x"]
    assert type(back) is np.ndarray and back.dtype == arr.dtype and back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_numpy_scalars_keep_their_dtype():
    back = roundtrip([np.float32(1.5), np.int64(3), np.bool_(True), np.float64(2.0)]).value
    assert [type(v) for v in back] == [np.float32, np.int64, np.bool_, np.float64]


def test_long_strings_are_truncated():
    assert len(roundtrip("x" * 50_000).value) == wire.FrameLimits().max_str


def test_object_arrays_and_other_objects_are_unsupported():
    class Thing:
        pass

    back = roundtrip([np.array([1, "a"], dtype=object), Thing(), {1, 2}, b"bytes"]).value
    assert all(isinstance(v, wire.Unsupported) for v in back)
    assert back[0].type_name == "numpy.ndarray" and "object" in back[0].repr_text
    assert back[3].type_name == "bytes"


def test_raising_repr_and_str_are_survived():
    class Evil:
        def __repr__(self):
            raise RuntimeError("no")

    class EvilExc(Exception):
        def __str__(self):
            raise RuntimeError("no")

    back = roundtrip(Evil()).value
    assert isinstance(back, wire.Unsupported) and "Evil" in back.repr_text
    assert "could not be shown" in wire.safe_str(EvilExc())


def test_lying_subclasses_become_plain_and_are_flagged():
    class LyingFloat(float):
        def __eq__(self, other):
            return True

        __hash__ = float.__hash__

    class LyingArray(np.ndarray):
        def __eq__(self, other):
            return True

        def __sub__(self, other):
            return 0

    arr = np.arange(3.0).view(LyingArray)
    decoded = roundtrip([LyingFloat(2.5), arr])
    f, a = decoded.value
    assert type(f) is float and f == 2.5 and f != 3.0
    assert type(a) is np.ndarray and not np.array_equal(a, np.zeros(3))
    assert len(decoded.notes) == 2 and "LyingFloat" in decoded.notes[0]


def test_pickle_payloads_are_never_unpickled():
    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    payload = pickle.dumps(Boom())
    back = roundtrip(payload).value
    assert isinstance(back, wire.Unsupported)
    # A hand-made frame that names a pickled object array is refused.
    with pytest.raises(wire.WireError, match="dtype"):
        wire.loads(nd_frame("|O", [1], pickle.dumps(np.array([Boom()], dtype=object))))


@pytest.mark.parametrize("frame", [
    b"", b"garbage", b"LCW1" + struct.pack(">II", 5, 0) + b"{bad}", b"LCW1" + struct.pack(">II", 3, 0) + b"NaN",
    wire.pack_frame(b'{"$":"nope"}', []), wire.pack_frame(b'{"$":"nd","b":3}', []),
    wire.pack_frame(b'{"$":"nd","b":0}', [b"not npy"]), wire.pack_frame(b'{"a":1}', []),
    wire.pack_frame(b"[" * 100_000, []), b"LCW1" + struct.pack(">II", 2**31, 0),
])
def test_garbage_is_a_wire_error(frame):
    with pytest.raises(wire.WireError):
        wire.loads(frame)


def test_frame_reader_is_incremental():
    frames = wire.encode([1, np.ones(3)]) + wire.encode("two")
    reader = wire.FrameReader()
    got = []
    for i in range(0, len(frames), 7):
        reader.feed(frames[i:i + 7])
        while (frame := reader.pop()) is not None:
            got.append(wire.decode(*frame).value)
    assert got[1] == "two" and np.array_equal(got[0][1], np.ones(3))


def test_arrays_read_from_a_pipe_are_writable_views():
    """Student code may modify its arguments in place (a numeric gradient perturbs x), so the
    child's arrays are writable; they are views of the frame's own buffer, not copies."""
    import os

    read_fd, write_fd = os.pipe()
    try:
        wire.write_all(write_fd, wire.encode([np.arange(6.0).reshape(2, 3), np.zeros(2, np.int64)]))
        x, labels = wire.decode(*wire.read_frame(read_fd)).value
    finally:
        os.close(read_fd)
        os.close(write_fd)
    x[0, 1] += 10.0
    labels[:] = 7
    assert x.flags.writeable and x[0, 1] == 11.0 and labels.tolist() == [7, 7]
    assert x.base is not None  # a view of the received buffer


def nd_frame(dtype, shape, blob: bytes) -> bytes:
    """A hand-made frame: one array node of ``dtype`` and ``shape`` over ``blob``."""
    node = {"$": "nd", "b": 0, "t": dtype, "s": shape}
    return wire.pack_frame(json.dumps(node).encode(), [blob])


def test_a_blob_whose_size_disagrees_with_its_shape_is_refused():
    data = np.ones(4).tobytes()
    for blob in (data[:-8], data + b"\0" * 8):
        with pytest.raises(wire.WireError, match="does not match its shape"):
            wire.loads(nd_frame("<f8", [4], blob))
    assert wire.loads(nd_frame("<f8", [2, 2], data)).value.shape == (2, 2)


def test_a_zero_itemsize_dtype_is_a_wire_error_not_the_graders():
    with pytest.raises(wire.WireError, match="dtype"):
        wire.loads(nd_frame("|S0", [10**12], b""))


@pytest.mark.parametrize("dtype", ["O", "|O", "V8", "i4,i4", "(2,)i4", "<f8" * 10, 8, None, "",
                                   "[('a', '<i4')]", "not a dtype"])
def test_only_plain_dtypes_are_read(dtype):
    with pytest.raises(wire.WireError, match="dtype"):
        wire.loads(nd_frame(dtype, [1], b"\0" * 8))


@pytest.mark.parametrize("shape", [[-1], [1.0], "8", None, [True], [1] * 65, [2**70, 2**70]])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(wire.WireError):
        wire.loads(nd_frame("|u1", shape, b"\0" * 8))


def test_arrays_arrive_in_c_order_whatever_their_layout():
    a = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    back = roundtrip({"x": a, "t": a.T, "s": a[:, ::2], "b": a.astype(">f8")}).value
    for key, expected in (("x", a), ("t", a.T), ("s", a[:, ::2]), ("b", a)):
        np.testing.assert_array_equal(back[key], expected)


@pytest.mark.parametrize("dtype", ["M8[s/0]", "m8[s/0]", "M8[0s]", "<M8[ns]", "a5", "int0", "<f8 ", "<U0"])
def test_dtype_strings_numpy_would_parse_badly_never_reach_it(dtype):
    # "M8[s/0]" made np.dtype divide by zero: SIGFPE killed the grader (the review of issue 12)
    with pytest.raises(wire.WireError, match="dtype"):
        wire.loads(nd_frame(dtype, [0], b""))


@pytest.mark.parametrize("tag", ["nd", "np"])
def test_a_character_beyond_the_last_code_point_is_a_wire_error(tag):
    node = {"$": tag, "b": 0, "t": "<U1", "s": [] if tag == "np" else [1]}
    with pytest.raises(wire.WireError, match="code point"):
        wire.loads(wire.pack_frame(json.dumps(node).encode(), [b"\xff\xff\xff\xff"]))


def test_datetimes_are_not_carried():
    value = roundtrip(np.array(["2020-01-01"], dtype="M8[D]")).value
    assert isinstance(value, wire.Unsupported)


def test_a_lone_surrogate_becomes_an_escape_that_utf8_can_hold():
    # JSON's \udc80 escape alone decodes to a str no report or log could be written with
    for frame, expected in ((b'"bad \\udc80 value"', "bad \\udc80 value"), (b'"\\uDFFF"', "\\udfff"),
                            (b'{"$":"dict","items":[["k\\ud800", ["x\\udc00y"]]]}', {"k\\ud800": ["x\\udc00y"]})):
        value = wire.decode(frame, []).value
        assert value == expected
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert wire.decode(b'"\\ud83d\\ude00"', []).value == "\U0001F600"  # a pair is one character, kept


def test_a_string_array_holding_a_lone_surrogate_is_a_bad_frame():
    for tag in ("np", "nd"):
        shape = [] if tag == "np" else [1]
        frame = wire.pack_frame(json.dumps({"$": tag, "b": 0, "t": "<U1", "s": shape}).encode(),
                                [np.array([0xD800], dtype="<u4").tobytes()])
        with pytest.raises(wire.WireError, match="surrogate"):
            wire.loads(frame)
