"""Runs `keras-dec` commands that die at their k-th file-system event, as SIGKILL would.

A command counts the calls that change files (open for writing, rename,
replace, remove, mkdir, rmtree, ...) and, at call number K, ends its process
with `os._exit` before the call runs: no `finally`, no `except`, no atexit,
exactly what a kill leaves. K = 0 never kills; the number of events is
reported, so a test can pick seeded kill points across a whole run.

`python tests/kill_hook.py` is a small fork server: it imports keras-dec (and
TensorFlow) once, runs nothing itself, and forks one child per request read
from stdin (`{"kill_at": K, "argv": [...], "log": path}` as a JSON line),
answering `{"code": exit code, "events": n}`. A child starts as a fresh
`keras-dec` process would, without the seconds of imports.
"""

import builtins
import json
import os
import shutil
import sys
import tempfile

KILLED = 137


def install(kill_at: int) -> list[int]:
    count = [0]

    def event():
        count[0] += 1
        if count[0] == kill_at:
            os._exit(KILLED)

    def wrap(module, name, writes=None):
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            if writes is None or writes(*args, **kwargs):
                event()
            return original(*args, **kwargs)

        setattr(module, name, wrapper)

    for name in ("replace", "rename", "remove", "unlink", "mkdir", "makedirs", "rmdir", "chmod"):
        wrap(os, name)
    wrap(shutil, "rmtree")
    wrap(tempfile, "mkstemp")
    wrap(tempfile, "mkdtemp")

    def for_writing(file, mode="r", *args, **kwargs):
        return any(c in mode for c in "wax+")

    wrap(builtins, "open", for_writing)
    return count


def child(request: dict, events_fd: int) -> None:
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    count = install(int(request["kill_at"]))
    from keras_dec.cli import main

    code = main(request["argv"])
    os.write(events_fd, str(count[0]).encode())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    import keras_dec.cli  # noqa: F401 - the imports every child shares
    import keras_dec.export.predictors  # noqa: F401
    import keras_dec.export.serving_bundle  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            child(request, write)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        events = os.read(read, 64).decode()
        os.close(read)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"code": code, "events": int(events) if events else None}), flush=True)


if __name__ == "__main__":
    serve()
