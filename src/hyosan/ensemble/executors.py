"""Where runs run: one interface over this process, local processes and a Dask cluster.

An executor takes tasks (:meth:`Executor.submit`) and hands back their outcomes as they finish
(:meth:`Executor.next_done`), in whatever order the workers finish them; the sweep loop is the
same for all of them. Each keeps only a bounded number of tasks in flight (twice its workers),
so an interrupted sweep has little to throw away and a million-run sweep no million futures.

- :class:`InlineExecutor` (``workers=0``): runs each task here, in order. For debugging (a
  breakpoint in a run works) and for cheap functions.
- :class:`LocalExecutor` (the default: all cores): a ``ProcessPoolExecutor`` with the spawn
  start method (safe with threads and numba; each worker loads the compiled kernels from numba's
  on-disk cache). A worker process that dies (killed, out of memory, a crash in native code)
  breaks the pool: a new pool is started, and the tasks that were in flight are run again one at
  a time, alone, so that a task that kills its worker twice is recorded as failed without taking
  innocent tasks down with it.
- :class:`DaskExecutor`: ``distributed.Client`` on an existing scheduler (``tcp://host:port``)
  or on a ``LocalCluster`` started here (``scheduler="local"``), one thread per worker process.
  Quick runs travel in chunks of about a second (a Dask task has a cost of its own). Dask re-runs
  the tasks of a lost worker itself and gives up on a task after its ``allowed-failures`` (a
  ``KilledWorker`` error); a chunk's runs are then tried one per task, and the run that still
  kills its worker is recorded as failed. A remote cluster must see the scenario and map files
  at the same paths (a shared file system) and have hyosan installed; the outcomes come back to
  this process, which alone writes the store (each worker encodes its runs' rows, so that
  writing them costs this process next to nothing).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from hyosan.ensemble.runners import Outcome
from hyosan.ensemble.spec import RunTask
from hyosan.ensemble.store import work
from hyosan.errors import HyosanError

#: Dask settings for the local cluster a sweep starts: no statistical profiler and fewer periodic
#: wake-ups in the workers, whose event-loop thread otherwise competes for the GIL with the run
#: (the kernels hold it) every few milliseconds; none of it is needed without a dashboard.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.system-monitor.gil.enabled": False,
}
#: Times a task may be in flight when its worker process dies before it is recorded as failed.
CRASH_TRIES = 2


#: Seconds to wait for a Dask scheduler before giving up (an unreachable one fails fast).
CONNECT_TIMEOUT_S = 5


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover (not Linux)
        return max(1, os.cpu_count() or 1)


def _ping() -> int:
    """A pool's first task: proves that its worker processes can start at all."""
    return os.getpid()


