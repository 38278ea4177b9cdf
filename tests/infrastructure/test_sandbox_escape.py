"""The escape suite: real hostile code in the real sandbox, in each language; every attempt fails inside it.

Each test asserts the attempt was contained and the run reported a clear status; the last ones check that no
process of any run is left behind and that a plain run still works. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from litestar.testing import TestClient
from psycopg.conninfo import conninfo_to_dict

from agentmem.application.sandbox import Code, Language, Limits, RunResult, Sandbox
from agentmem.infrastructure.sandbox_setup import MAX_SLOTS, OUTER_UID
from agentmem.infrastructure.secrets import SECRET_FILE, write_private
from agentmem.infrastructure.settings import Settings
from agentmem.runtime.container import Container

FAST = Limits(timeout_s=5, tmp_mb=8)


@pytest.fixture(scope="module")
def sandbox(container: Container) -> Sandbox:
    assert container.sandbox.check() is None, container.sandbox.check()
    return container.sandbox


def run(
    sandbox: Sandbox, language: Language, source: str, args: dict[str, Any] | None = None, **limits: Any
) -> RunResult:
    limits = {"timeout_s": FAST.timeout_s, "tmp_mb": FAST.tmp_mb, **limits}
    return sandbox.run(Code(language, textwrap.dedent(source).strip() + "\n"), args or {}, Limits(**limits))


def sandbox_processes() -> list[psutil.Process]:
    """Processes running as a sandbox user of this test process (each server process has its own host uids)."""
    first = OUTER_UID + (os.getpid() % 65_536) * MAX_SLOTS
    found = []
    for process in psutil.process_iter(["uids"]):
        uids = process.info["uids"]
        if uids is not None and first <= uids.real < first + MAX_SLOTS:
            found.append(process)
    return found


def assert_no_process_left() -> None:
    _, alive = psutil.wait_procs(sandbox_processes(), timeout=5)
    assert not alive, [p.info for p in alive]


@pytest.fixture(autouse=True)
def nothing_survives_a_run() -> Iterator[None]:
    """Every test ends with no process of any run alive (counted on the host)."""
    yield
    assert_no_process_left()


READ_PY = """
def main(paths):
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as handle:
                found[path] = "read %d bytes" % len(handle.read())
        except OSError as error:
            found[path] = type(error).__name__
    return found
"""
READ_JS = """
import { readFileSync } from "node:fs";
export function main({ paths }) {
  const found = {};
  for (const path of paths) {
    try { found[path] = `read ${readFileSync(path).length} bytes`; } catch (error) { found[path] = error.code; }
  }
  return found;
}
"""
READ_BASH = """
for path in $(echo "$ARG_PATHS" | tr -d '[]",'); do
  if cat "$path" > /dev/null 2>&1; then echo "read $path"; else echo "denied $path"; fi
