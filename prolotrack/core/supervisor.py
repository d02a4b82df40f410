"""Start a few processes together and stop them together: `make run` (messaging/run_all.py) and `make run-cluster`
(ops/cluster.py) both supervise their children this way.

Ctrl-C (SIGINT) or SIGTERM stops every child; if any one exits, the others are stopped too, so nothing is left half
running. Children run in their own sessions (they ignore the terminal's Ctrl-C): the supervisor stops them in order,
SIGTERM first, and SIGKILLs a child's whole process group only if it has not stopped after a grace period.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GRACE_SECONDS = 10
Children = dict[str, subprocess.Popen[Any]]


def stop_all(children: Children, label: str = "run_all") -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"{label}: {name} did not stop in {GRACE_SECONDS} s; killing it.", flush=True)
            kill_group(proc)
            proc.wait()


def kill_group(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL to the child's whole process group (its own session: gunicorn's workers are in it too), so nothing is
    left running when a child ignored SIGTERM."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def supervise(
    label: str,
    commands: dict[str, list[str]],
    *,
    env: dict[str, str],
    started: Callable[[Children], str],
    cwd: Path | None = None,
) -> int:
    """Start `commands` (name -> argv), print `started(children)`, wait until a signal or a child's exit, stop the
    rest. Returns the first failing child's status (1 when it exited with 0), or 0 when stopped by a signal."""
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: Children = {}
    for name, command in commands.items():
        children[name] = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True)  # noqa: S603 - fixed argv
    print(f"{label}: {started(children)}", flush=True)
    status = 0
    while not stopping:
        for name, proc in children.items():
            code = proc.poll()
            if code is not None:
                print(f"{label}: {name} exited with status {code}; stopping the others.", flush=True)
                status = code or 1
                stopping = True
                break
        time.sleep(0.5)
    stop_all(children, label)
    print(f"{label}: stopped.", flush=True)
    return status
