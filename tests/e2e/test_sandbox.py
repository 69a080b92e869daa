"""Hostile functions, end to end through Invoke. Each asserts what the caller gets and
that the platform and other functions still work afterwards."""
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import LAMINA_BIN, Lamina, create, function_zip, invoke_json, log_of, zip_bytes
from test_invoke import uid_processes, wait_until_gone

HOSTILE = function_zip("hostile.py", "app.py")


@pytest.fixture
def lam(lamina):
    lam = lamina.client()
    create(lam, "healthy", code=HOSTILE, handler="app.handler")
    return lam


def assert_healthy(lam, lamina):
    r, body = invoke_json(lam, "healthy", {"action": "echo", "still": "here"})
    assert "FunctionError" not in r and body["event"]["still"] == "here"
    status, _, _ = lamina.http("GET", "/2016-08-19/account-settings")
    assert status == 200


def hostile(lam, name, handler, **kw):
    create(lam, name, code=HOSTILE, handler=f"hostile.{handler}", **kw)


def test_memory_bomb_is_out_of_memory(lamina, lam):
    hostile(lam, "membomb", "memory_bomb", MemorySize=128, Timeout=30)
    r = lam.invoke(FunctionName="membomb", Payload=b"{}", LogType="Tail")
    body = json.loads(r["Payload"].read())
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Runtime.OutOfMemory",
                    "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: signal: killed"}
    report = re.search(r"Memory Size: 128 MB\tMax Memory Used: (\d+) MB", log_of(r))
    assert report and 100 <= int(report.group(1)) <= 128, log_of(r)
    assert_healthy(lam, lamina)


def test_a_128mb_function_sees_a_real_128mb_limit(lam):
    create(lam, "limits", code=HOSTILE, handler="app.handler", MemorySize=128)
    _, ctx = invoke_json(lam, "limits", {"action": "context"})
    assert ctx["memory_limit_in_mb"] == "128"
    hostile(lam, "membomb2", "memory_bomb", MemorySize=256, Timeout=30)
    r = lam.invoke(FunctionName="membomb2", Payload=b"{}", LogType="Tail")
    used = int(re.search(r"Max Memory Used: (\d+) MB", log_of(r)).group(1))
    assert 200 <= used <= 256, "a bigger MemorySize allows more"


def test_the_process_limit_is_awss_742_and_stops_forks(lamina, lam):
    hostile(lam, "forks", "fork_counter", Timeout=30, MemorySize=2048)
    r, body = invoke_json(lam, "forks", {})
    assert "FunctionError" not in r, body
    assert body["error"] == "EAGAIN"
    # The runtime's own process and threads count against the environment's 742.
    assert 700 <= body["forked"] < 742, body
    assert_healthy(lam, lamina)


def test_functions_run_under_awss_resource_limits(lam):
    import resource
    hostile(lam, "limits", "limits")
    _, got = invoke_json(lam, "limits", {})

    def aws(name, value):
        """AWS's value, where this host's hard limit (the server's, as this test's) allows it."""
        hard = resource.getrlimit(getattr(resource, name))[1]
        return value if hard == -1 else min(value, hard)

    # Core files are written inside the environment, as on AWS, unless the kernel would
    # hand them to a host program.
    piped = open("/proc/sys/kernel/core_pattern").read().startswith("|")
    core = 0 if piped else aws("RLIMIT_CORE", 10 * 1024 ** 3)
    memlock, nproc = aws("RLIMIT_MEMLOCK", 65536), aws("RLIMIT_NPROC", 742)
    stack_hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
    assert got == {"RLIMIT_CORE": [core, core], "RLIMIT_MEMLOCK": [memlock, memlock], "RLIMIT_NOFILE": [1024, 1024],
                   "RLIMIT_NPROC": [nproc, nproc], "RLIMIT_STACK": [aws("RLIMIT_STACK", 8 * 1024 ** 2), stack_hard]}, got


def test_fork_bomb_times_out_and_leaves_nothing(lamina, lam):
    hostile(lam, "bomb", "fork_bomb", Timeout=2)
    uid = invoke_json(lam, "bomb", {"uid": True})[1]
    r, body = invoke_json(lam, "bomb", {})
    # Stopped by the pids limit until the timeout, or by the memory limit first.
    assert body["errorType"] in ("Sandbox.Timedout", "Runtime.OutOfMemory"), body
    assert wait_until_gone(uid), "fork bomb processes survived"
    assert_healthy(lam, lamina)


