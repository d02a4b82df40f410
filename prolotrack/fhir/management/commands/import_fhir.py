"""`manage.py import_fhir PATH...`: NDJSON files (a Bulk export of another server) and JSON transaction Bundles.

Thin: finds the clinic member to act as, drives `prolotrack.fhir.importer.FileImporter` with a tqdm progress bar, and
prints the summary. docs/FHIR-IMPORT.md, "Importing files".
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from prolotrack.audit.services import AccessDenied, Actor
from prolotrack.clinics.management.acting import acting_membership
from prolotrack.fhir.importer import NDJSON_BATCH, FileImporter


class Command(BaseCommand):
    help = (
        "Import FHIR R4 resources from .ndjson files (one resource a line, as a Bulk export writes them) and .json "
        "transaction Bundles into a clinic, as one of its members. A bad NDJSON line is skipped and reported with its "
        "file and line number; the rest is imported. A Bundle file is all-or-nothing. Exits 1 when anything was refused."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", help=".ndjson files, .json Bundles, or folders of them")
        parser.add_argument("--user", required=True, help="Username of the clinic member the import acts as.")
        parser.add_argument("--clinic", help="Clinic name, when the user belongs to more than one.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count everything, then write nothing.")
        parser.add_argument("--batch-size", type=int, default=NDJSON_BATCH, help="Resources per transaction.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar (it is off when not a TTY).")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self._actor(options["user"], options.get("clinic"))
        paths = self._paths(options["paths"])
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        total = sum(p.stat().st_size for p in paths)
        bar = tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc="Importing",
            disable=True if options["no_progress"] else None,
            file=self.stderr._out,
        )
        importer = FileImporter(actor, batch_size=options["batch_size"], progress=bar.update)
        try:
            report = importer.run(paths, dry_run=options["dry_run"])
        except AccessDenied as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        self._summary(report, options["dry_run"])
        if report.errors:
            raise CommandError(f"{len(report.errors)} resource(s) or file(s) were not imported (listed above).")

    def _actor(self, username: str, clinic: str | None) -> Actor:
        membership = acting_membership(username, clinic)
        return Actor(
            user=membership.user, clinic=membership.clinic, role=membership.role, client_address=None, channel="fhir"
        )

    def _paths(self, given: list[str]) -> list[Path]:
        out: list[Path] = []
        for text in given:
            path = Path(text)
            if path.is_dir():
                out.extend(sorted(p for p in path.iterdir() if p.suffix in (".ndjson", ".json")))
            elif path.is_file():
                if path.suffix not in (".ndjson", ".json"):
                    raise CommandError(f"{path}: give .ndjson files or .json Bundles.")
                out.append(path)
            else:
                raise CommandError(f"{path}: no such file or folder.")
        if not out:
            raise CommandError("No .ndjson or .json files found.")
        return out

    def _summary(self, report: Any, dry_run: bool) -> None:
        write = self.stdout.write
        write(("Dry run: nothing was written. " if dry_run else "") + f"{report.resources} resources read.")
        types = sorted({t for t, _ in report.counts})
        if types:
            write(f"{'Type':<24}{'created':>9}{'updated':>9}{'unchanged':>11}{'skipped':>9}")
            for t in types:
                c = report.counts
                write(
                    f"{t:<24}{c[(t, 'created')]:>9}{c[(t, 'updated')]:>9}{c[(t, 'unchanged')]:>11}"
                    f"{c[(t, 'skipped')]:>9}"
                )
        if report.errors:
            write(f"Not imported ({len(report.errors)}):")
            for error in report.errors:
                write(f"  {error}")