def _ignore_sigint() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops the workers (no traceback from each),
    and exit when the parent dies (a killed sweep must leave no idle workers behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()


def exit_with_parent(poll_s: float = 1.0) -> None:
    """Make this process exit when its parent dies: ``PR_SET_PDEATHSIG`` on Linux, and a daemon
    thread that watches the parent's id (other systems, or a parent that died before the call)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(poll_s)

    threading.Thread(target=watch, name="hyosan-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Processes started inside inherit an ignored SIGINT (Python then installs no handler)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class Executor:
    """Submit tasks, get outcomes back as they finish.

    Subclasses implement :meth:`_start` (send one task to the workers) and :meth:`_wait_one`
    (block until one started task is done; return its outcome). The backlog and the bound on
    tasks in flight live here.
    """

    name = "executor"

    def __init__(self, runner: Callable[[RunTask], Any], workers: int):
        self.runner = runner
        self.workers = workers
        self.window = max(1, 2 * workers)
        self.backlog: collections.deque[RunTask] = collections.deque()
        self.in_flight = 0

    def submit(self, task: RunTask) -> None:
        self.backlog.append(task)
        self._fill()

    @property
    def pending(self) -> int:
        return len(self.backlog) + self.in_flight

    def next_done(self) -> Outcome:
        """The next outcome to finish (blocks); only call while :attr:`pending` is non-zero."""
        if not self.pending:
            raise RuntimeError("no task pending")
        self._fill()
        outcome = self._wait_one()
        self._fill()
        return outcome

    def _fill(self) -> None:
        while self.backlog and self.in_flight < self.window and self._may_start():
            self._start(self.backlog.popleft())
            self.in_flight += 1

    def _may_start(self) -> bool:
        return True

    def _start(self, task: RunTask) -> None:
        raise NotImplementedError

    def _wait_one(self) -> Outcome:
        raise NotImplementedError

    def close(self, cancel: bool = False) -> None:
        """Release the workers; ``cancel`` drops what has not started."""

    def describe(self) -> str:
        return f"{self.name}, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(cancel=exc_type is not None)


class InlineExecutor(Executor):
    """Runs every task in this process, one after the other, when its outcome is asked for."""

    name = "this process"

    def __init__(self, runner: Callable[[RunTask], Any]):
        super().__init__(runner, workers=0)
        self.window = 1
        self.started: collections.deque[RunTask] = collections.deque()

    def _start(self, task: RunTask) -> None:
        self.started.append(task)

    def _wait_one(self) -> Outcome:
        self.in_flight -= 1
        return work(self.runner, self.started.popleft())

    def describe(self) -> str:
        return "in this process"


class LocalExecutor(Executor):
    """A pool of local worker processes (spawned), replaced whole if one of them dies."""

    name = "local processes"

    def __init__(self, runner: Callable[[RunTask], Any], workers: int | None = None):
        super().__init__(runner, workers or default_workers())
        self._ping: cf.Future = cf.Future()
        self._pool = self._new_pool()
        self.futures: dict[cf.Future, RunTask] = {}
        self.done: collections.deque[Outcome] = collections.deque()
        self.crashes: collections.Counter[str] = collections.Counter()
        self.suspects: collections.deque[RunTask] = collections.deque()
        self.alone: str | None = None  # run_id of the suspect now running alone

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        pool = cf.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
        )
        self._ping = pool.submit(_ping)
        return pool

    def _check_workers_start(self) -> None:
        """After a broken pool: if not even the ping ran, no run is to blame (the workers die as
        they start), and retrying every run one by one would only repeat that."""
        cf.wait([self._ping], timeout=60)
        if self._ping.done() and self._ping.exception() is not None:
            raise HyosanError(
                "the worker processes die as they start (a script that runs a sweep must do so under "
                "`if __name__ == '__main__':`, as processes are spawned); try --workers 0 to see why",
                source="--workers",
            )

    def _may_start(self) -> bool:
        return not self.suspects and self.alone is None  # suspects run alone, before the rest

    def _start(self, task: RunTask) -> None:
        self.futures[self._pool.submit(work, self.runner, task)] = task

    def _wait_one(self) -> Outcome:
        while not self.done:
            if self.suspects and not self.futures:
                task = self.suspects.popleft()
                self.alone = task.run_id
                self._start(task)
            finished, _ = cf.wait(list(self.futures), return_when=cf.FIRST_COMPLETED)
            if self._collect(finished):
                # The pool is broken: its other futures are settled at once, a result for those
                # that finished before the death, BrokenProcessPool for the rest.
                rest, _ = cf.wait(list(self.futures), timeout=60)
                self._collect(rest)
                self._check_workers_start()
                for task in self.futures.values():  # pragma: no cover (unsettled after a minute)
                    self._crashed(task)
                self.futures.clear()
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
        self.in_flight -= 1
        return self.done.popleft()

    def _collect(self, finished) -> bool:
        """Move finished futures' outcomes to ``done``; True if the pool turned out broken."""
        broken = False
        for fut in finished:
            task = self.futures.pop(fut)
            if task.run_id == self.alone:
                self.alone = None
            try:
                self.done.append(fut.result())
            except cf.process.BrokenProcessPool:
                broken = True
                self._crashed(task)
        return broken

    def _crashed(self, task: RunTask) -> None:
        self.crashes[task.run_id] += 1
        if self.crashes[task.run_id] >= CRASH_TRIES:
            error = f"WorkerDied: the worker process died while running this task ({CRASH_TRIES} times)"
            self.done.append(Outcome(task=task, status="failed", elapsed_s=float("nan"), error=error))
        else:
            self.suspects.append(task)

    def close(self, cancel: bool = False) -> None:
        if cancel:  # interrupted: the workers ignore Ctrl-C, so stop the runs they are in
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def work_chunk(runner: Callable[[RunTask], Any], tasks: list[RunTask]) -> list[Outcome]:
    """One Dask task: a few runs, one after the other (see :attr:`DaskExecutor.CHUNK_S`)."""
    return [work(runner, task) for task in tasks]


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: ``address`` of a running scheduler, or ``"local"``.

    Each Dask task costs the client, the scheduler and the worker some 10 ms of CPU, which on a
    small machine is taken from the runs themselves: quick runs are sent in chunks lasting about
    :attr:`CHUNK_S` (sized from the runs finished so far, one run per task until then). A chunk
    whose worker died is split: its runs go again one per task, so that a run that kills its
    worker fails alone. A run that then fails too is tried once more with nothing else in flight
    (it may only have been queued behind the killer on the same worker), and recorded as failed
    only if it fails so.
    """

    name = "Dask"
    #: Seconds of runs per Dask task, and the most runs in one.
    CHUNK_S = 1.0
    MAX_CHUNK = 64

    def __init__(self, runner: Callable[[RunTask], Any], address: str, workers: int | None = None):
        try:
            import distributed  # the optional dask extra: imported only for --scheduler
        except ImportError:
            message = 'needs the dask extra: pip install "hyosan[dask]"'
            raise HyosanError(message, source="--scheduler") from None
        self._distributed = distributed
        self.cluster = None
        if address == "local":
            # Imported here: the optional dask extra, for a local cluster only.
            import logging

            import dask

            with _sigint_ignored(), dask.config.set(QUIET_WORKERS):
                self.cluster = distributed.LocalCluster(
                    n_workers=workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self.client = distributed.Client(self.cluster)
            self.address = "local cluster"
        else:
            try:
                self.client = distributed.Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise HyosanError(f"cannot reach the Dask scheduler: {exc}", source="--scheduler") from None
            self.address = address
        threads = sum(self.client.nthreads().values()) or 1
        super().__init__(runner, threads)
        self.chunks: dict[str, list[RunTask]] = {}  # key -> the runs of a Dask task in flight
        self.futures: dict[str, Any] = {}
        self.stream = distributed.as_completed()
        self.done: collections.deque[Outcome] = collections.deque()
        self.alone: set[str] = set()  # runs of a chunk whose worker died: each in a task of its own
        self.suspects: collections.deque[RunTask] = collections.deque()  # failed alone, not solo
        self.solo: str | None = None  # the suspect now running with nothing beside it
        self.timed_s, self.timed = 0.0, 0  # run time seen so far, to size the chunks
        self.submitted = 0

    def chunk_size(self) -> int:
        """Runs in the next Dask task: enough to last about :attr:`CHUNK_S`, but at most an
        even share of what is left per worker slot (so that the workers finish together); one
        until a run's time is known."""
        if not self.timed:
            return 1
        by_time = int(self.CHUNK_S * self.timed / max(self.timed_s, 1e-9))
        share = len(self.backlog) // self.window
        return max(1, min(self.MAX_CHUNK, by_time, share))

    def _submit(self, chunk: list[RunTask]) -> None:
        self.submitted += 1
        key = f"hyosan-runs-{self.submitted}-{chunk[0].run_id}"
        fut = self.client.submit(work_chunk, self.runner, chunk, pure=False, key=key)
        self.chunks[fut.key] = chunk
        self.futures[fut.key] = fut
        self.stream.add(fut)

    def _fill(self) -> None:
        if self.solo is not None:
            return  # a suspect runs with nothing beside it
        if self.suspects:
            if not self.futures:  # (the suspect is still counted in ``in_flight``)
                task = self.suspects.popleft()
                self.solo = task.run_id
                self._submit([task])
            return
        while self.backlog and len(self.futures) < self.window:
            size = 1 if self.backlog[0].run_id in self.alone else self.chunk_size()
            chunk = [self.backlog.popleft()]
            while len(chunk) < size and self.backlog and self.backlog[0].run_id not in self.alone:
                chunk.append(self.backlog.popleft())
            self._submit(chunk)
            self.in_flight += len(chunk)

    def _wait_one(self) -> Outcome:
        while not self.done:
            self._fill()
            fut = next(self.stream)
            chunk = self.chunks.pop(fut.key)
            self.futures.pop(fut.key, None)
            solo = chunk[0].run_id == self.solo
            if solo:
                self.solo = None
            try:
                outcomes = fut.result()
            except Exception as exc:  # the worker died (KilledWorker) or the cluster lost the task
                if len(chunk) > 1:  # which run killed it? each again, in a task of its own
                    self.in_flight -= len(chunk)
                    self.alone.update(t.run_id for t in chunk)
                    self.backlog.extendleft(reversed(chunk))
                    continue
                if not solo:  # it may only have been queued behind the killer on that worker
                    self.suspects.append(chunk[0])
                    continue
                error = f"{type(exc).__name__}: {exc}"
                outcomes = [Outcome(task=chunk[0], status="failed", elapsed_s=float("nan"), error=error)]
            finally:
                fut.release()
            for outcome in outcomes:
                if outcome.status == "ok":
                    self.timed_s += outcome.elapsed_s
                    self.timed += 1
            self.done.extend(outcomes)
        self.in_flight -= 1
        return self.done.popleft()

    def close(self, cancel: bool = False) -> None:
        if cancel and self.futures:
            self.client.cancel(list(self.futures.values()))
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def describe(self) -> str:
        return f"Dask ({self.address}), {self.workers} worker{'s' if self.workers != 1 else ''}"


def make_executor(
    runner: Callable[[RunTask], Any], workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """The executor the flags ask for: ``--scheduler`` (Dask), else ``--workers`` local processes.

    ``workers=None`` means all cores; ``0`` runs in this process. ``scheduler="local"`` starts a
    local Dask cluster of ``workers`` processes; a ``tcp://`` (or ``tls://``...) address joins a
    running one, whose own workers decide the parallelism.
    """
    check_executor_flags(workers, scheduler)
    if scheduler is not None:
        return DaskExecutor(runner, scheduler, workers)
    if workers == 0:
        return InlineExecutor(runner)
    return LocalExecutor(runner, workers)


#: Most local worker processes one sweep may ask for.
MAX_WORKERS = 1024


def check_executor_flags(workers: int | None, scheduler: str | None) -> None:
    """Refuse bad ``--workers`` / ``--scheduler`` values before anything starts (or any store opens)."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)):
        raise HyosanError(f"must be a whole number, got {workers!r}", source="--workers")
    if workers is not None and not 0 <= workers <= MAX_WORKERS:
        raise HyosanError(f"must be from 0 to {MAX_WORKERS}, got {workers}", source="--workers")
    if scheduler is not None:
        if scheduler != "local" and "://" not in scheduler:
            raise HyosanError(
                f"expected 'local' or an address such as tcp://host:8786, got {scheduler!r}",
                source="--scheduler",
            )
        if scheduler != "local" and workers is not None:
            raise HyosanError(
                "give --workers or a scheduler address, not both (the cluster has its own workers)",
                source="--workers",
            )
        if scheduler == "local" and workers == 0:
            raise HyosanError("a local Dask cluster needs at least one worker", source="--workers")