done
"""


def host_secrets(settings: Settings) -> list[str]:
    """Files that exist on the host and must not even exist inside: system secrets, the data directory, our code."""
    data_dir = settings.data_dir.resolve()
    key_file = data_dir / SECRET_FILE  # these tests configure the secret; a server without it keeps it here
    if not key_file.exists():
        write_private(key_file, "the sandbox must not read this")
    paths = [
        "/etc/shadow",
        "/etc/passwd",
        "/root/.bashrc",
        str(key_file),
        str(data_dir / "postgres" / "PG_VERSION"),
        str(Path(__file__).resolve()),
        str(Path(psutil.__file__).resolve()),
        f"/proc/{os.getpid()}/environ",
    ]
    return [p for p in paths if os.path.exists(p)]


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_host_files_the_data_directory_and_the_server_environment_cannot_be_read(
    sandbox: Sandbox, settings: Settings, language: Language
) -> None:
    paths = host_secrets(settings)
    assert len(paths) >= 6, paths  # the control: they exist out here
    result = run(sandbox, language, READ_PY if language == "python" else READ_JS, {"paths": paths})
    assert result.status == "ok", result
    assert set(result.return_value.values()) == {"FileNotFoundError" if language == "python" else "ENOENT"}, result


def test_bash_cannot_read_host_files_either(sandbox: Sandbox, settings: Settings) -> None:
    paths = host_secrets(settings)
    result = run(sandbox, "bash", READ_BASH, {"paths": paths})
    assert result.status == "ok", result
    assert result.stdout.count("denied ") == len(paths) and "read " not in result.stdout


def test_the_environment_holds_only_what_the_sandbox_gives(sandbox: Sandbox) -> None:
    os.environ["AGENTMEM_TEST_CANARY"] = "server-only"
    try:
        result = sandbox.run(
            Code("python", "import os\ndef main():\n    return dict(os.environ)\n", {"NAMED_SECRET": "v"}), {}, FAST
        )
    finally:
        del os.environ["AGENTMEM_TEST_CANARY"]
    assert result.status == "ok"
    assert set(result.return_value) <= {"PATH", "HOME", "TMPDIR", "LANG", "NAMED_SECRET", "PWD", "SHLVL", "_"}
    assert result.return_value["NAMED_SECRET"] == "v"


def test_pid_1_and_the_host_processes_are_out_of_sight(sandbox: Sandbox) -> None:
    result = run(
        sandbox,
        "python",
        """
        import os
        def main(host_pid):
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            commands = [open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode() for p in pids]
            try:
                open("/proc/1/environ").read()
                environ = "read"
            except OSError as error:
                environ = type(error).__name__
            try:
                os.kill(host_pid, 0)
                signal = "delivered"
            except OSError as error:
                signal = type(error).__name__
            return {"pids": pids, "commands": commands, "environ": environ, "signal": signal, "uid": os.getuid()}
        """,
        {"host_pid": os.getpid()},
    )
    assert result.status == "ok", result
    found = result.return_value
    assert len(found["pids"]) <= 4 and not any("pytest" in c for c in found["commands"]), found
    assert found["environ"] == "PermissionError" and found["signal"] == "ProcessLookupError"
    assert found["uid"] != 0


def test_ptrace_of_anything_is_refused(sandbox: Sandbox) -> None:
    result = run(
        sandbox,
        "python",
        """
        import ctypes, os
        def main():
            libc = ctypes.CDLL(None, use_errno=True)
            attached = {}
            for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
                attached[pid] = "attached" if libc.ptrace(16, int(pid), 0, 0) == 0 else os.strerror(ctypes.get_errno())
            return attached
        """,
    )
    assert result.status == "ok", result
    assert result.return_value and set(result.return_value.values()) == {"Operation not permitted"}, result


def test_no_namespace_can_be_made_or_mounted_from_inside(sandbox: Sandbox) -> None:
    source = """
    import ctypes, os
    def main():
        libc = ctypes.CDLL(None, use_errno=True)
        tried = {}
        for name, flag in (("user", 0x10000000), ("mount", 0x00020000), ("net", 0x40000000)):
            tried[name] = "made" if libc.unshare(flag) == 0 else os.strerror(ctypes.get_errno())
        made = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) == 0
        tried["mount /tmp"] = "mounted" if made else os.strerror(ctypes.get_errno())
        return tried
    """
    result = run(sandbox, "python", source)
    assert result.status == "ok", result
    assert not {"made", "mounted"} & set(result.return_value.values()), result.return_value


def test_kill_minus_one_ends_only_the_run_itself(sandbox: Sandbox) -> None:
    result = run(
        sandbox, "python", "import os, signal\ndef main():\n    os.kill(-1, signal.SIGKILL)\n    return 'alive'\n"
    )
    assert result.status == "killed" and result.return_value is None  # kill(-1) spares the caller, not its launcher
    assert run(sandbox, "python", "def main():\n    return 'still here'\n").return_value == "still here"


WRITE_PY = """
import os
def main(paths):
    written = []
    for path in paths:
        try:
            with open(path, "w") as handle:
                handle.write("x")
            written.append(path)
        except OSError:
            pass
    return written
