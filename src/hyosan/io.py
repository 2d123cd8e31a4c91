"""Safe files and folders: atomic writes, output folders that never destroy what hyosan did not
make, and size-capped reads of regular files only.

- :func:`atomic_path` / :func:`write_text`: write to a temporary name beside the target, then
  rename: an interrupted run leaves the old file (or none) or the complete new one.
- :func:`atomic_dir`: a whole output folder (a run folder). ``--out`` may be missing, an empty
  folder, or a folder that hyosan wrote (its marker file :data:`MARKER` lists every file in it);
  anything else is refused in one line. The new folder is built beside the target and swapped in
  so that at every instant the old run or the new one can be found (see :func:`atomic_dir`).
  :func:`recover` finishes or undoes what a crash left, and removes leftover temporary folders.
- :func:`read_bytes` / :func:`read_text`: a user's input file, refused unless it is a regular file
  under a size cap (a tileset whose source is ``/dev/zero`` must not read forever), decoded as
  UTF-8 with or without a BOM; every failure names the file.
- :func:`os_error`: an ``OSError`` as a one-line :class:`~hyosan.errors.HyosanError` naming the path.
- :func:`lock_out_dir` / :func:`out_lock`: one writer per output folder. A lock file beside the
  folder (``.NAME.hyosan-lock``) holds the writer's host and process id under an ``flock``: the
  kernel releases it when the process ends, however it ends, so a dead holder's file is stale
  and the next writer takes it; a second writer while the first lives is refused naming it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hyosan import __version__
from hyosan.errors import HyosanError

#: The marker file of a folder hyosan wrote: its format, the hyosan version and the files it made.
MARKER = ".hyosan.json"
#: Formats of the marker (a run folder; others may follow).
RUN_FORMAT = "hyosan-run/1"
#: Largest input file read by default (bytes); ``HYOSAN_MAX_FILE_BYTES`` overrides it.
MAX_FILE_BYTES = 256 * 1024 * 1024

#: Test hook: called with the name of each step of :func:`atomic_dir`'s swap (crash injection).
_step: Callable[[str], None] = lambda name: None  # noqa: E731


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def os_error(exc: OSError, path: str | Path | None = None, doing: str = "cannot write") -> HyosanError:
    """An OS error as one line naming the path (read-only, no space, not a folder...)."""
    where = str(path if path is not None else (exc.filename or "?"))
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason = "permission denied (read-only?)" if exc.errno != errno.EROFS else "read-only file system"
    elif exc.errno == errno.ELOOP:
        reason = "too many levels of symbolic links (a loop?)"
    return HyosanError(f"{doing}: {reason}", source=where)


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn any OSError inside the block into a one-line HyosanError naming ``path``."""
    try:
        yield
    except OSError as exc:
        raise os_error(exc, exc.filename or path) from None