def test_tmp_fills_at_its_configured_size_not_before(lamina, lam):
    hostile(lam, "filler", "tmp_filler", MemorySize=128, Timeout=120)
    r, body = invoke_json(lam, "filler", {})
    assert "FunctionError" not in r, body
    assert body["error"] == "ENOSPC"
    mb = body["written"] / (1024 * 1024)
    assert 512 <= mb <= 512 * 1.02, f"/tmp took {mb:.1f} MB; a 128 MB function has 512 MB of /tmp"
    assert_healthy(lam, lamina)


def test_two_gb_of_tmp_is_usable(lam):
    hostile(lam, "bigtmp", "tmp_allocate", EphemeralStorage={"Size": 2048}, Timeout=60)
    r, body = invoke_json(lam, "bigtmp", {"mb": 2048})
    assert "FunctionError" not in r, body
    assert body == {"allocated_mb": 2048, "more": "ENOSPC"}


def test_the_entrypoint_is_where_aws_keeps_it(lam):
    _, st = invoke_json(lam, "healthy", {"action": "stat", "path": "/lambda-entrypoint.sh"})
    assert (st["mode"], st["uid"], st["gid"]) == ("0o100755", 0, 0)


def test_code_and_root_are_read_only(lam):
    hostile(lam, "writer", "writer")
    _, body = invoke_json(lam, "writer", {})
    assert body == {"/var/task/evil.py": "EROFS", "/var/runtime/evil": "EROFS", "/evil": "EROFS",
                    "/usr/evil": "EROFS", "/tmp/fine": "ok"}


def test_data_directory_other_code_and_host_secrets_are_invisible(lamina, lam):
    hostile(lam, "reader", "reader")
    other_code = next((lamina.data_dir / "code" / "blobs").iterdir())
    paths = [str(lamina.data_dir), str(lamina.data_dir / "state.db"), str(other_code), "/etc/shadow",
             "/root/.ssh", "/var/task/hostile.py"]
    _, body = invoke_json(lam, "reader", {"paths": paths})
    for path in paths[:-1]:
        assert body[path] == "ENOENT", (path, body[path])
    assert body["/var/task/hostile.py"] == "ok", "its own code is readable"


def test_a_function_sees_only_its_own_processes_as_an_unprivileged_user(lam):
    hostile(lam, "lister", "lister")
    _, body = invoke_json(lam, "lister", {})
    assert body["pids"] == [1, 2] or (len(body["pids"]) <= 3 and body["pids"][:2] == [1, 2]), body["pids"]
    assert body["uid"] != 0 and body["gid"] != 0
    assert re.search(r"^CapEff:\s+0+$", body["status"], re.M)
    assert re.search(r"^CapBnd:\s+0+$", body["status"], re.M)
    assert re.search(r"^NoNewPrivs:\s+1$", body["status"], re.M)
    assert re.search(r"^Seccomp:\s+2$", body["status"], re.M)


def test_mount_ptrace_and_escalation_are_refused(lam):
    hostile(lam, "sys", "syscalls")
    _, body = invoke_json(lam, "sys", {})
    assert body["mount"] == "EPERM"
    assert body["ptrace"] == "EPERM"
    assert body["unshare"] == "EPERM"
    assert body["setuid0"] == "EPERM"
    assert re.search(r"Max open files\s+1024\s+1024", body["nofile"])


def test_orphaned_grandchildren_are_gone_after_a_timeout(lam):
    create(lam, "orphans", code=HOSTILE, handler="app.handler", Timeout=1)
    marker = "%d.%d" % (os.getpid(), time.monotonic_ns() % 10**9)
    r, body = invoke_json(lam, "orphans", {"action": "spawn_and_hang", "marker": marker})
    assert body["errorType"] == "Sandbox.Timedout"
    assert wait_until_gone(f"sleep {marker}")


