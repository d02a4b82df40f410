"""`make run`: the web server, the reminder scheduler and the background task worker, started and stopped together.

    python -m prolotrack.messaging.run_all --host 127.0.0.1 --port 8000

Ctrl-C (SIGINT) or SIGTERM stops all three; if any one of them exits, the others are stopped too, so the demo is
never left half running. Each child gets SIGTERM first and is killed only if it has not stopped after a grace period.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

GRACE_SECONDS = 10


def child_env(host: str, port: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The children's environment: PROLOTRACK_SITE_URL defaults to the address being served, so links in emails and
    calendar feeds point at this server's port (docs/OPERATIONS.md); one set explicitly is kept."""
    from prolotrack.core.site import default_site_url

    env = dict(os.environ if environ is None else environ)
    env.setdefault("PROLOTRACK_SITE_URL", default_site_url(host, port))
    return env


def commands(host: str, port: int, interval: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": [
            py, "-m", "waitress", f"--host={host}", f"--port={port}", "--threads=8", "prolotrack.wsgi:application",
        ],
        "scheduler": [py, "manage.py", "run_scheduler", f"--interval={interval}"],
        "worker": [py, "manage.py", "db_worker", "--no-reload"],
    }  # fmt: skip


def stop_all(children: dict[str, subprocess.Popen[Any]]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"run_all: {name} did not stop in {GRACE_SECONDS} s; killing it.", flush=True)
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--interval", type=int, default=60, help="Seconds between reminder passes.")
    args = parser.parse_args(argv)
    stopping = False

    def on_signal(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: dict[str, subprocess.Popen[Any]] = {}
    env = child_env(args.host, args.port)
    print(f"run_all: links in emails and calendar feeds use {env['PROLOTRACK_SITE_URL']}", flush=True)
    # Children ignore the terminal's Ctrl-C (own process group): this supervisor stops them in order instead.
    for name, cmd in commands(args.host, args.port, args.interval).items():
        children[name] = subprocess.Popen(cmd, start_new_session=True, env=env)  # noqa: S603 - fixed argv, no shell
    print(f"run_all: web (pid {children['web'].pid}), scheduler (pid {children['scheduler'].pid}) and task worker "
          f"(pid {children['worker'].pid}) started; Ctrl-C stops all three.", flush=True)  # fmt: skip
    status = 0
    while not stopping:
        for name, proc in children.items():
            code = proc.poll()
            if code is not None:
                print(f"run_all: {name} exited with status {code}; stopping the others.", flush=True)
                status = code or 1
                stopping = True
                break
        time.sleep(0.5)
    stop_all(children)
    print("run_all: stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