# -- single files ----------------------------------------------------------------------------------
def claim_file(path: str | Path, suffixes: tuple[str, ...] | None = None, source: str | None = None) -> Path:
    """Check that ``path`` may receive an output file: not a folder nor a device, a known suffix.

    ``suffixes`` (lower case, with the dot) are the formats the writer knows; ``source`` is the flag
    to blame (``--plot``).
    """
    p = Path(path)
    where = source or str(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise os_error(exc, p) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise HyosanError("is a folder, not a file", source=str(p))
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise HyosanError("is not a regular file", source=str(p))
    if suffixes is not None and p.suffix.lower() not in suffixes:
        known = ", ".join(s.lstrip(".") for s in suffixes)
        raise HyosanError(
            f"unknown format {p.suffix or '(no suffix)'!r} (known: {known})",
            source=where,
            field=str(p) if source else None,
        )
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto ``path``."""
    target = Path(path)
    with writing(target):
        if target.is_dir():
            raise HyosanError("is a folder, not a file", source=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        with writing(target):
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes it private; a result is an ordinary file
            yield tmp_path  # an OSError while the caller writes (a full disk) names the target
            os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp, writing(path):
        tmp.write_text(text, encoding="utf-8")


# -- output folders ------------------------------------------------------------------------------
def _old_name(target: Path) -> Path:
    return target.parent / f".{target.name}.hyosan-old"


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}.hyosan-"


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder hyosan wrote (None when absent or unreadable)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("files"), list) else None


def _files_in(folder: Path) -> list[str]:
    """Every entry below ``folder`` (files, links, other things; folders only when empty), as
    relative POSIX paths."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        for d in list(dirs):
            if (Path(root) / d).is_symlink():
                out.append((rel / d).as_posix())
                dirs.remove(d)
        out.extend((rel / f).as_posix() for f in files)
        if not dirs and not files and Path(root) != folder:
            out.append(rel.as_posix() + "/")
    return sorted(out)


def check_out_dir(path: str | Path, source: str | None = None) -> str:
    """Whether ``path`` may receive a run folder: "new", "empty" or "hyosan" (a folder hyosan wrote,
    every file in it listed by its marker); anything else raises a one-line HyosanError."""
    target = Path(path)
    where = {"source": source, "field": str(path)} if source else {"source": str(target)}
    if target.is_symlink():
        raise HyosanError("is a symbolic link: give a plain folder", **where)
    try:
        st = target.stat()
    except FileNotFoundError:
        return "new"
    except OSError as exc:
        raise os_error(exc, target, "cannot use") from None
    if not stat.S_ISDIR(st.st_mode):
        raise HyosanError(
            "exists and is not a folder (hyosan never writes over a file it did not make)", **where
        )
    cwd = Path.cwd().resolve()
    real = target.resolve()
    if real == cwd or real in cwd.parents:
        raise HyosanError("is the current folder or holds it: give a new subfolder", **where)
    try:
        entries = _files_in(target)
    except OSError as exc:
        raise os_error(exc, target, "cannot read") from None
    if not entries:
        return "empty"
    marker = read_marker(target)
    if marker is None:
        raise HyosanError(
            "is not empty and was not written by hyosan (no .hyosan.json): give a new or empty folder",
            **where,
        )
    made = set(marker["files"]) | {MARKER}
    other = [e for e in entries if e not in made]
    if other:
        shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise HyosanError(f"holds files hyosan did not write ({shown}): give a new or empty folder", **where)
    return "hyosan"


# -- one writer per output folder ------------------------------------------------------------------
#: Locks this process holds: lock file -> its open descriptor (the flock lives as long as it).
_HELD: dict[Path, int] = {}


def lock_path(path: str | Path) -> Path:
    """The lock file of output folder ``path`` (beside it: the folder itself is swapped whole)."""
    target = Path(os.path.abspath(path))
    return target.parent / f".{target.name}.hyosan-lock"


def lock_holder(lock: Path) -> tuple[str, int] | None:
    """The host and process id written in a lock file (None when unreadable or empty)."""
    try:
        host, _, pid = lock.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
    except OSError:
        return None
    return (host, int(pid)) if pid.isdigit() else None


def lock_out_dir(path: str | Path, source: str | None = None) -> Path:
    """Take the lock of output folder ``path`` until :func:`release_out_lock` or the process ends;
    a folder another live process writes is refused in one line naming that process."""
    lock = lock_path(path)
    if lock in _HELD:
        return lock
    where = {"source": source, "field": str(path)} if source else {"source": str(path)}
    with writing(lock):
        lock.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(20):
        with writing(lock):
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = None
            for _ in range(10):  # the holder writes its id just after taking the lock
                holder = lock_holder(lock)
                if holder is not None:
                    break
                time.sleep(0.02)
            who = f"process {holder[1]} on {holder[0]}" if holder else "another process"
            raise HyosanError(
                f"another hyosan run ({who}) is writing to this folder; wait for it to finish or give "
                f"another folder (lock: {lock})",
                **where,
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous holder removed the file between our open and our flock
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        _HELD[lock] = fd
        return lock
    raise HyosanError("cannot take the folder's lock (it keeps changing)", **where)


def _remove_stale_lock(path: Path) -> None:
    """Remove the lock file a dead writer left beside ``path`` (nobody holds its flock)."""
    lock = lock_path(path)
    if lock in _HELD or not lock.is_file():
        return
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == os.stat(lock).st_ino:
            lock.unlink()
    except OSError:  # held by a live writer (or gone meanwhile): not ours to remove
        pass
    finally:
        os.close(fd)


def release_out_lock(path: str | Path) -> None:
    """Give back the lock of output folder ``path`` (if this process holds it)."""
    lock = lock_path(path)
    fd = _HELD.pop(lock, None)
    if fd is None:
        return
    with contextlib.suppress(OSError):
        lock.unlink()  # before closing: a waiting writer then sees a new file, not this one
    with contextlib.suppress(OSError):
        os.close(fd)


def release_out_locks() -> None:
    """Give back every output-folder lock this process holds (the CLI's exit)."""
    for lock in list(_HELD):
        release_out_lock(lock.parent / lock.name[1 : -len(".hyosan-lock")])


atexit.register(release_out_locks)


@contextlib.contextmanager
def out_lock(path: str | Path, source: str | None = None) -> Iterator[Path]:
    """Hold the lock of output folder ``path`` for the block (kept if this process held it already)."""
    held = lock_path(path) in _HELD
    lock = lock_out_dir(path, source)
    try:
        yield lock
    finally:
        if not held:
            release_out_lock(path)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a crashed writer's leftovers can go when not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover (someone else's process)
        return True
    return True


def recover(path: str | Path) -> None:
    """Finish or undo what a crashed :func:`atomic_dir` left beside ``path``.

    - ``path`` missing but its old run moved aside (``.NAME.hyosan-old``): the old run goes back.
    - ``path`` present and an old run aside: the swap was done; the old run is removed.
    - temporary folders of processes no longer alive (``.NAME.hyosan-PID-*.tmp``) are removed;
    - a lock file whose writer is gone (``.NAME.hyosan-lock``, nobody holding its flock) is removed.
    """
    target = Path(path)
    parent = target.parent
    if not target.name or not parent.is_dir():
        return
    old = _old_name(target)
    with writing(target):
        if old.is_dir() and not old.is_symlink() and read_marker(old) is not None:
            if not os.path.lexists(target):
                os.rename(old, target)
            elif read_marker(target) is not None:
                shutil.rmtree(old)
        _remove_stale_lock(target)
        prefix = _tmp_prefix(target)
        for tmp in parent.glob(f"{prefix}*.tmp"):
            pid = tmp.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))) and tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)