def test_idle_environments_are_frozen(lam):
    create(lam, "frozen", code=HOSTILE, handler="app.handler")
    _, body = invoke_json(lam, "frozen", {"action": "echo"})
    pids = uid_processes(body["uid"])
    assert pids
    states = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states = {open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] for p in pids}
        if states <= {"D", "S"} and any(
                open(f"/proc/{p}/wchan").read() in ("do_freezer_trap", "__refrigerator", "refrigerator")
                for p in pids):
            break
        time.sleep(0.02)
    wchans = {open(f"/proc/{p}/wchan").read() for p in pids}
    assert wchans & {"do_freezer_trap", "__refrigerator", "refrigerator"}, wchans
    r, _ = invoke_json(lam, "frozen", {"action": "echo"})
    assert "FunctionError" not in r, "a frozen environment thaws for its next invocation"


def test_another_environments_runtime_api_is_out_of_reach(lamina, lam):
    hostile(lam, "victim", "whoami")
    _, victim = invoke_json(lam, "victim", {})
    hostile(lam, "thief", "runtime_api")
    # The victim's environment is idle, its runtime waiting in /next: a thief that could
    # connect would be handed the victim's next invocation.
    _, stolen = invoke_json(lam, "thief", {"address": victim["runtime_api"]})
    assert stolen in ({"got": ""}, {"error": "ECONNRESET"}), stolen
    _, again = invoke_json(lam, "victim", {})
    assert again["environment"] == victim["environment"], "the victim's environment is intact"
    assert_healthy(lam, lamina)


def test_network_modes(tmp_path, lamina, lam):
    # host (the default): the host's network is reachable, as from AWS Lambda.
    hostile(lam, "net", "network")
    target = f"127.0.0.1:{lamina.port}"
    _, body = invoke_json(lam, "net", {"target": target})
    assert body["reach"] == "ok"
    # none: loopback only, and the Runtime API inside it at AWS's own address.
    isolated = Lamina(tmp_path / "isolated", config='[sandbox]\nnetwork = "none"\n').start()
    try:
        iso = isolated.client()
        hostile(iso, "net", "network")
        r, body = invoke_json(iso, "net", {"target": target})
        assert "FunctionError" not in r, body
        assert body == {"runtime_api": "127.0.0.1:9001", "reach": "ECONNREFUSED"}
        assert invoke_json(iso, "net", {"target": target})[1]["reach"] == "ECONNREFUSED", "warm reuse works"
        # Node runtimes started ahead warm up on the namespace's own loopback.
        create(iso, "node-net", runtime="nodejs20.x", handler="index.handler",
               code=zip_bytes({"index.js": "exports.handler = async () => process.env.AWS_LAMBDA_RUNTIME_API;"}))
        assert [invoke_json(iso, "node-net", {})[1] for _ in range(2)] == ["127.0.0.1:9001"] * 2
    finally:
        isolated.stop()


