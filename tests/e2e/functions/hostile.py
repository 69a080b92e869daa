"""Functions that misbehave on purpose; each reports what the sandbox let it do."""
import ctypes
import errno
import os
import socket
import time


def memory_bomb(event, context):
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def log_flood(event, context):
    """Prints `megabytes` of output as fast as it can, in 64 KiB lines."""
    line = "y" * (64 * 1024 - 1) + "\n"
    out = os.fdopen(1, "w", buffering=1 << 20, closefd=False)
    lines = event["megabytes"] * 16
    for _ in range(lines):
        out.write(line)
    out.write(f"flooded: {lines} lines\n")
    out.flush()
    return "flooded"


def fork_counter(event, context):
    """Forks children that wait, until the kernel refuses; returns how many it got."""
    count = 0
    try:
        for _ in range(5000):
            pid = os.fork()
            if pid == 0:
                os.execv("/bin/sleep", ["sleep", "60"])
            count += 1
    except OSError as e:
        return {"forked": count, "error": errno.errorcode.get(e.errno, str(e.errno))}
    return {"forked": count, "error": None}


def limits(event, context):
    """The resource limits the function runs under, as (soft, hard); -1 is unlimited."""
    import resource
    names = ["RLIMIT_CORE", "RLIMIT_MEMLOCK", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_STACK"]
    return {n: list(resource.getrlimit(getattr(resource, n))) for n in names}


def fork_bomb(event, context):
    if event.get("uid"):
        return os.getuid()
    while True:
        try:
            os.fork()
        except OSError:
            pass


def tmp_filler(event, context):
    chunk = b"\0" * (1024 * 1024)
    written = 0
    try:
        with open("/tmp/fill", "wb") as f:
            while True:
                f.write(chunk)
                f.flush()
                written += len(chunk)
    except OSError as e:
        return {"written": written, "error": errno.errorcode.get(e.errno, str(e.errno))}


def tmp_allocate(event, context):
    """Reserves event["mb"] MB in /tmp without writing it, then tries one MB more."""
    fd = os.open("/tmp/big", os.O_CREAT | os.O_WRONLY)
    os.posix_fallocate(fd, 0, event["mb"] * 1024 * 1024)
    try:
        os.posix_fallocate(fd, event["mb"] * 1024 * 1024, 64 * 1024 * 1024)
        more = None
    except OSError as e:
        more = errno.errorcode.get(e.errno, str(e.errno))
    return {"allocated_mb": os.fstat(fd).st_size // (1024 * 1024), "more": more}


def _try(fn):
    try:
        fn()
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def writer(event, context):
    def write(path):
        with open(path, "w") as f:
            f.write("x")
    return {path: _try(lambda p=path: write(p)) for path in ["/var/task/evil.py", "/var/runtime/evil", "/evil", "/usr/evil", "/tmp/fine"]}


def reader(event, context):
    return {path: _try(lambda p=path: os.listdir(p) if os.path.isdir(p) else open(p).read()) for path in event["paths"]}


def lister(event, context):
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    return {"pids": pids, "uid": os.getuid(), "gid": os.getgid(), "hostname": socket.gethostname(),
            "status": open("/proc/self/status").read()}


def syscalls(event, context):
    libc = ctypes.CDLL(None, use_errno=True)

    def call(fn, *args):
        r = fn(*args)
        return "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

    PTRACE_TRACEME = 0
    return {
        "mount": call(libc.mount, b"tmpfs", b"/tmp", b"tmpfs", 0, None),
        "ptrace": call(libc.ptrace, PTRACE_TRACEME, 0, None, None),
        "unshare": call(libc.unshare, 0x00020000),
        "setuid0": call(libc.setuid, 0),
        "nofile": open("/proc/self/limits").read(),
    }


def runtime_api(event, context):
    """Tries to take another environment's invocation through its Runtime API."""
    host, _, port = event["address"].rpartition(":")
    try:
        s = socket.create_connection((host, int(port)), timeout=2)
        s.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
        return {"got": data.decode("latin-1")[:200]}
    except OSError as e:
        return {"error": errno.errorcode.get(e.errno, str(e))}


def whoami(event, context):
    return {"runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"], "environment": context.log_stream_name}


def network(event, context):
    """Reports the Runtime API address and whether the host's loopback is reachable."""
    host, _, port = event["target"].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        reach = "ok"
    except OSError as e:
        reach = errno.errorcode.get(e.errno, str(e)) if e.errno else "timeout"
    return {"runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"], "reach": reach}


