"""The research attack suite of issue 18 on the 10,000-patient bench clinic (too slow for the unit tests).

Generates the bench clinic (bench/dataset.py) in its own SQLite file if it is not there, gives about 60 % of its
patients a signed research consent (bulk rows, benchmark data only), then runs, as a researcher: a Safe Harbor export
and the linkage, row-order and repeated-export attacks of prolotrack/research/tests/attacks.py; and every quarter of
the researcher dashboard with the subtraction check. Prints what each attack achieved and the export's k, l and time.

    .venv/bin/python bench/research_attacks.py [--patients 10000] [--data-dir bench/results/research]
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "research"))
    parser.add_argument(
        "--generate-only", action="store_true", help="build the bench clinic and its consents, then stop"
    )
    args = parser.parse_args()
    os.environ["PROLOTRACK_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)

    import django

    django.setup()
    from dataset import _bulk, bench_clinic, generate
    from django.core.management import call_command
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from prolotrack.analytics import research
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.clinics.models import Membership, User
    from prolotrack.consent.models import Consent
    from prolotrack.core.testing import actor_of
    from prolotrack.domain.disclosure import MIN_COURSES
    from prolotrack.patients.models import Patient
    from prolotrack.research import export as export_module
    from prolotrack.research import queries, services
    from prolotrack.research.tests import attacks

    call_command("migrate", verbosity=0)
    clinic = bench_clinic()
    if not Patient.objects.filter(clinic=clinic).exists():
        with transaction.atomic():
            generate(clinic, patients=args.patients)
    if not queries.current_research_consents(clinic).exists():
        rng = random.Random(18)
        now = timezone.now()
        rows = [
            Consent(clinic=clinic, patient_id=pk, scope="research", status="signed", signed_at=now)
            for pk in Patient.objects.filter(clinic=clinic).values_list("pk", flat=True)
            if rng.random() < 0.6
        ]
        with transaction.atomic():
            _bulk(Consent, rows)
    if args.generate_only:
        return
    researcher, made = User.objects.get_or_create(username="bench_researcher")
    if made:
        Membership.objects.create(user=researcher, clinic=clinic, role="researcher")
    key = bytes(range(32))
    export_module.new_export_key = lambda: key
    out: dict = {"consenting": queries.consenting_patients(clinic).count()}
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}):
        started = time.perf_counter()
        job = services.start_export(actor_of(researcher), services.ExportRequest())
        job.refresh_from_db()
        out["export_seconds"] = round(time.perf_counter() - started, 1)
        out["status"] = job.status
        out["privacy"] = {k: job.privacy.get(k) for k in ("k", "l_diversity", "generalisations", "suppressed_patients",
                                                          "suppressed_courses")}  # fmt: skip
        out["rows"] = job.row_counts
        linkage = attacks.linkage(job)
        out["linkage"] = {"released": linkage.released, "singled_out": linkage.singled_out,
                          "smallest_candidates": linkage.smallest_candidates}  # fmt: skip
        out["row_order_hits"] = attacks.row_order_hits(job, key)
        export_module.new_export_key = lambda: os.urandom(32)
        second = services.start_export(actor_of(researcher), services.ExportRequest())
        second.refresh_from_db()
        out["shared_pseudonyms_between_two_exports"] = attacks.shared_pseudonyms(job, second)
        out["birthday_columns"] = attacks.birthday_columns(job)
    # Dashboard: every quarter a researcher can ask; derivable figures of 1-4 courses.
    today = clinic_today(clinic)
    bad = []
    quarters = research.periods(clinic, today)
    for period in quarters:
        _, start, end = research.parse_period(period, today)
        figures = research.compute(clinic, start, end)
        for field in ("courses", "of"):
            cells = [r["courses"] if field == "courses" else r["responders"]["of"] for r in figures["by_indication"]]
            total = figures["courses"] if field == "courses" else figures["responders"]["of"]
            shown = [c for c in cells if c is not None]
            derived = shown + ([total - sum(shown)] if total is not None else [])
            bad += [(period, field, d) for d in derived if 0 < d < MIN_COURSES]
    out["dashboard"] = {"quarters": len(quarters), "derivable_figures_under_5": bad}
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