"""
OUTSIDE = ["/escape", "/usr/bin/escape", "/sandbox/escape", "/sandbox/tool.py", "/root/escape", "/dev/escape",
           "/dev/shm/escape", "/proc/sys/kernel/hostname", "/tmp/../escape", "/tmp/ok"]  # fmt: skip


def test_nothing_outside_tmp_can_be_written(sandbox: Sandbox) -> None:
    result = run(sandbox, "python", WRITE_PY, {"paths": OUTSIDE})
    assert result.status == "ok", result
    assert result.return_value == ["/tmp/ok"]


def test_nothing_outside_tmp_can_be_written_from_bash(sandbox: Sandbox) -> None:
    script = "for p in " + " ".join(OUTSIDE) + '; do (echo x > "$p") 2>/dev/null && echo "wrote $p"; done; true'
    result = run(sandbox, "bash", script)
    assert result.status == "ok", result
    assert result.stdout.strip() == "wrote /tmp/ok"


@pytest.mark.parametrize(
    ("language", "source"),
    [
        (
            "python",
            "import os\ndef main():\n    os.symlink('/etc/shadow', '/tmp/link')\n    return open('/tmp/link').read()\n",
        ),
        ("python", "def main():\n    return open('/tmp/../../etc/shadow').read()\n"),
        ("python", "def main():\n    return open('/proc/1/root/etc/shadow').read()\n"),
        ("python", "def main():\n    return open('/proc/self/root/../../../etc/passwd').read()\n"),
        ("bash", "ln -s /etc/passwd /tmp/p && cat /tmp/p"),
        (
            "javascript",
            "import { readFileSync, symlinkSync } from 'node:fs';\n"
            "export function main() { symlinkSync('/etc/shadow', '/tmp/l'); return readFileSync('/tmp/l', 'utf8'); }",
        ),
    ],
)
def test_symlinks_and_dot_dot_lead_nowhere(sandbox: Sandbox, language: Language, source: str) -> None:
    result = run(sandbox, language, source)
    assert result.status == "error", result
    assert "root:" not in result.stdout + str(result.return_value)


@pytest.mark.parametrize("language", ["python", "bash"])
def test_filling_tmp_stops_at_its_cap(sandbox: Sandbox, language: Language) -> None:
    if language == "python":
        source = """
        def main():
            written = 0
            try:
                with open("/tmp/fill", "wb") as handle:
                    while True:
                        handle.write(b"x" * 1048576)
                        handle.flush()
                        written += 1
            except OSError as error:
                return [written, error.strerror]
        """
    else:
        source = "head -c 100000000 /dev/zero > /tmp/fill; echo $?; stat -c %s /tmp/fill"
    result = run(sandbox, language, source, tmp_mb=8)
    if language == "python":
        assert result.status == "ok" and result.return_value[0] <= 8, result
        assert result.return_value[1] in ("No space left on device", "File too large")
    else:
        assert result.status in ("ok", "killed"), result
        assert int(result.stdout.split()[-1] if result.stdout.split() else 0) <= 8 * 1048576


FORK_BOMBS = {
    "python": "import os\ndef main():\n    while True:\n        os.fork()\n",
    "bash": ":(){ :|:& };:\nwait",
    "javascript": """
        import { spawn } from "node:child_process";
        export async function main() {
          const errors = new Set();
          for (let i = 0; i < 200; i++) spawn("/bin/sleep", ["30"]).on("error", (error) => errors.add(error.code));
          await new Promise((done) => setTimeout(done, 500));
          return [...errors];
        }
    """,
}


@pytest.mark.parametrize("language", ["python", "bash", "javascript"])
def test_a_fork_bomb_hits_the_process_limit(sandbox: Sandbox, language: Language) -> None:
    result = run(sandbox, language, FORK_BOMBS[language], timeout_s=2, processes=16)
    said = (result.error or "") + result.stderr + str(result.return_value)
    assert result.status == "timeout" or "Resource temporarily unavailable" in said or "EAGAIN" in said, result
    assert_no_process_left()


MEMORY_BOMBS = {
    "python": "def main():\n    chunks = []\n    while True:\n        chunks.append(bytearray(10 * 1024 * 1024))\n",
    "bash": "x=$(head -c 2000000000 /dev/zero | tr '\\0' x); echo ${#x}",
    "javascript": "export function main() { const xs = []; while (true) xs.push(new Array(1e6).fill(1)); }",
}


@pytest.mark.parametrize("language", ["python", "bash", "javascript"])
def test_a_memory_bomb_hits_the_memory_limit(sandbox: Sandbox, language: Language) -> None:
    result = run(sandbox, language, MEMORY_BOMBS[language], memory_mb=128)
    assert result.status in ("error", "killed"), result
    assert any(word in (result.error or "") + result.stderr for word in ("MemoryError", "allocate", "memory")), result


def test_shared_memory_mappings_are_capped_too(sandbox: Sandbox) -> None:
    source = "import mmap\ndef main():\n    return len(mmap.mmap(-1, 2 * 1024 ** 3))\n"
    result = run(sandbox, "python", source, memory_mb=128)
    assert result.status == "error" and "Cannot allocate memory" in (result.error or "")


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "def main():\n    while True:\n        pass\n"),
        ("python", "import time\ndef main():\n    time.sleep(60)\n"),
        ("bash", "while :; do :; done"),
        ("javascript", "export function main() { for (;;) {} }"),
        ("javascript", "export function main() { return new Promise(() => setInterval(() => {}, 1000)); }"),
    ],
)
def test_spinning_or_sleeping_past_the_timeout_is_stopped(sandbox: Sandbox, language: Language, source: str) -> None:
    result = run(sandbox, language, source, timeout_s=1)
    assert result.status == "timeout" and result.exit_code is None, result
    assert 1000 <= result.duration_ms < 4000


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", """
         import os, time
         def main():
             if os.fork() == 0:
                 os.setsid()
                 if os.fork() == 0:
                     time.sleep(60)
                 os._exit(0)
             return "parent returned"
         """),
        ("bash", "nohup sleep 60 > /dev/null 2>&1 &\ndisown\necho '\"parent returned\"'"),
        ("javascript", "import { spawn } from 'node:child_process';\n"
         "export function main() { spawn('/bin/sleep', ['60'], { detached: true, stdio: 'ignore' }).unref(); "
         "return 'parent returned'; }"),
    ],
)  # fmt: skip
def test_a_daemon_does_not_outlive_its_run(sandbox: Sandbox, language: Language, source: str) -> None:
    result = run(sandbox, language, source)
    assert result.status == "ok" and result.return_value == "parent returned", result
    assert result.duration_ms < 4000  # the run did not wait for the daemon
    assert_no_process_left()


@pytest.fixture
def listeners(settings: Settings) -> Iterator[dict[str, Any]]:
    """A TCP listener on 127.0.0.1 (the API's stand-in), an abstract unix socket, and the real Postgres and Redis."""
    tcp = socket.create_server(("127.0.0.1", 0))
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(b"\0agentmem-test-" + os.urandom(4).hex().encode())
    abstract.listen()
    postgres = conninfo_to_dict(settings.database_url or "")
    redis_port = int((settings.redis_url or "").rsplit(":", 1)[1].split("/")[0])
    targets: dict[str, Any] = {"tcp": [tcp.getsockname()[1], redis_port], "unix": [abstract.getsockname().decode()]}
    if str(postgres.get("host", "")).startswith("/"):
        targets["unix"].append(f"{postgres['host']}/.s.PGSQL.{postgres.get('port', 5432)}")
    else:
        targets["tcp"].append(int(postgres.get("port", 5432)))
    for port in targets["tcp"]:  # the control: each one answers out here
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    yield targets
    tcp.close()
    abstract.close()


CONNECT_PY = """
import socket
def main(tcp, unix):
    reached = []
    for port in tcp:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
            reached.append(port)
        except OSError:
            pass
    for path in unix:
        client = socket.socket(socket.AF_UNIX)
        try:
            client.connect(path.replace("@", "\\0", 1) if path.startswith("\\0") else path)
            reached.append(path)
        except OSError:
            pass
    return reached
"""


def test_python_reaches_no_host_port_and_no_host_socket(sandbox: Sandbox, listeners: dict[str, Any]) -> None:
    result = run(sandbox, "python", CONNECT_PY, listeners)
    assert result.status == "ok" and result.return_value == [], result


def test_bash_and_javascript_reach_no_host_port(sandbox: Sandbox, listeners: dict[str, Any]) -> None:
    ports = listeners["tcp"]
    script = (
        "for p in "
        + " ".join(map(str, ports))
        + '; do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && echo "reached $p"; done; true'
    )
    assert run(sandbox, "bash", script).stdout == ""
    source = """
    import net from "node:net";
    const reach = (port) => new Promise((done) => {
      const socket = net.connect(port, "127.0.0.1", () => { socket.destroy(); done(port); });
      socket.on("error", () => done(null));
    });
    export async function main({ ports }) { return (await Promise.all(ports.map(reach))).filter((p) => p !== null); }
    """
    result = run(sandbox, "javascript", source, {"ports": ports})
    assert result.status == "ok" and result.return_value == [], result


def test_the_only_interface_is_an_isolated_loopback_with_no_route_out(sandbox: Sandbox) -> None:
    source = """
    import socket
    def main():
        routes = [line.split()[1] for line in open("/proc/net/route").read().splitlines()[1:]]
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect(("192.0.2.1", 9))  # a UDP connect only looks the route up: nothing is sent
            route = "found"
        except OSError as error:
            route = error.strerror
        try:
            socket.getaddrinfo("example.com", 443)
            dns = "resolved"
        except OSError as error:
            dns = type(error).__name__
        return {"interfaces": [name for _, name in socket.if_nameindex()], "routes": routes, "route": route, "dns": dns}
    """
    result = run(sandbox, "python", source)
    assert result.status == "ok", result
    assert result.return_value["interfaces"] == ["lo"] and result.return_value["routes"] == []
    assert result.return_value["route"] == "Network is unreachable" and result.return_value["dns"] == "gaierror"


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "import sys\ndef main():\n    for _ in range(100):\n        sys.stdout.write('x' * 10**6)\n"
                   "    return 'done'\n"),
        ("bash", "head -c 100000000 /dev/zero | tr '\\0' x\necho\necho '\"done\"'"),
        ("javascript", "export function main() {\n"
                       "  for (let i = 0; i < 100; i += 1) process.stdout.write('x'.repeat(1e6));\n"
                       "  return 'done';\n}"),
    ],
)  # fmt: skip
def test_100_mb_of_stdout_is_truncated_and_the_return_value_survives(
    sandbox: Sandbox, language: Language, source: str
) -> None:
    result = run(sandbox, language, source, timeout_s=20)
    assert result.status == "ok" and result.truncated, result.error
    assert len(result.stdout) == 65_536 and result.return_value == "done"


