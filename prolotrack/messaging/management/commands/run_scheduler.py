"""The reminder scheduler: a pass every N seconds until SIGTERM or SIGINT, then a clean stop."""

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from prolotrack.messaging.services import run_pass

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run reminder passes every --interval seconds until stopped (SIGTERM/SIGINT finish the current pass); each "
        "pass also purges expired export files and writes an audit checkpoint when one is due."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=int, default=300, help="Seconds between passes (default 300).")
        parser.add_argument("--passes", type=int, default=0, help="Stop after this many passes (0: run until stopped).")

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(options["interval"], 1)
        stop = threading.Event()

        def request_stop(signum: int, _frame: Any) -> None:
            self.stdout.write(f"Scheduler: {signal.Signals(signum).name} received, stopping after this pass.")
            stop.set()

        # The handlers are put back when the loop ends, so a command run in-process (tests, call_command) leaves none
        # behind that would later write to a closed stream.
        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._loop(stop, interval, options["passes"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _loop(self, stop: threading.Event, interval: int, passes: int) -> None:
        self.stdout.write(f"Scheduler: a reminder pass every {interval} s (Ctrl-C or SIGTERM stops it).")
        done = 0
        while not stop.is_set():
            close_old_connections()
            try:
                report = run_pass()
                if report.planned or report.sent or report.failed or report.skipped or report.cancelled:
                    self.stdout.write(f"Scheduler: {report}.")
                for error in report.errors:
                    self.stderr.write(f"Scheduler error: {error}")
            except Exception:  # a failed pass is logged; the next one tries again
                log.exception("Reminder pass failed")
            try:
                # Expired export files go even when nobody polls or visits the export pages.
                from prolotrack.fhir.bulk import purge_expired as purge_fhir
                from prolotrack.research.services import purge_expired as purge_research

                purged = purge_fhir() + purge_research()
                if purged:
                    self.stdout.write(f"Scheduler: deleted {purged} expired export file(s).")
            except Exception:
                log.exception("Purging expired exports failed")
            try:
                # A signed checkpoint of the audit chains' heads, outside the database (docs/SECURITY.md).
                from prolotrack.audit.checkpoints import write_if_due

                written = write_if_due()
                if written:
                    self.stdout.write(f"Scheduler: audit checkpoint {written.name} written.")
            except Exception:
                log.exception("Writing the audit checkpoint failed")
            done += 1
            if passes and done >= passes:
                break
            stop.wait(interval)
        close_old_connections()
        self.stdout.write("Scheduler: stopped.")
