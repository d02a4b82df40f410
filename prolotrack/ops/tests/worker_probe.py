"""A task and an email backend that record which process did the work, for test_two_workers.py (imported by the
worker and scheduler processes that test starts; nothing here runs in production)."""

import os
import time
from typing import Any

from django.core.mail.backends.filebased import EmailBackend
from django_tasks import task


def _note(path: str, line: str) -> None:
    # One short write with O_APPEND: lines from several processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{line}\n".encode())
    finally:
        os.close(fd)


@task()
def record_run(log_path: str, number: int) -> None:
    """Takes a little time, so the two workers overlap, then notes the task's number and this process."""
    time.sleep(0.15)
    _note(log_path, f"{number} {os.getpid()}")


class SlowRecordingEmailBackend(EmailBackend):
    """The file backend, slowed to 0.1 s a message (so two schedulers overlap), noting each recipient and process."""

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            time.sleep(0.1)
            _note(os.environ["PROLOTRACK_PROBE_LOG"], f"{message.to[0]} {os.getpid()}")
        return int(super().send_messages(email_messages))
