import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from prolotrack.analytics import facts
from prolotrack.clinics.models import Clinic


class Command(BaseCommand):
    help = (
        "The dashboard's per-course facts: --rebuild recomputes every row of each clinic from its records (after the "
        "migration that adds them, after a bulk load that bypassed the services); --check recomputes them and "
        "compares with what is kept, exiting non-zero on any difference (docs/OPERATIONS.md, 'Dashboard facts')."
    )

    def add_arguments(self, parser: Any) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--rebuild", action="store_true", help="Recompute and replace the clinic's rows.")
        action.add_argument("--check", action="store_true", help="Recompute and compare; change nothing.")
        parser.add_argument("--clinic", type=int, action="append", help="A clinic's id (repeatable); default: all.")

    def handle(self, *args: Any, **options: Any) -> None:
        clinics = Clinic.objects.order_by("pk")
        if options["clinic"]:
            clinics = clinics.filter(pk__in=options["clinic"])
        damaged = 0
        for clinic in clinics:
            began = time.perf_counter()
            if options["rebuild"]:
                with transaction.atomic():
                    courses = facts.rebuild(clinic)
                took = time.perf_counter() - began
                self.stdout.write(f"Clinic {clinic.pk}: facts of {courses} courses rebuilt in {took:.1f} s.")
                continue
            with transaction.atomic():
                courses, differences = facts.check(clinic)
            for difference in differences[:20]:
                self.stderr.write(f"Clinic {clinic.pk}, course {difference.course_id} ({difference.table}): "
                                  f"{difference.columns} (kept, recomputed)")  # fmt: skip
            damaged += len(differences)
            took = time.perf_counter() - began
            verdict = f"{len(differences)} differ" if differences else "all match"
            self.stdout.write(f"Clinic {clinic.pk}: facts of {courses} courses checked in {took:.1f} s: {verdict}.")
        if damaged:
            raise CommandError(
                f"{damaged} kept fact rows differ from their records: run --rebuild, then find the write."
            )
