"""`make run`: the web server, the reminder scheduler and the background task worker, started and stopped together.

    python -m prolotrack.messaging.run_all --host 127.0.0.1 --port 8000

The web server is gunicorn (`prolotrack.wsgi:application`) with 2 x cores + 1 worker processes (gunicorn's own
rule of thumb; PROLOTRACK_WEB_WORKERS overrides it), each with PROLOTRACK_WEB_THREADS threads (default 2), so every
core serves requests (prolotrack/ops/gunicorn_conf.py, docs/OPERATIONS.md "Serving").

Ctrl-C (SIGINT) or SIGTERM stops all three; if any one of them exits, the others are stopped too, so the demo is
never left half running. Each child gets SIGTERM first and is killed only if it has not stopped after a grace period.
"""

import argparse
import os
import sys

from prolotrack.core.supervisor import supervise


def child_env(host: str, port: int, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The children's environment: PROLOTRACK_SITE_URL defaults to the address being served, so links in emails and
    calendar feeds point at this server's port (docs/OPERATIONS.md); one set explicitly is kept."""
    from prolotrack.core.site import default_site_url

    env = dict(os.environ if environ is None else environ)
    env.setdefault("PROLOTRACK_SITE_URL", default_site_url(host, port))
    return env


def gunicorn_command(host: str, port: int) -> list[str]:
    """The web server's argv: gunicorn on host:port with the project's settings (prolotrack/ops/gunicorn_conf.py:
    worker processes from the cores or PROLOTRACK_WEB_WORKERS, threads, the app loaded before the fork)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable, "-m", "gunicorn", "--config=python:prolotrack.ops.gunicorn_conf", f"--bind={bind}",
        "prolotrack.wsgi:application",
    ]  # fmt: skip


def commands(host: str, port: int, interval: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": gunicorn_command(host, port),
        "scheduler": [py, "manage.py", "run_scheduler", f"--interval={interval}"],
        "worker": [py, "manage.py", "db_worker", "--no-reload"],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--interval", type=int, default=60, help="Seconds between reminder passes.")
    args = parser.parse_args(argv)
    env = child_env(args.host, args.port)
    print(f"run_all: links in emails and calendar feeds use {env['PROLOTRACK_SITE_URL']}", flush=True)
    return supervise(
        "run_all",
        commands(args.host, args.port, args.interval),
        env=env,
        started=lambda children: (
            f"web (gunicorn, pid {children['web'].pid}), scheduler (pid {children['scheduler'].pid}) and "
            f"task worker (pid {children['worker'].pid}) started; Ctrl-C stops all three."
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
