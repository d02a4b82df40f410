"""Procfile.cluster (issue 17, "Many app servers"): every line a process a Procfile runner can start, each command's
arguments accepted by the program it names, without starting anything."""

import re
import shlex
from pathlib import Path

from django.core.management import get_commands, load_command_class
from django.test import override_settings
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[3]
LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")  # the process line honcho and foreman read; other lines are ignored


def processes() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (ROOT / "Procfile.cluster").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = LINE.match(line)
        assert match, f"not a Procfile process line: {line!r}"
        assert match.group(1) not in found, f"{match.group(1)} twice"
        found[match.group(1)] = shlex.split(match.group(2))
    return found


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
