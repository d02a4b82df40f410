from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from prolotrack.core.site import site_url
from prolotrack.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Create the demo clinics, staff accounts and synthetic patients (keeps what is already there)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=220, help="Synthetic patients in the demo clinic.")

    def handle(self, *args: Any, patients: int, **options: Any) -> None:
        report = seed_demo(patients=patients)
        if report.created_patients:
            self.stdout.write(f"Created {report.created_patients} synthetic patients.")
        else:
            self.stdout.write("Demo clinics already present: kept everything as it was.")
        line = "-" * 64
        self.stdout.write(line)
        self.stdout.write(f"ProloTrack demo accounts (log in at {site_url('/')}):")
        self.stdout.write("  " + ", ".join(report.usernames))
        self.stdout.write(f"  password: {report.password}   ({report.password_source})")
        self.stdout.write(line)
