"""One writer per folder: an exclusive `flock` that the kernel releases when its process dies."""

from __future__ import annotations

import contextlib
import fcntl
import os

from keras_dec.errors import FolderInUseError

LOCK_FILE = ".keras-dec.lock"


@contextlib.contextmanager
def exclusive_folder(folder: str | os.PathLike, purpose: str):
    """Holds an exclusive lock on `folder` (created if needed) for the `with` block.

    A second process asking for the same folder fails at once with
    `FolderInUseError` naming the holder's pid, instead of interleaving its
    writes with the first. A killed holder's lock goes with its process, so
    a stale lock file never blocks anyone.

    Examples:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with exclusive_folder(folder, "training"):
        ...     try:
        ...         with exclusive_folder(folder, "training"):
        ...             pass
        ...     except FolderInUseError as e:
        ...         print("refused")
        refused
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, LOCK_FILE)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise FolderInUseError(
                f"{folder!r} is in use by another keras-dec process (pid {holder}, "
                f"{purpose}). Wait for it to finish, or use another folder."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing the file releases the lock
