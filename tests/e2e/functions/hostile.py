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
    for _ in range(event["megabytes"] * 16):
        out.write(line)
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
