"""The CPU seconds of the PostgreSQL server backend serving a connection, for benches that report CPU time.

On a shared machine the wall time mostly measures the neighbours; the CPU time of this process plus that of the
server backend (same machine: /proc/<pg_backend_pid>/stat, user + system ticks) is what the work costs."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def backend_cpu_clock(connection: Any) -> Callable[[], float]:
    """A clock of the backend's CPU seconds for this Django connection; always 0.0 on SQLite (no server)."""
    if connection.vendor != "postgresql":
        return lambda: 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    tick = os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    return clock
