"""The grader's end of the pipes to one student process: requests out, replies and output in.

Requests and replies travel on two dedicated pipes as :mod:`autograder.harness.wire` frames
(JSON + raw array blobs, never pickle).  The student's stdout and stderr are drained while the grader
waits for a reply, and only ``output_bytes`` of each are kept per call.  Each reply is read
under a size budget set by its request: a larger frame is refused as soon as its header says
so, so a student process cannot make the grader hold more than its requests allow.
"""

from __future__ import annotations

import os
import select
import time

from autograder.harness import wire


class ChannelError(Exception):
    """The exchange failed: ``reason`` is "timeout", "closed" (the student process's end is
    gone) or "garbage" (bytes that are not a valid reply)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Channel:
    """The pipes of one running student process.

    Parameters
    ----------
    req, rep, out, err : int
        File descriptors: the request pipe (written), the reply pipe and the student's
        stdout / stderr (read).
    output_bytes : int
        Output kept per call, per stream.
    """

    def __init__(self, req: int, rep: int, out: int, err: int, output_bytes: int) -> None:
        self._fds = {"req": req, "rep": rep, "out": out, "err": err}
        for fd in self._fds.values():
            os.set_blocking(fd, False)
        self._output_bytes = output_bytes
        self._out, self._err, self._dropped = bytearray(), bytearray(), [0, 0]
        self._reader = wire.FrameReader(wire.FrameLimits(max_frame_bytes=1 << 20, max_json_bytes=1 << 20))
        self._frame = None

    # ------------------------------------------------------------------ output
    def _keep(self, which: int, data: bytes) -> None:
        buf = self._out if which == 0 else self._err
        room = self._output_bytes - len(buf)
        if room > 0:
            buf += data[:room]
        self._dropped[which] += max(0, len(data) - max(room, 0))

    def take_output(self) -> tuple[str, str]:
        """What the student process printed since the last call (stdout, stderr), truncated."""
        texts = []
        for which, buf in enumerate((self._out, self._err)):
            text = bytes(buf).decode("utf-8", errors="replace")
            if self._dropped[which]:
                text += f"\n[... {self._dropped[which]} more bytes of output were dropped]"
            texts.append(text)
        self._out, self._err, self._dropped = bytearray(), bytearray(), [0, 0]
        return texts[0], texts[1]

    def drain_idle(self) -> None:
        """Read and drop whatever the student process printed between calls."""
        for key in ("out", "err"):
            fd = self._fds.get(key)
            while fd is not None:
                try:
                    data = os.read(fd, 1 << 16)
                except (BlockingIOError, OSError):
                    break
                if not data:
                    break
        self._out, self._err, self._dropped = bytearray(), bytearray(), [0, 0]

    # ------------------------------------------------------------------ frames
    def _pump(self, deadline: float, payload: memoryview | None = None) -> None:
        """Move bytes until ``payload`` is written (if given) or a reply frame is complete."""
        fds = self._fds
        poller = select.poll()
        watching = {fds["rep"]: "rep"}
        for key in ("out", "err"):
            if key in fds:
                watching[fds[key]] = key
        if payload is not None:
            watching[fds["req"]] = "req"
        for fd, key in watching.items():
            poller.register(fd, select.POLLOUT if key == "req" else select.POLLIN)
        while True:
            if payload is not None and not payload:
                return
            if payload is None and self._frame is not None:
                return
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ChannelError("timeout")
            for fd, _ev in poller.poll(max(1, int(left * 1000))):
                key = watching.get(fd)
                if key == "req":
                    try:
                        n = os.write(fd, payload[: 1 << 20])
                        payload = payload[n:]
                    except BlockingIOError:
                        pass
                    except OSError:  # the student process closed its end: it is dying
                        raise ChannelError("closed") from None
                    continue
                try:
                    data = os.read(fd, 1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    poller.unregister(fd)
                    del watching[fd]
                    if key == "rep":
                        raise ChannelError("closed")
                    fds.pop(key, None)
                    continue
                if key == "rep":
                    try:
                        self._reader.feed(data)
                        self._frame = self._reader.pop()
                    except wire.WireError:
                        raise ChannelError("garbage") from None
                else:
                    self._keep(0 if key == "out" else 1, data)

    def send(self, data: bytes, deadline: float) -> None:
        """Write one request frame."""
        self._frame = None
        self._pump(deadline, memoryview(data))

    def receive(self, deadline: float, max_bytes: int = 1 << 20) -> wire.Decoded:
        """Read one reply frame of at most ``max_bytes`` and decode it (a dict with a bool ``ok``)."""
        self._reader.limits = wire.FrameLimits(max_frame_bytes=max_bytes, max_json_bytes=min(max_bytes, 1 << 20),
                                               max_items=max(1000, max_bytes // 8))
        try:
            self._frame = self._reader.pop() if self._reader.pending() else None
        except wire.WireError:
            raise ChannelError("garbage") from None
        self._pump(deadline)
        frame, self._frame = self._frame, None
        try:
            decoded = wire.decode(*frame, limits=self._reader.limits)
        except wire.WireError:
            raise ChannelError("garbage") from None
        if type(decoded.value) is not dict or type(decoded.value.get("ok")) is not bool:
            raise ChannelError("garbage")
        return decoded

    def close(self) -> None:
        """Close the four pipes."""
        for key in ("req", "rep", "out", "err"):
            try:
                os.close(self._fds[key])
            except (KeyError, OSError):
                pass