def _exchange_fn():
    """``renameat2(..., RENAME_EXCHANGE)`` (Linux 3.15+, glibc 2.28+): swap two paths atomically."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _exchange_fn()
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap ``a`` and ``b`` atomically; False when the system cannot (then nothing happened)."""
    if _RENAMEAT2 is None:
        return False
    rc = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextlib.contextmanager
def atomic_dir(path: str | Path, source: str | None = None, fmt: str = RUN_FORMAT) -> Iterator[Path]:
    """Yield a fresh temporary folder beside ``path``; on success it replaces ``path`` whole.

    ``path`` must be new, empty, or a folder hyosan wrote (:func:`check_out_dir`; ``source`` is the
    flag to name when it is not). The new folder gets a marker (:data:`MARKER`) listing its files,
    then the swap:

    1. where the system can, one atomic exchange of the two folders (``renameat2``), so that
       ``path`` is at every instant the old run or the new one; the old one, now under the
       temporary name, is then removed;
    2. elsewhere, the old folder is renamed to ``.NAME.hyosan-old`` (a fixed name), the new one into
       place, the old one removed. A crash between the two renames leaves ``path`` missing for
       that instant; :func:`recover` (called by the next run, ``hyosan report`` and ``hyosan
       verify``) puts the old run back.

    Temporary folders of crashed runs are removed by :func:`recover`.
    """
    target = Path(os.path.abspath(path))
    if not target.name:
        raise HyosanError("is the root folder: give a new subfolder", source=source or str(path))
    with out_lock(target, source):
        with _atomic_dir(target, source, fmt) as tmp:
            yield tmp


