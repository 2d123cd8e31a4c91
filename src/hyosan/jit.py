"""How hyosan compiles its kernels, and where numba keeps them.

Every kernel is ``numba.njit(cache=True, ...)``. numba's own cache checks only the file that
defines a function: when a function it calls, in another file, changes, the old machine code is
loaded anyway (a developer's edit silently not taking effect, or a user's upgrade running the
previous version's kernels). So hyosan keeps its compiled kernels in a folder of their own per
*kernel source*: ``<cache>/<hyosan version>-<numba version>-<hash>/``, where the hash covers
every module that defines a kernel, all of ``rules/`` and the constants the kernels read
(states, tiles). Any edit to any of them, or an upgrade, compiles afresh into a new folder.

``<cache>`` is ``$HYOSAN_CACHE_DIR``, else the user's cache folder (``$XDG_CACHE_HOME/hyosan``
or ``~/.cache/hyosan``); where it cannot be written, numba's usual places are used.
Functions outside hyosan are left to numba's usual rules.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba.core.caching import CacheImpl, _CacheLocator, _SourceFileBackedLocatorMixin

from hyosan import __version__

PACKAGE = Path(__file__).resolve().parent
#: Modules whose values the kernels compile in as constants (besides rules/, all of it).
CONSTANTS = ("states.py", "world/tiles.py", "jit.py")
#: A module defines kernels when its source has one of these.
MARKS = ("njit", "@kernel")


def kernel_sources() -> list[Path]:
    """The source files a kernel's machine code may depend on: every module that defines a
    kernel, everything in rules/, and the constants they read."""
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if (
            rel in CONSTANTS
            or rel.startswith("rules/")
            or any(m in path.read_text(encoding="utf-8") for m in MARKS)
        ):
            files.append(path)
    return files


def source_key() -> str:
    """``<hyosan version>-<numba version>-<hash of the kernel sources>``."""
    digest = hashlib.sha256()
    for path in kernel_sources():
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}-{numba.__version__}-{digest.hexdigest()[:16]}"


def cache_root() -> Path:
    if os.environ.get("HYOSAN_CACHE_DIR"):
        return Path(os.environ["HYOSAN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hyosan"


CACHE_DIR = cache_root() / source_key()


class KernelCacheLocator(_SourceFileBackedLocatorMixin, _CacheLocator):
    """numba's cache for hyosan's kernels: in :data:`CACHE_DIR`, mirroring the package's layout."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        rel = Path(py_file).resolve().relative_to(PACKAGE).parent
        self._cache_path = str(CACHE_DIR / rel)

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            Path(py_file).resolve().relative_to(PACKAGE)
        except ValueError:
            return None  # not hyosan's: numba's usual locators
        return super().from_function(py_func, py_file)


if KernelCacheLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, KernelCacheLocator)

#: The plain kernel decorator (functions that allocate, e.g. the compartment solvers).
njit = numba.njit(cache=True)
#: Small helpers inlined into their callers.
njit_inline = numba.njit(cache=True, inline="always")
