"""Procfile.cluster (issue 17, "Many app servers"): every line a process a Procfile runner can start, each command's
arguments accepted by the program it names, without starting anything."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.test import override_settings
from gunicorn.config import Config

from prolotrack.ops import cluster

ROOT = Path(__file__).resolve().parents[3]


def processes() -> dict[str, list[str]]:
    return cluster.processes()  # refuses a line that is not a Procfile process line, and a name given twice


def test_the_cluster_procfile_names_two_web_processes_the_worker_and_the_scheduler():
    assert set(processes()) == {"web1", "web2", "worker", "scheduler"}


def test_each_web_process_is_gunicorn_with_the_project_settings_on_its_own_port():
    ports = set()
    for name in ("web1", "web2"):
        argv = processes()[name]
        assert argv[:3] == [".venv/bin/python", "-m", "gunicorn"]
        options = Config().parser().parse_args(argv[3:])  # gunicorn's own parser: refuses unknown options
        assert options.config == "python:prolotrack.ops.gunicorn_conf"
        assert options.args == ["prolotrack.wsgi:application"]
        ports |= {bind.rsplit(":", 1)[1] for bind in options.bind}
    assert len(ports) == 2


# As deployed: tasks queued in the database (the tests run them inline, conftest.py).
@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_worker_and_the_scheduler_are_management_commands_with_valid_arguments():
    commands = get_commands()
    for name, command in (("worker", "db_worker"), ("scheduler", "run_scheduler")):
        argv = processes()[name]
        assert argv[:3] == [".venv/bin/python", "manage.py", command]
        parser = load_command_class(commands[command], command).create_parser("manage.py", command)
        parser.parse_args(argv[3:])  # exits (SystemExit) on an unknown or malformed argument


def test_the_proxy_configuration_is_valid_haproxy_without_starting_anything():
    if shutil.which("haproxy") is None:
        pytest.skip("haproxy is not installed (apt-get install haproxy); make run-cluster needs it")
    env = {"PROLOTRACK_CLUSTER_PORT": "8000", "PATH": "/usr/sbin:/usr/bin:/bin"}
    checked = subprocess.run(  # noqa: S603 - fixed argv
        [*cluster.proxy_command(), "-c"], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = cluster.HAPROXY_CONFIG.read_text()
    web = {name: argv for name, argv in processes().items() if name.startswith("web")}
    for argv in web.values():
        bind = Config().parser().parse_args(argv[3:]).bind[0]
        assert f"server web{bind[-1]} {bind} check" in text  # the proxy sends to exactly the Procfile's web ports


def test_the_cluster_refuses_sqlite_and_a_missing_proxy_with_the_reason():
    assert "PostgreSQL" in (cluster.refusal({}) or "")
    assert "PostgreSQL" in (cluster.refusal({"DATABASE_URL": "sqlite:///x.sqlite3"}) or "")
    if shutil.which("haproxy") is not None:
        assert cluster.refusal({"DATABASE_URL": "postgresql://postgres@127.0.0.1/db"}) is None