@contextlib.contextmanager
def _atomic_dir(target: Path, source: str | None, fmt: str) -> Iterator[Path]:
    recover(target)
    check_out_dir(target, source)
    with writing(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            tempfile.mkdtemp(prefix=f"{_tmp_prefix(target)}{os.getpid()}-", suffix=".tmp", dir=target.parent)
        )
        os.chmod(tmp, 0o777 & ~_umask())
    _step("tmp-created")
    try:
        with writing(target):
            yield tmp
        _step("written")
        with writing(target):
            files = [f for f in _files_in(tmp) if f != MARKER]
            marker = {
                "format": fmt,
                "hyosan": __version__,
                "files": files,
                "sha256": {f: file_digest(tmp / f) for f in files if (tmp / f).is_file()},
            }
            (tmp / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
            _step("marked")
            # The target may have changed while we wrote (another run): check again.
            kind = check_out_dir(target, source)
            if kind == "new":
                os.rename(tmp, target)
                _step("new-in-place")
                return
            if _exchange(tmp, target):
                _step("exchanged")  # tmp now holds the old run
                shutil.rmtree(tmp, ignore_errors=True)
                _step("old-removed")
                return
            old = _old_name(target)
            if os.path.lexists(old):
                shutil.rmtree(old)
            os.rename(target, old)
            _step("old-moved")
            os.rename(tmp, target)
            _step("new-in-place")
            shutil.rmtree(old, ignore_errors=True)
            _step("old-removed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file (the marker records one per file, so that damage can be named)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def add_to_marker(folder: str | Path, *names: str) -> None:
    """Record files hyosan (re)wrote in a folder it made (``hyosan report`` rewriting report.html)."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is None:
        return
    files = sorted(set(marker["files"]) | set(names))
    digests = dict(marker.get("sha256") or {})
    digests.update({n: file_digest(folder / n) for n in names if (folder / n).is_file()})
    write_text(folder / MARKER, json.dumps({**marker, "files": files, "sha256": digests}, indent=1) + "\n")


# -- reading inputs --------------------------------------------------------------------------------
def max_file_bytes() -> int:
    """The cap on input files: :data:`MAX_FILE_BYTES`, or ``HYOSAN_MAX_FILE_BYTES`` when set."""
    text = os.environ.get("HYOSAN_MAX_FILE_BYTES", "")
    return int(text) if text.isdigit() else MAX_FILE_BYTES


def read_bytes(path: str | Path, source: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default :func:`max_file_bytes`);
    devices, FIFOs, folders, symlink loops and oversized files are refused naming the file."""
    p = Path(path)
    where = source or str(p)
    limit = max_file_bytes() if limit is None else limit
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise HyosanError("cannot read: no such file", source=where) from None
    except OSError as exc:
        raise os_error(exc, where, "cannot read") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise HyosanError("is a folder, not a file", source=where)
        if not stat.S_ISREG(st.st_mode):
            raise HyosanError("is not a regular file (a device or a pipe?)", source=where)
        if st.st_size > limit:
            raise HyosanError(
                f"is {st.st_size} bytes, over the limit of {limit} (HYOSAN_MAX_FILE_BYTES)", source=where
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise os_error(exc, where, "cannot read") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise HyosanError(f"is over the limit of {limit} bytes (HYOSAN_MAX_FILE_BYTES)", source=where)
    return data


def decode(data: bytes, source: str) -> str:
    """UTF-8 text with or without a BOM; an encoding error names the file and the byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise HyosanError(
            f"is not UTF-8 text (byte 0x{byte:02x} at line {line}); save it as UTF-8", source=source
        ) from None


def read_text(path: str | Path, source: str | None = None, limit: int | None = None) -> str:
    """:func:`read_bytes` decoded by :func:`decode`."""
    return decode(read_bytes(path, source, limit), source or str(path))


def save_figure(fig, path: str | Path) -> None:
    """Write a matplotlib figure atomically, in the format its suffix names (PNG by default),
    and close it."""
    # Imported here: matplotlib is heavy: loaded when a figure is drawn.
    import matplotlib.pyplot as plt

    try:
        fmt = Path(path).suffix.lstrip(".").lower() or "png"
        supported = fig.canvas.get_supported_filetypes()
        if fmt not in supported:
            raise HyosanError(
                f"unknown figure format {fmt!r} (known: {', '.join(sorted(supported))})", source=str(path)
            )
        claim_file(path)
        with atomic_path(path) as tmp, writing(path):
            fig.savefig(tmp, format=fmt)
    finally:
        plt.close(fig)
