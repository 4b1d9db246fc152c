"""prometheus-client's multiprocess mode, as ``gateway serve`` runs it: one folder per start.

Each process writes its own values to memory-mapped files named by its pid, in the folder
``PROMETHEUS_MULTIPROC_DIR`` names, and a scrape merges them all, so N workers report as one.
``gateway serve`` makes a fresh folder each time it starts (the library's rule: never reuse
one across runs), and removes those left by starts that were killed before they could.

A worker that dies would leave its files behind, and every scrape would read them again:
with restarts, without end. When one ends, its counters and histograms are folded into one
archive file per type (the library's own merge, written back unaccumulated, as its docs
describe), its live gauges are dropped, and its files go. A scrape and a fold hold a lock on
the folder, shared and exclusive, so that a scrape never counts a value twice or misses it.
"""

from __future__ import annotations

import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from prometheus_client import values
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_FOLDER_PREFIX = "gateway-metrics-"
_LOCK = ".lock"
# The value files that add up (gauges are per live process, and go with it).
_KEPT_TYPES = ("counter", "histogram")
_ARCHIVE = "archive"


def folder() -> Path | None:
    """The multiprocess folder this process writes to; None in single-process mode."""
    path = os.environ.get(VARIABLE)
    return Path(path) if path else None


@contextmanager
def serving() -> Iterator[Path]:
    """A fresh folder for one start, named in the environment of every process forked or
    spawned meanwhile; the folders of dead starts go first. Afterwards the folder goes, and
    this process counts as it did before (a test may run ``gateway serve`` in-process)."""
    for stale in glob.glob(os.path.join(tempfile.gettempdir(), _FOLDER_PREFIX + "*")):
        owner = Path(stale).name.removeprefix(_FOLDER_PREFIX).split("-")[0]
        if owner.isdigit() and not _alive(int(owner)) and os.access(stale, os.W_OK):
            shutil.rmtree(stale, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
    before = values.ValueClass, os.environ.get(VARIABLE)
    os.environ[VARIABLE] = str(path)
    # The mode is chosen when prometheus_client is imported, and a team's app (loaded to
    # check it) may have imported it already: choose it again, as the library's own tests do.
    values.ValueClass = values.MultiProcessValue()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        values.ValueClass, variable = before
        if variable is None:
            os.environ.pop(VARIABLE, None)
        else:
            os.environ[VARIABLE] = variable


@contextmanager
def _locked(path: Path, operation: int) -> Iterator[None]:
    with open(path / _LOCK, "a") as lock:
        fcntl.flock(lock, operation)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Held while a scrape reads the folder."""
    with _locked(path, fcntl.LOCK_SH):
        yield


def collector(registry: object, path: Path) -> MultiProcessCollector:
    return MultiProcessCollector(registry, str(path))


def fold_dead(path: Path) -> None:
    """Fold the files of every process that has ended into the archives, and remove them."""
    with _locked(path, fcntl.LOCK_EX):
        dead = {pid for pid in _pids(path) if not _alive(pid)}
        for typ in _KEPT_TYPES:
            files = [path / f"{typ}_{pid}.db" for pid in dead]
            files = [file for file in files if file.exists()]
            if files:
                _fold(path, typ, files)
        for pid in dead:
            mark_process_dead(pid, str(path))


def _fold(path: Path, typ: str, files: list[Path]) -> None:
    archive = path / f"{typ}_{_ARCHIVE}.db"
    sources = [str(file) for file in files]
    if archive.exists():
        sources.append(str(archive))
    merged = MultiProcessCollector.merge(sources, accumulate=False)
    written = path / f"{typ}_{_ARCHIVE}.next"  # not *.db: no scrape reads it half-written
    written.unlink(missing_ok=True)
    target = MmapedDict(str(written))
    try:
        for metric in merged:
            for sample in metric.samples:
                names, label_values = list(sample.labels), list(sample.labels.values())
                key = mmap_key(metric.name, sample.name, names, label_values, metric.documentation)
                target.write_value(key, sample.value, 0.0)
    finally:
        target.close()
    os.replace(written, archive)
    for file in files:
        file.unlink()


def _pids(path: Path) -> set[int]:
    found = set()
    for file in path.glob("*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit():
            found.add(int(pid))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    # A child that has ended but not been reaped yet is a zombie: dead for this purpose.
    with suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    return True