def test_a_huge_return_value_is_an_error_not_a_crash(sandbox: Sandbox) -> None:
    result = run(sandbox, "python", "def main():\n    return 'x' * 3_000_000\n")
    assert result.status == "error" and result.truncated and result.return_value is None
    assert result.error == "the return value is over 1,048,576 bytes"


@pytest.mark.parametrize(
    ("language", "source", "why"),
    [
        ("python", "def main():\n    return object()\n", "the return value is not JSON"),
        ("python", "def main():\n    return float('nan')\n", "the return value is not JSON"),
        ("javascript", "export function main() { return () => 1; }", "the return value is not JSON"),
        ("javascript", "export function main() { return 10n; }", "the return value is not JSON"),
        ("python", "x = 1\n", "the source defines no function main"),
        ("javascript", "export const x = 1;", "the source exports no function main"),
    ],
)
def test_a_return_value_that_is_not_json_is_a_clear_error(
    sandbox: Sandbox, language: Language, source: str, why: str
) -> None:
    result = run(sandbox, language, source)
    assert result.status == "error" and (result.error or "").startswith(why), result


def test_a_plain_run_still_works_after_all_of_that(sandbox: Sandbox) -> None:
    for language, source in (
        ("python", "def main(a, b):\n    return a + b\n"),
        ("bash", "echo $((ARG_A + ARG_B))"),
        ("javascript", "export const main = ({ a, b }) => a + b;"),
    ):
        result = run(sandbox, language, source, {"a": 2, "b": 3})  # type: ignore[arg-type]
        assert (result.status, result.return_value) == ("ok", 5), result


def test_the_server_stays_healthy(http: TestClient) -> None:
    assert http.get("/health").json()["status"] == "ok"
    ready = http.get("/ready").json()
    assert ready["status"] == "ok" and ready["checks"]["sandbox"] == "ok", ready