def namespaces(event, context):
    """Tries every way into a namespace of its own, and the sockets root in one could
    open; reports each call's errno name, or "ok"."""
    import platform
    import struct
    import threading
    import subprocess

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    arm = platform.machine() in ("aarch64", "arm64")
    SYS_clone, SYS_clone3, SYS_socket = (220, 435, 198) if arm else (56, 435, 41)
    CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID = 0x10000000, 0x40000000, 0x00020000, 0x20000000
    SIGCHLD = 17

    def raw(nr, *args):
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        if r == 0 and nr in (SYS_clone, SYS_clone3):
            os._exit(0)  # the child of a clone that went through
        if r >= 0:
            if nr in (SYS_clone, SYS_clone3):
                os.waitpid(r, 0)
            else:
                os.close(r)
            return "ok"
        e = ctypes.get_errno()
        return errno.errorcode.get(e, str(e))

    def clone3(flags):
        args = ctypes.create_string_buffer(struct.pack("<11Q", flags, 0, 0, 0, SIGCHLD, 0, 0, 0, 0, 0, 0))
        return raw(SYS_clone3, ctypes.addressof(args), 88)

    def sock(family, kind, proto=0):
        try:
            socket.socket(family, kind, proto).close()
            return "ok"
        except OSError as e:
            return errno.errorcode.get(e.errno, str(e.errno))

    out = {
        "clone_newuser": raw(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
        "clone_newuser_newnet": raw(SYS_clone, CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0),
        "clone_newns": raw(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0),
        "clone_newpid": raw(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0),
        # The high half of an int argument is ignored by the kernel: it must not slip past.
        "clone_high_bits": raw(SYS_clone, (1 << 40) | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
        "clone3_newuser": clone3(CLONE_NEWUSER),
        "clone3_plain": clone3(0),
        "unshare_newuser": "ok" if libc.unshare(CLONE_NEWUSER) == 0 else errno.errorcode[ctypes.get_errno()],
        "packet": sock(socket.AF_PACKET, socket.SOCK_RAW),
        "packet_high_bits": raw(SYS_socket, (1 << 36) | socket.AF_PACKET, socket.SOCK_RAW, 0),
        "raw_inet": sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
        "netlink_netfilter": sock(socket.AF_NETLINK, socket.SOCK_RAW, 12),
        "netlink_audit": sock(socket.AF_NETLINK, socket.SOCK_RAW, 9),
        "netlink_route": sock(socket.AF_NETLINK, socket.SOCK_RAW, 0),
        "tcp": sock(socket.AF_INET, socket.SOCK_STREAM),
        "udp": sock(socket.AF_INET, socket.SOCK_DGRAM),
        "unix": sock(socket.AF_UNIX, socket.SOCK_STREAM),
        "bpf": raw(280 if arm else 321, 0, 0, 0),
        "perf_event_open": raw(241 if arm else 298, 0, 0, -1, -1, 0),
        "userfaultfd": raw(282 if arm else 323, 0),
        "keyctl": raw(219 if arm else 250, 0, 0, 0, 0, 0),
    }
    # What programs do every day still works: threads, fork, and a subprocess.
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    out["subprocess"] = subprocess.run(["/bin/sh", "-c", "echo sub"], capture_output=True, text=True).stdout
    return out
