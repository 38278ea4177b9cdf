"""The first program inside the sandbox: drops to the run's user, sets the limits, runs the tool, reports on fd 3.

Executed by the sandbox's Python with `-I -S` (standard library only, never imported by the server). It is
bound read-only at /sandbox/launcher.py; its one argument is a JSON object: language, uid (None when bubblewrap
already runs as an unprivileged user), the status descriptor's number, and the limits.

The status channel (fd 3) carries JSON lines, never mixed with what the tool prints: `{"uid": n}` once the
user is dropped, `{"return": value}` or `{"error": why}` from the harness, and `{"exit": code}` or
`{"signal": n}` when the tool's process ended.
"""

from __future__ import annotations

import json
import os
import resource
import select
import sys
from typing import Any

STATUS_FD = 3
MB = 1024 * 1024
RUNTIME_ADDRESS_SPACE_MB = {"python": 256, "bash": 256, "javascript": 1536}
"""Address space each runtime needs beyond its memory limit: measured, node 20 does not start below ~800 MB of
address space (V8 reserves it up front), while its writable data starts at 48 MB. So memory is capped with
RLIMIT_DATA (writable private memory) and address space (which also counts shared mappings) is a looser cap."""


def report(message: dict[str, Any]) -> None:
    os.write(STATUS_FD, (json.dumps(message) + "\n").encode())


def drop_user(uid: int) -> None:
    """Leaves root of the sandbox's user namespace for the run's own user: no capabilities from here on."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop to the run's user")


def set_limits(limits: dict[str, Any], language: str) -> None:
    memory = limits["memory_mb"] * MB
    cpu = int(limits["timeout_s"]) + 1  # the wall clock fires first; CPU seconds are the backstop per process
    file_size = limits["tmp_mb"] * MB
    for name, value in (
        (resource.RLIMIT_NPROC, limits["processes"]),
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_AS, memory + RUNTIME_ADDRESS_SPACE_MB[language] * MB),
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_FSIZE, file_size),
        (resource.RLIMIT_NOFILE, limits["open_files"]),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(name, (value, value))


async def awaited(value: Any) -> Any:
    return await value


def run_python(path: str) -> int:
    """The harness: `main(**args)` of the tool's source; its JSON return value goes to the status channel."""
    try:
        args = json.loads(sys.stdin.read() or "{}")
        namespace: dict[str, Any] = {"__name__": "tool", "__file__": path}
        with open(path, encoding="utf-8") as source:
            exec(compile(source.read(), "tool.py", "exec"), namespace)  # noqa: S102 - the sandboxed tool itself
        main = namespace.get("main")
        if not callable(main):
            report({"error": "the source defines no function main"})
            return 1
        value = main(**args)
        if hasattr(value, "__await__"):
            import asyncio

            value = asyncio.run(awaited(value))
    except SystemExit as leaving:
        return leaving.code if isinstance(leaving.code, int) else 1
    except BaseException as error:  # noqa: BLE001 - any failure of the tool is its result
        import traceback

        traceback.print_exc()
        report({"error": f"{type(error).__name__}: {error}"})
        return 1
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        report({"error": f"the return value is not JSON: {error}"})
        return 1
    os.write(STATUS_FD, b'{"return": ' + text.encode() + b"}\n")
    return 0


class LastLine:
    """Relays bash's stdout but holds back its last line: a JSON value there is the return value."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        self.tail += chunk
        cut = self.tail.rfind(b"\n", 0, len(self.tail) - 1)
        if cut >= 0:
            self._write(self.tail[: cut + 1])
            self.tail = self.tail[cut + 1 :]
        if len(self.tail) > self.limit:  # too long to be a return value
            self._write(self.tail)
            self.tail = b""

    def close(self) -> None:
        line = self.tail.strip()
        if line:
            try:
                value = json.loads(line)
            except ValueError:
                self._write(self.tail)
                return
            report({"return": value})

    @staticmethod
    def _write(data: bytes) -> None:
        while data:
            data = data[os.write(1, data) :]


def relay_bash(pid: int, stdout: int, limit: int) -> int:
    """Relays the tool's stdout until it exits (a background child keeping stdout open does not hold the run)."""
    last = LastLine(limit)
    status: int | None = None
    while status is None:
        if select.select([stdout], [], [], 0.05)[0]:
            chunk = os.read(stdout, 65_536)
            if chunk:
                last.feed(chunk)
                continue
            status = os.waitpid(pid, 0)[1]  # end of output: every writer closed it
            break
        done, waited = os.waitpid(pid, os.WNOHANG)
        if done:
            status = waited
    os.set_blocking(stdout, False)
    try:
        while chunk := os.read(stdout, 65_536):
            last.feed(chunk)
    except BlockingIOError:
        pass
    last.close()
    return status


def start(config: dict[str, Any]) -> int:
    """Forks the tool's process and waits for it; returns its wait status."""
    language = config["language"]
    source = config["source"]
    relay = language == "bash"
    if relay:
        read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        if language == "python":
            code = run_python(source)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        if relay:
            os.dup2(write_end, 1)
            os.close(read_end)
            os.close(write_end)
            os.execv(config["bash"], ["bash", source])  # noqa: S606 - the tool is the program
        heap = f"--max-old-space-size={config['limits']['memory_mb']}"
        os.execv(config["node"], ["node", heap, config["harness"]])  # noqa: S606
    if relay:
        os.close(write_end)
        return relay_bash(pid, read_end, config["limits"]["return_bytes"])
    return os.waitpid(pid, 0)[1]


def main() -> int:
    config = json.loads(sys.argv[1])
    if config["status_fd"] != STATUS_FD:
        os.dup2(config["status_fd"], STATUS_FD)
    os.closerange(STATUS_FD + 1, 1 << 16)
    if config["uid"] is not None:
        drop_user(config["uid"])
    report({"uid": os.getuid()})
    set_limits(config["limits"], config["language"])
    status = start(config)
    if os.WIFSIGNALED(status):
        report({"signal": os.WTERMSIG(status)})
        return 128 + os.WTERMSIG(status)
    code = os.waitstatus_to_exitcode(status)
    report({"exit": code})
    return code


if __name__ == "__main__":
    sys.exit(main())
