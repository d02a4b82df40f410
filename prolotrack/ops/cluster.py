"""`make run-cluster`: the processes of Procfile.cluster (two web processes, the task worker, the scheduler) and HAProxy
giving both web processes one port, against the PostgreSQL database of DATABASE_URL, started and stopped together.

    DATABASE_URL=postgresql://... python -m prolotrack.ops.cluster [--port 8000]

Any Procfile runner (honcho, foreman) can start Procfile.cluster instead; this supervisor needs none and behaves as
`make run`'s (prolotrack/messaging/run_all.py): Ctrl-C or SIGTERM stops every process, and if one exits the others are
stopped too. The proxy's configuration is prolotrack/ops/haproxy.cfg (docs/OPERATIONS.md, "Several web processes on
one machine").
"""

import argparse
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from prolotrack.core.supervisor import supervise

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "Procfile.cluster"
HAPROXY_CONFIG = Path(__file__).resolve().parent / "haproxy.cfg"
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")  # a Procfile process line, as honcho and foreman read it


def processes(procfile: Path = PROCFILE) -> dict[str, list[str]]:
    """The Procfile's processes by name, each as its argv."""
    found: dict[str, list[str]] = {}
    for line in procfile.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.match(line)
        if not match:
            raise ValueError(f"not a Procfile process line: {line!r}")
        if match.group(1) in found:
            raise ValueError(f"{match.group(1)} is named twice in {procfile.name}")
        found[match.group(1)] = shlex.split(match.group(2))
    return found


def proxy_command() -> list[str]:
    """HAProxy in the foreground (-db) as master and worker (-W), so SIGTERM to this process stops it."""
    return ["haproxy", "-W", "-db", "-f", str(HAPROXY_CONFIG)]


def refusal(env: dict[str, str]) -> str | None:
    """Why the cluster cannot start here, or None."""
    if not env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return (
            "Set DATABASE_URL to a PostgreSQL database (postgresql://user@host:5432/name): several web processes, "
            "workers and schedulers share one database server. On SQLite use `make run` (one machine, one server)."
        )
    if shutil.which("haproxy") is None:
        return (
            "HAProxy is not installed (Debian: apt-get install haproxy). Or start Procfile.cluster with a Procfile "
            "runner behind your own proxy (docs/OPERATIONS.md)."
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8000, help="The one port in front of both web processes.")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    problem = refusal(env)
    if problem:
        print(f"run-cluster: {problem}", file=sys.stderr)
        return 2
    env["PROLOTRACK_CLUSTER_PORT"] = str(args.port)
    env.setdefault("PROLOTRACK_SITE_URL", f"http://127.0.0.1:{args.port}")
    env.setdefault("PROLOTRACK_TRUSTED_PROXY_COUNT", "1")  # the client's address as HAProxy saw it, for the audit trail
    return supervise(
        "run-cluster",
        {**processes(), "proxy": proxy_command()},
        env=env,
        cwd=ROOT,
        started=lambda children: (
            ", ".join(f"{name} (pid {proc.pid})" for name, proc in children.items())
            + f"; http://127.0.0.1:{args.port} reaches both web processes. Ctrl-C stops all."
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
