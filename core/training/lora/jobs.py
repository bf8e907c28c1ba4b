"""Training jobs on disk, one folder each, and the separate process that trains them.

A job folder holds ``job.json`` (what to train, written once), ``progress.json`` (written
atomically by the training process only: status, loss per step, checkpoints), a ``cancel``
flag, ``checkpoints/`` and ``train.log``. The training process holds an exclusive lock on
``lock`` while it lives: a second process for the same job gives up at once, so a job is
never trained twice at a time, and a dead process's lock is free again. The process dies with
the one that started it (``PR_SET_DEATHSIG``, and a watchdog thread that notices a new
parent), so a killed worker never leaves a training running on its own.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

LOCK = "lock"
CANCEL = "cancel"
JOB = "job.json"
PROGRESS = "progress.json"
FINISHED = frozenset({"succeeded", "failed", "cancelled"})
# A process that keeps dying before it can record why (killed by the kernel for memory,
# say) is not started for ever.
MAX_STARTS = 8
# Seconds a cancelled training may take to stop between two steps before it is ended.
CANCEL_GRACE = 2.0


@dataclass(frozen=True)
class JobSpec:
    id: str
    model: str  # the fine-tuned model's id; its adapter folder is adapters/<model>
    base_model: str
    training_file: str
    adapter_dir: str
    cache_dir: str
    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None
    lora_rank: int = 16
    seed: int = 42
    checkpoint_every: int = 10
    threads: int = 1
    suffix: str = ""
    created_at: float = 0.0
    metadata: dict[str, str] = field(default_factory=dict)
    # "supervised", or "dpo": preference pairs, training further the adapter in init_adapter
    # (the supervised result) with DPO's beta (None: 0.1).
    method: str = "supervised"
    init_adapter: str | None = None
    beta: float | None = None
    # The adapter store (ARBITER_ADAPTER_STORE when the job was created: a directory, or
    # s3://bucket[/prefix] that the saved adapter is uploaded to); "": adapter_dir's folder.
    adapter_store: str = ""


def write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_bytes(content)
    partial.replace(path)


def save_spec(folder: Path, spec: JobSpec) -> None:
    write_atomically(folder / JOB, json.dumps(asdict(spec), indent=2).encode())


def load_spec(folder: Path) -> JobSpec:
    return JobSpec(**json.loads((folder / JOB).read_text(encoding="utf-8")))


def load_progress(folder: Path) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads((folder / PROGRESS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        found = {}
    found.setdefault("status", "queued")
    found.setdefault("events", [])
    found.setdefault("checkpoints", [])
    found.setdefault("starts", 0)
    return found


def save_progress(folder: Path, progress: dict[str, Any]) -> None:
    write_atomically(folder / PROGRESS, json.dumps(progress).encode())


def take_lock(folder: Path) -> IO[bytes] | None:
    """The job's lock, held until the file is closed (or the process ends), or None when
    another process holds it."""
    handle = (folder / LOCK).open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def training_alive(folder: Path) -> bool:
    handle = take_lock(folder)
    if handle is None:
        return True
    handle.close()
    return False


def wait_until_stopped(folder: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while training_alive(folder):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    with _children_lock:
        child = _children.pop(folder, None)
    if child is not None:  # reaped: it released its lock on the way out
        try:
            child.wait(timeout=max(0.5, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return True


# Started processes by job folder, kept so that they are reaped (no zombies) once they
# exit, and so that one just started (not holding its lock yet) is not started again.
_children: dict[Path, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


def start_training(folder: Path) -> bool:
    """Start the training process for the job unless one runs; True if one was started."""
    with _children_lock:
        for known, child in list(_children.items()):
            if child.poll() is not None:
                del _children[known]
        if folder in _children or training_alive(folder):
            return False
        starts_file = folder / "starts"
        starts = int(starts_file.read_text() or 0) if starts_file.exists() else 0
        if starts >= MAX_STARTS:
            return False
        starts_file.write_text(str(starts + 1))
        log = (folder / "train.log").open("ab")
        command = [sys.executable, "-m", "core.training.lora", "train", str(folder)]
        command += ["--parent", str(os.getpid())]
        child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[3],
            env=_child_env(load_spec(folder).threads),
        )
        log.close()
        _children[folder] = child
        return True


@atexit.register
def _end_children() -> None:
    """At exit the kernel would end them anyway (they die with their parent): end and reap
    them here, so nothing outlives this process even for a moment."""
    with _children_lock:
        for child in _children.values():
            if child.poll() is None:
                child.kill()
            child.wait()
        _children.clear()


def starts_exhausted(folder: Path) -> bool:
    starts_file = folder / "starts"
    return starts_file.exists() and int(starts_file.read_text() or 0) >= MAX_STARTS


def _child_env(threads: int) -> dict[str, str]:
    env = dict(os.environ)
    # Thread pools sized before torch starts, so the process never uses more cores.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[name] = str(max(1, threads))
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["HF_HUB_OFFLINE"] = "1"
    return env


def die_with_parent(parent: int, folder: Path) -> None:
    """Ask the kernel to kill this process when its parent dies, and watch for it too
    (the signal follows the parent *thread*; the watchdog covers a race at start). The
    watchdog also ends a cancelled training that has not stopped by itself a moment after
    the request (a step on a busy CPU can take many seconds; the cancel flag already makes
    the job read as cancelled, and nothing half-written is ever used)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(3)

    def watch() -> None:
        cancelled_at: float | None = None
        while True:
            if os.getppid() != parent:
                os._exit(3)
            if cancelled_at is None and (folder / CANCEL).exists():
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE:
                os._exit(4)
            time.sleep(0.25)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
