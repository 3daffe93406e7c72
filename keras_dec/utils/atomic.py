"""Atomic file writes: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile

# Temporary names are `.<target>.<random><_TMP><suffix>`, e.g. `.m.keras.k2j1.tmp.keras`.
_TMP = ".tmp"
_LEFTOVER = re.compile(rf"\..+\.[^.]+{re.escape(_TMP)}(\.\w+)?")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ""):
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    On any exception the temporary file is removed and `path` is untouched, so
    readers only ever see the old file or the complete new one.

    Examples:
        >>> import os, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "out.txt")
        >>> with atomic_path(target) as tmp:
        ...     _ = open(tmp, "w").write("done")
        >>> open(target).read()
        'done'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=f"{_TMP}{suffix}", dir=folder
    )
    os.close(fd)
    try:
        yield tmp
        # mkstemp makes the file 0600; give it the mode a plain open() would.
        if os.path.isfile(tmp):
            os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def current_umask() -> int:
    """The process umask (reading it means setting it; it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def publish_dir(path: str | os.PathLike) -> None:
    """Gives a folder made by `tempfile.mkdtemp` (0700) the mode `os.makedirs` would."""
    os.chmod(path, 0o777 & ~current_umask())


def remove_leftovers(folder: str | os.PathLike, targets=None) -> list[str]:
    """Deletes the temporary files `atomic_path` left in `folder` when killed.

    A process killed with SIGKILL (or by the OOM killer) mid-write cannot
    clean up; the next run calls this before it writes again. Only names of
    the form `atomic_path` gives (`.<target>.<random>.tmp[suffix]`) are
    touched, and with `targets` (file names) only those of these targets.

    Examples:
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, ".model.keras.x1y2.tmp.keras"), "w")
        >>> remove_leftovers(folder)
        ['.model.keras.x1y2.tmp.keras']
    """
    removed = []
    if not os.path.isdir(folder):
        return removed
    for name in sorted(os.listdir(folder)):
        if _LEFTOVER.fullmatch(name) and (
                targets is None or any(name.startswith(f".{t}.") for t in targets)):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, name))
                removed.append(name)
    return removed


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` (UTF-8), atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)


def write_json(path: str | os.PathLike, obj) -> None:
    """Writes `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")


def save_model(model, path: str | os.PathLike) -> None:
    """`model.save(path)` for a `.keras` file, atomically."""
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
