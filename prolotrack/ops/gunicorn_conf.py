"""gunicorn's settings for ProloTrack: `make run` and production start the web server with them.

    gunicorn -c python:prolotrack.ops.gunicorn_conf --bind 127.0.0.1:8000 prolotrack.wsgi:application

Workers: PROLOTRACK_WEB_WORKERS, else 2 x cores + 1 (gunicorn's documented starting point: while one worker waits on
the disk or the database, another has the core); threads per worker: PROLOTRACK_WEB_THREADS, else 2 (a second request
overlaps one waiting on an fsync or a lock; more threads only share the same interpreter lock). docs/OPERATIONS.md,
"Serving", and docs/PERFORMANCE.md, "Load", for the measurements behind the defaults.

No Django import at module level: gunicorn reads this file before it loads the app.
"""

import os
import sys
from typing import Any


def cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def positive(environ: dict[str, str], name: str, default: int) -> int:
    value = environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {value!r}.")
    return int(value)


def web_workers(environ: dict[str, str] | None = None, cpus: int | None = None) -> int:
    return positive(
        dict(os.environ if environ is None else environ), "PROLOTRACK_WEB_WORKERS", 2 * (cpus or cores()) + 1
    )


def web_threads(environ: dict[str, str] | None = None) -> int:
    return positive(dict(os.environ if environ is None else environ), "PROLOTRACK_WEB_THREADS", 2)


workers = web_workers()
threads = web_threads()
worker_class = "gthread" if threads > 1 else "sync"
# The app is loaded once in the master and the workers are forked from it (faster start, shared memory; Django opens
# no database connection at import, and prolotrack/wsgi.py imports the URL map and views before the fork).
preload_app = True
# gunicorn's control socket defaults to one fixed path per user, which a second server on the machine would take over.
control_socket_disable = True
# On SIGTERM a worker's in-flight requests get 5 s; a request running 60 s is stopped (the proxy's timeout is longer).
graceful_timeout = 5
timeout = 60
# The app writes its own access line with the request id (docs/OPERATIONS.md, "Observability"); gunicorn logs only
# warnings and errors.
accesslog = None
loglevel = "warning"


def worker_exit(server: Any, worker: Any) -> None:
    """A worker that is leaving closes its database connections and flushes the logs, then ends without the
    interpreter's teardown, which freed the loaded app for 3-5 s at load 11 on the 2-core machine and made every stop
    and restart wait for it. The exit status is the one the worker was leaving with (a boot error stays an error, so
    gunicorn does not restart a worker that cannot boot forever). gunicorn also calls this hook in the master for a
    worker that vanished: nothing is done there."""
    if os.getpid() != worker.pid:
        return
    error = sys.exc_info()[1]
    code = error.code if isinstance(error, SystemExit) else (1 if error else 0)
    import logging

    from django.db import connections

    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)
