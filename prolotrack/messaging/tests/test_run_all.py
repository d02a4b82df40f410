"""`make run`'s supervisor as a real process: gunicorn with its workers, the scheduler and the task worker start, the
server answers, and Ctrl-C leaves nothing running (issue 17, "Serving").

SQLite only: the children get a copy of the migrated, empty test database in a scratch folder (a file copy through
SQLite's backup API); pointing a scheduler and a task worker at the shared PostgreSQL test database would commit
rows under the other tests' feet. Everything here is the same on both databases but the file."""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from prolotrack.messaging import run_all

ROOT = Path(__file__).resolve().parents[3]


def test_the_web_command_is_gunicorn_with_the_project_settings():
    argv = run_all.gunicorn_command("127.0.0.1", 8123)
    assert argv[1:3] == ["-m", "gunicorn"]
    assert "--config=python:prolotrack.ops.gunicorn_conf" in argv and "--bind=127.0.0.1:8123" in argv
    assert argv[-1] == "prolotrack.wsgi:application"
    assert "--bind=[::1]:8000" in run_all.gunicorn_command("::1", 8000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback
        return answer.status, answer.read()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find gunicorn's workers")
def test_run_all_serves_pages_and_static_files_and_ctrl_c_stops_every_process(django_db_setup: Any, tmp_path: Path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: the children get a file copy of the migrated test database (module docstring)")
    source = sqlite3.connect(connection.settings_dict["NAME"])
    target = sqlite3.connect(tmp_path / "prolotrack.sqlite3")
    source.backup(target)
    source.close()
    target.close()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PROLOTRACK_TEST_SQLITE", "CACHE_URL"}}
    env |= {"PROLOTRACK_DATA_DIR": str(tmp_path), "PROLOTRACK_DEBUG": "1", "PROLOTRACK_LOG_FORMAT": "text",
            "PROLOTRACK_WEB_WORKERS": "2", "PYTHONUNBUFFERED": "1"}  # fmt: skip
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run_all.log"
    with log.open("w") as out:
        supervisor = subprocess.Popen(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "prolotrack.messaging.run_all", "--host=127.0.0.1", f"--port={port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert supervisor.poll() is None, log.read_text()
            try:
                if _get(f"{base}/livez")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        status, page = _get(f"{base}/accounts/login/")
        assert status == 200 and b'name="password"' in page
        status, css = _get(f"{base}/static/prolotrack/app.css")
        assert status == 200 and css == (ROOT / "prolotrack/static/prolotrack/app.css").read_bytes()
        pids = {
            name: int(pid) for name, pid in re.findall(r"(web|scheduler|task worker) \(.*?pid (\d+)\)", log.read_text())
        }
        assert set(pids) == {"web", "scheduler", "task worker"}
        workers = _children(pids["web"])
        assert len(workers) == 2, "gunicorn starts PROLOTRACK_WEB_WORKERS workers"
        everyone = [*pids.values(), *workers]
        assert all(_running(pid) for pid in everyone)
    finally:
        supervisor.send_signal(signal.SIGINT)
        code = supervisor.wait(timeout=30)
    said = log.read_text()
    assert code == 0, said
    assert "run_all: stopped." in said and "did not stop" not in said
    deadline = time.monotonic() + 5
    while any(_running(pid) for pid in everyone) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in everyone if _running(pid)], said