def test_prestarted_runtimes_become_their_function(lam):
    # After the first Python cold start, the sandbox keeps Python runtimes started ahead
    # of time; each must still become exactly the function it is given.
    for i in range(4):
        create(lam, f"pre{i}", code=HOSTILE, handler="app.handler", MemorySize=128 + 64 * i,
               Environment={"Variables": {"WHICH": f"function-{i}"}})
    for i in range(4):
        _, ctx = invoke_json(lam, f"pre{i}", {"action": "context"})
        assert ctx["function_name"] == f"pre{i}"
        assert ctx["memory_limit_in_mb"] == str(128 + 64 * i)
        assert ctx["env"]["WHICH"] == f"function-{i}"
        assert ctx["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
        assert "LAMINA_PRESTART" not in ctx["env"]


NODE_CONTEXT = """
const v8 = require("v8");
exports.handler = async (event, context) => ({
  functionName: context.functionName,
  memory: context.memoryLimitInMB,
  cwd: process.cwd(),
  env: process.env,
  heapLimitMb: v8.getHeapStatistics().heap_size_limit / 1048576,
  gc: typeof gc,
  noDeprecation: process.noDeprecation === true,
});
"""


def test_prestarted_node_runtimes_become_their_function(lam):
    # Node runtimes are started ahead too. V8 sizes its heap as Node starts, so each
    # still gets the heap of its own function's memory, as on AWS (a tenth young, the rest
    # old, and `gc` exposed), and its own NODE_OPTIONS.
    sizes = [128, 128, 1024, 1024]
    for i, mb in enumerate(sizes):
        env = {"WHICH": f"function-{i}"}
        if i == 1:
            env["NODE_OPTIONS"] = "--no-deprecation"
        create(lam, f"node-pre{i}", runtime="nodejs20.x", handler="index.handler",
               code=zip_bytes({"index.js": NODE_CONTEXT}), MemorySize=mb, Environment={"Variables": env})
    for i, mb in enumerate(sizes):
        r, ctx = invoke_json(lam, f"node-pre{i}", {})
        assert "FunctionError" not in r, ctx
        assert (ctx["functionName"], ctx["memory"], ctx["cwd"]) == (f"node-pre{i}", str(mb), "/var/task")
        assert ctx["env"]["WHICH"] == f"function-{i}"
        assert "LAMINA_PRESTART" not in ctx["env"]
        assert mb < ctx["heapLimitMb"] < mb * 1.2, ctx["heapLimitMb"]
        assert ctx["gc"] == "function"
        assert ctx["noDeprecation"] == (i == 1), "NODE_OPTIONS is read as Node starts"


def started_ahead(server_pid, script):
    """Runtimes waiting for a function under the server `server_pid`: processes running
    Lamina's client `script` that were started ahead (LAMINA_PRESTART=1)."""
    def parent(pid):
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if script.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                if b"LAMINA_PRESTART=1" not in f.read().split(b"\0"):
                    continue
            p = int(pid)
            while p > 1 and p != server_pid:
                p = parent(p)
        except (FileNotFoundError, ProcessLookupError):
            continue
        if p == server_pid:
            found.append(int(pid))
    return found


def test_a_restarted_server_starts_the_runtimes_its_predecessor_started_ahead(tmp_path):
    server = Lamina(tmp_path / "ahead").start()
    try:
        lam = server.client()
        create(lam, "once", runtime="nodejs20.x", handler="index.handler",
               code=zip_bytes({"index.js": "exports.handler = async () => 1;"}))
        assert invoke_json(lam, "once", {})[1] == 1
        lam.delete_function(FunctionName="once")
        server.restart()
        # No function is stored, so none asks for Node: the runtimes started are those
        # the last server started ahead.
        deadline = time.monotonic() + 30
        while not started_ahead(server.proc.pid, "bootstrap.js"):
            assert time.monotonic() < deadline, "no Node runtime was started ahead"
            time.sleep(0.05)
        create(lam, "next", runtime="nodejs20.x", handler="index.handler",
               code=zip_bytes({"index.js": "exports.handler = async () => 2;"}))
        assert invoke_json(lam, "next", {})[1] == 2
    finally:
        server.stop()


def metric(lamina, name):
    _, _, body = lamina.http("GET", "/_lamina/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError(f"no metric {name}")


def test_environments_outlive_the_threads_that_launched_them(lamina, lam):
    """Environments are launched from a pool of threads that retire when idle; a thread's
    exit must not take the environments it started with it."""
    from concurrent.futures import ThreadPoolExecutor

    create(lam, "burst", code=function_zip("app.py"))
    tasks = f"/proc/{lamina.proc.pid}/task"
    baseline = len(os.listdir(tasks))

    def sleep(_):
        r, body = invoke_json(lam, "burst", {"action": "sleep", "seconds": 0.5})
        assert "FunctionError" not in r, body
        return body["environment"]

    with ThreadPoolExecutor(6) as pool:
        first = set(pool.map(sleep, range(6)))
    started = metric(lamina, "lamina_environments_started_total")
    assert len(os.listdir(tasks)) > baseline, "the burst started launcher threads"
    for _ in range(400):  # the launcher threads retire after about 10 s idle
        if len(os.listdir(tasks)) <= baseline:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the launcher threads never retired")
    with ThreadPoolExecutor(6) as pool:
        second = set(pool.map(sleep, range(6)))
    assert second == first, "the same warm environments answered"
    assert metric(lamina, "lamina_environments_started_total") == started


def test_namespaces_raw_packet_and_netlink_sockets_are_refused(lamina, lam):
    hostile(lam, "ns", "namespaces")
    r, body = invoke_json(lam, "ns", {})
    assert "FunctionError" not in r, body
    refused = ["clone_newuser", "clone_newuser_newnet", "clone_newns", "clone_newpid", "clone_high_bits",
               "unshare_newuser", "packet", "packet_high_bits", "raw_inet", "netlink_netfilter", "netlink_audit",
               "bpf", "perf_event_open", "userfaultfd", "keyctl"]
    assert {k: body[k] for k in refused} == {k: "EPERM" for k in refused}
    # clone3 answers ENOSYS, as under Docker's default profile, so the C library uses clone.
    assert (body["clone3_newuser"], body["clone3_plain"]) == ("ENOSYS", "ENOSYS")
    assert {k: body[k] for k in ["netlink_route", "tcp", "udp", "unix"]} == dict.fromkeys(
        ["netlink_route", "tcp", "udp", "unix"], "ok")
    assert (body["fork"], body["subprocess"]) == (7, "sub\n")
    assert_healthy(lam, lamina)


def frozen_uids(lam, names):
    """Invokes each function once and waits until its environment is frozen; returns
    their uids."""
    uids = []
    for name in names:
        create(lam, name, code=HOSTILE, handler="app.handler")
        _, body = invoke_json(lam, name, {"action": "echo"})
        uids.append(body["uid"])
    deadline = time.monotonic() + 10
    for uid in uids:
        while not any(open(f"/proc/{p}/wchan").read() in ("do_freezer_trap", "__refrigerator", "refrigerator")
                      for p in uid_processes(uid)):
            assert time.monotonic() < deadline, "idle environments are frozen"
            time.sleep(0.02)
    return uids


def cgroup_dirs_of(pid):
    return [d for d in ("/sys/fs/cgroup/lamina", "/sys/fs/cgroup/freezer/lamina", "/sys/fs/cgroup/memory/lamina",
                        "/sys/fs/cgroup/pids/lamina", "/sys/fs/cgroup/cpu/lamina")
            if os.path.isdir(f"{d}/{pid}")]


def test_kill_9_of_the_server_leaves_no_process_behind(tmp_path):
    server = Lamina(tmp_path / "data").start()
    lam = server.client()
    uids = frozen_uids(lam, ["idle-a", "idle-b"])
    pid = server.proc.pid
    assert cgroup_dirs_of(pid)
    server.kill9()
    # Frozen environments, ready cells and helpers: all gone, with their groups, without
    # waiting for another start.
    for uid in uids:
        assert wait_until_gone(uid), uid
    deadline = time.monotonic() + 10
    while cgroup_dirs_of(pid):
        assert time.monotonic() < deadline, cgroup_dirs_of(pid)
        time.sleep(0.02)
    assert wait_until_gone(str(tmp_path / "data"))


def test_two_servers_on_one_host_keep_their_environments_apart(tmp_path):
    a = Lamina(tmp_path / "a").start()
    b = Lamina(tmp_path / "b").start()
    try:
        uids = {}
        for name, server in (("a", a), ("b", b)):
            lam = server.client()
            create(lam, "who", code=HOSTILE, handler="app.handler")
            uids[name] = {invoke_json(lam, "who", {"action": "echo"})[1]["uid"] for _ in range(3)}
        assert not uids["a"] & uids["b"]
        # Each one's environments take their own invocations, many times over, side by side.
        def hammer(server, results):
            lam = server.client()
            for i in range(20):
                r, body = invoke_json(lam, "who", {"action": "echo", "i": i})
                results.append("FunctionError" not in r and body["event"]["i"] == i)
        results = []
        threads = [threading.Thread(target=hammer, args=(s, results)) for s in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == [True] * 80
    finally:
        a.stop()
        b.stop()


def test_a_second_server_on_the_same_data_directory_refuses_to_start(lamina):
    second = subprocess.run([LAMINA_BIN, "serve", "--port", "0", "--data-dir", str(lamina.data_dir)],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert f"data directory {lamina.data_dir.resolve()} is in use by another `lamina serve` (pid {lamina.proc.pid})" \
        in second.stderr
    # The first one is untouched.
    assert lamina.client().list_functions()["Functions"] == []
