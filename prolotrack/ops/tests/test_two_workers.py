"""Two task workers and two schedulers on one database do each piece of work once (issue 17, "Many app servers").

Real separate processes, as on two machines: each starts its own Django with its own database connection against this
test's database, and both run at once over the same queue.

- Task worker (django-tasks-db `db_worker`): a task is claimed in a transaction that selects it `FOR UPDATE SKIP
  LOCKED` (PostgreSQL) or under `BEGIN EXCLUSIVE` (SQLite) and marks it RUNNING before commit; the other worker skips
  it or no longer sees it as READY.
- Scheduler (`run_scheduler`): a message is sent only by the pass that claims it, under the row lock (`SELECT ... FOR
  UPDATE`, messaging.services._claim; BEGIN IMMEDIATE on SQLite), which counts the attempt and leases the message for
  10 minutes; a pass that gets the row after that sees the lease (or the SENT status) and leaves it. Planning is
  guarded by a unique constraint per patient, kind, channel and target.
"""

import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services as messaging
from prolotrack.messaging.models import MessageStatus, OutboxMessage
from prolotrack.ops.tests import worker_probe

ROOT = Path(settings.BASE_DIR)
TASKS = 30
MESSAGES = 24

# Another machine's process: this project's settings, pointed at this test's database, then one management command.
PROCESS = """
import sys
import prolotrack.settings as project
project.DATABASES["default"]["NAME"] = sys.argv[1]
import django
django.setup()
from django.core.management import call_command
call_command(*sys.argv[2:])
"""


def _start(tmp_path: Path, *command: str, **extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PROLOTRACK_EMAIL", "PROLOTRACK_TASKS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="prolotrack.settings",
        PROLOTRACK_DATA_DIR=str(tmp_path / "machine"),
        PROLOTRACK_AUDIT_KEY_FILE=settings.AUDIT_KEY_FILE,  # one chain key, as a deployment has
        PROLOTRACK_AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
        PROLOTRACK_LOG_LEVEL="WARNING",
        **extra,
    )
    return subprocess.Popen(  # noqa: S603 - this interpreter, our script
        [sys.executable, "-c", PROCESS, str(connection.settings_dict["NAME"]), *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        try:
            _out, err = process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
        assert process.returncode == 0, err[-3000:]


def _runs(log: Path) -> list[tuple[str, str]]:
    return [(first, second) for first, second in (line.split() for line in log.read_text().splitlines())]


@pytest.mark.django_db(transaction=True)
def test_two_task_workers_run_each_task_exactly_once(tmp_path: Path) -> None:
    from django_tasks_db.models import DBTaskResult

    log = tmp_path / "runs.log"
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        for number in range(TASKS):
            worker_probe.record_run.enqueue(str(log), number)
    assert DBTaskResult.objects.filter(status="READY").count() == TASKS
    worker = ("db_worker", "--batch", "--no-reload", "--no-startup-delay")
    _finish(
        [_start(tmp_path, *worker, "--worker-id", "worker-a"), _start(tmp_path, *worker, "--worker-id", "worker-b")]
    )

    runs = _runs(log)
    assert Counter(number for number, _pid in runs) == Counter({str(n): 1 for n in range(TASKS)})
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == TASKS
    claims = Counter(tuple(result.worker_ids) for result in DBTaskResult.objects.all())
    assert set(claims) <= {("worker-a",), ("worker-b",)}  # every task claimed by one worker, once
    assert len({pid for _number, pid in runs}) == 2, f"only one worker took tasks ({claims}): they did not overlap"


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_send_each_message_exactly_once(tmp_path: Path, patient: Any, frontdesk: Any) -> None:
    clinic = patient.clinic
    clinic.settings = {**(clinic.settings or {}), "send_window_start_hour": 0, "send_window_end_hour": 24}
    clinic.save()
    addresses = [f"patient-{n}@example.org" for n in range(MESSAGES)]
    for address in addresses:
        patient.email = address  # the service reads the copy it is given (one patient, a distinct address each)
        messaging.queue_billing_document(
            actor_of(frontdesk), patient, document="invoice", record=SimpleNamespace(uuid=uuid.uuid4()),
            title="Invoice", filename="invoice.pdf", pdf=b"%PDF-1.7 test",
        )  # fmt: skip
    log = tmp_path / "sent.log"
    probe = {
        "PROLOTRACK_EMAIL_BACKEND": "prolotrack.ops.tests.worker_probe.SlowRecordingEmailBackend",
        "PROLOTRACK_PROBE_LOG": str(log),
    }
    scheduler = ("run_scheduler", "--passes", "1", "--interval", "1")
    _finish([_start(tmp_path, *scheduler, **probe), _start(tmp_path, *scheduler, **probe)])

    sent = _runs(log)
    assert Counter(address for address, _pid in sent) == Counter(dict.fromkeys(addresses, 1))
    rows = OutboxMessage.objects.filter(patient=patient)
    assert [(m.status, m.attempts) for m in rows] == [(MessageStatus.SENT, 1)] * MESSAGES
    attempts = Counter(
        AuditEvent.objects.filter(action="messaging.message.attempted").values_list("record_uuid", flat=True)
    )
    assert sorted(attempts.values()) == [1] * MESSAGES
    assert len({pid for _address, pid in sent}) == 2, "only one scheduler sent: they did not overlap"
