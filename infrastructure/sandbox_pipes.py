"""Feeding a sandboxed process its stdin and reading its stdout, stderr and status channel, each within a cap."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import IO

CHUNK = 65_536
STATUS_TAIL = 4_096
KILL_GRACE = 5.0
"""Seconds to wait for the pipes to close after the kill: the PID namespace dies with bubblewrap, so this is
only a bound in case the kernel is slow to reap a large process tree."""


@dataclass
class Capture:
    """The first `limit` bytes of a stream, its last `tail` bytes past them, and how many bytes it carried."""

    limit: int
    tail: int = 0
    data: bytearray = field(default_factory=bytearray)
    end: bytearray = field(default_factory=bytearray)
    total: int = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
            chunk = chunk[room:]
        if self.tail and chunk:
            self.end = (self.end + chunk)[-self.tail :]

    @property
    def truncated(self) -> bool:
        return self.total > self.limit

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass
class Outcome:
    """What came out of one run: the captured streams, the exit status, whether the wall clock stopped it."""

    stdout: Capture
    stderr: Capture
    status: Capture
    returncode: int
    timed_out: bool
    seconds: float


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Kills bubblewrap's process group; its PID namespace (every process of the run) dies with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Feeder:
    """Writes a tool's stdin without blocking, and closes it when all is written or the tool stops reading."""

    def __init__(self, stream: IO[bytes], data: bytes) -> None:
        self.stream = stream
        self.fd = stream.fileno()
        self.pending = memoryview(data)
        os.set_blocking(self.fd, False)

    def write(self) -> bool:
        """Writes what the pipe takes; True when done (everything written, or the reader is gone)."""
        try:
            self.pending = self.pending[os.write(self.fd, self.pending[:CHUNK]) :]
        except BlockingIOError:
            return False
        except BrokenPipeError:
            self.pending = self.pending[:0]
        if not self.pending:
            self.stream.close()
        return not self.pending


def pump(
    process: subprocess.Popen[bytes], stdin: bytes, status_fd: int, timeout: float, limits: tuple[int, int]
) -> Outcome:
    """Writes stdin and drains the three outputs until they close; kills the run at the deadline.

    Every output is drained to its end (past its cap, bytes are counted and dropped) so the tool never blocks
    on a full pipe: 100 MB of stdout costs the server about 0.1 s of reading, not memory.
    """
    assert process.stdin and process.stdout and process.stderr
    started = time.monotonic()
    deadline = started + timeout
    output, errors = Capture(limits[0]), Capture(limits[0])
    status = Capture(limits[1], tail=STATUS_TAIL)  # the launcher's last report comes after a return value
    selector = selectors.DefaultSelector()
    for stream, capture in ((process.stdout.fileno(), output), (process.stderr.fileno(), errors), (status_fd, status)):
        os.set_blocking(stream, False)
        selector.register(stream, selectors.EVENT_READ, capture)
    feeder = Feeder(process.stdin, stdin)
    selector.register(feeder.fd, selectors.EVENT_WRITE, feeder)
    timed_out = False
    while selector.get_map():
        now = time.monotonic()
        if now >= deadline:
            if timed_out:
                break
            timed_out = True
            kill_tree(process)
            deadline = now + KILL_GRACE
        for key, _ in selector.select(deadline - now):
            if isinstance(key.data, Feeder):
                done = key.data.write()
            else:
                chunk = os.read(key.fd, CHUNK)
                key.data.add(chunk)
                done = not chunk
            if done:
                selector.unregister(key.fd)
    selector.close()
    if not process.stdin.closed:
        process.stdin.close()
    try:
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        kill_tree(process)
        returncode = process.wait()
    return Outcome(output, errors, status, returncode, timed_out, time.monotonic() - started)
