"""What a bubblewrap sandbox is made of: the runtimes it binds read-only, and (as root) its own user namespace.

Only the language runtimes are bound: /usr/bin and /usr/lib (the system's programs and libraries, for bash and
node), and the Python installation the server runs on (its standard library only: `-I -S` leaves out
site-packages). No /etc, /home, /root, /var, /run, /srv, no data directory, no host /proc or /sys: measured
here, binding `/` read-only instead exposed /etc/shadow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("agentmem.sandbox")

SYSTEM_DIRS = ("/usr/bin", "/usr/lib", "/usr/lib64")
TOP_LINKS = ("/bin", "/lib", "/lib64")
INNER_UID = 1000
"""The sandbox user of run slot 0 as the sandbox sees it (slot n is INNER_UID + n)."""
OUTER_UID = 0x70000000
"""Where the host uids of sandbox users start: far above real users and the usual subordinate-uid ranges. Each
server process takes MAX_SLOTS of them after this, by its pid, so runs of different processes are different users."""
MAX_SLOTS = 256

HOLDER = """
import ctypes, sys
if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:
    sys.exit("unshare(CLONE_NEWUSER) failed: errno %d" % ctypes.get_errno())
print("in", flush=True)
sys.stdin.readline()
try:
    with open("/proc/sys/user/max_user_namespaces", "w") as limit:
        limit.write("0")
    print("limited", flush=True)
except OSError as error:
    print("unlimited: %s" % error, flush=True)
sys.stdin.read()
"""
"""Creates a user namespace, waits for its uid/gid maps, then forbids nested user namespaces inside it."""


class SetupError(RuntimeError):
    """The sandbox cannot be set up on this machine; the message says why."""


@dataclass(frozen=True)
class Runtimes:
    """Where each language's interpreter is, and the read-only mounts that make them work inside."""

    python: str
    bash: str
    node: str | None
    mounts: tuple[str, ...]

    @classmethod
    def discover(cls, data_dir: Path) -> Runtimes:
        """The server's own Python, bash and node from PATH; refuses when a bound path holds the data directory."""
        python = os.path.realpath(sys.executable)
        bash = shutil.which("bash")
        node = shutil.which("node")
        if bash is None:
            raise SetupError("bash is not installed")
        bash = os.path.realpath(bash)
        needed = [os.path.dirname(python), os.path.dirname(bash), *python_library_dirs()]
        if node:
            node = os.path.realpath(node)
            needed.append(os.path.dirname(node))
        sources = [d for d in SYSTEM_DIRS if os.path.isdir(d)]
        for path in sorted(set(needed), key=len):
            if not any(is_within(path, s) for s in sources):
                sources.append(path)
        data = str(data_dir.resolve())
        for source in sources:
            if is_within(data, source) or is_within(source, data):
                raise SetupError(f"the data directory {data} is inside {source}, which the sandbox exposes")
        mounts: list[str] = []
        for parent in sorted(
            {a for s in sources for a in Path(s).parents if str(a) != "/"}, key=lambda p: len(p.parts)
        ):
            mounts += ["--perms", "0755", "--dir", str(parent)]  # else bwrap copies the host's mode (/root: 0700)
        for top in TOP_LINKS:
            if os.path.islink(top):
                mounts += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top) and not any(is_within(top, s) for s in sources):
                mounts += ["--ro-bind", top, top]
        for source in sources:
            mounts += ["--ro-bind", source, source]
        return cls(python, bash, node, tuple(mounts))


def python_library_dirs() -> list[str]:
    """The standard library (with its extension modules) and, for a shared build, the directory of libpython."""
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix}
    dirs = [sysconfig.get_path("stdlib", vars=base), sysconfig.get_path("platstdlib", vars=base)]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        dirs.append(str(sysconfig.get_config_var("LIBDIR")))
    return [os.path.realpath(d) for d in dirs]


def is_within(path: str, parent: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), os.path.abspath(parent)]) == os.path.abspath(parent)


class UserNamespace:
    """As root: one user namespace where root maps to host root (so bubblewrap can bind root-owned runtimes) and
    the slot users map to unprivileged host uids; the launcher drops to its slot's user before the tool runs.

    Why not bubblewrap's own `--unshare-user`: as root it maps the sandbox user to host uid 0, which the kernel
    exempts from RLIMIT_NPROC (measured: 200 processes under a limit of 50) and which keeps every capability in
    the namespace unless told otherwise (measured: CapEff 000001fffeffffff without `--cap-drop ALL`).
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.outer_uid = OUTER_UID + (os.getpid() % 65_536) * MAX_SLOTS
        self._fd: int | None = None
        self._lock = threading.Lock()

    def fd(self) -> int:
        """The namespace (created on first use), as a descriptor to pass to `bwrap --userns`."""
        with self._lock:
            if self._fd is None:
                self._fd = self._create()
            return self._fd

    def _create(self) -> int:
        holder = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", HOLDER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert holder.stdin and holder.stdout and holder.stderr
        try:
            if holder.stdout.readline().strip() != "in":
                raise SetupError(holder.stderr.read().strip() or "could not create a user namespace")
            mapping = f"0 0 1\n{INNER_UID} {self.outer_uid} {self.slots}\n"
            for kind in ("uid_map", "gid_map"):
                Path(f"/proc/{holder.pid}/{kind}").write_text(mapping)
            holder.stdin.write("mapped\n")
            holder.stdin.flush()
            limited = holder.stdout.readline().strip()
            if limited != "limited":
                log.warning("tools may create nested user namespaces: %s", limited)
            return os.open(f"/proc/{holder.pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as error:
            raise SetupError(f"could not set up the sandbox's user namespace: {error}") from None
        finally:
            with contextlib.suppress(OSError):
                holder.stdin.close()
            holder.wait()

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
