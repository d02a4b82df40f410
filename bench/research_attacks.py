"""The research attack suite of issue 18 on the 10,000-patient bench clinic (too slow for the unit tests).

Generates the bench clinic (bench/dataset.py) in its own SQLite file if it is not there, gives about 60 % of its
patients a signed research consent (bulk rows, benchmark data only), then runs, as a researcher: a Safe Harbor export
and all six attacks of prolotrack/research/tests/test_attacks.py: linkage on quasi-identifiers, row order, repeated
exports (birthday narrowing), date-shift narrowing (limited data sets under agreements), free-text probing, and
dashboard differencing (every quarter's exact figures, and differencing across the DP breakdowns of the busiest
quarter). Prints what each attack achieved, the export's k and l, times and the load average.

    .venv/bin/python bench/research_attacks.py [--patients 10000] [--data-dir bench/results/research]
"""

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import date, timedelta
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
    from django.core.exceptions import ValidationError
    from django.core.management import call_command
    from django.db import transaction
    from django.test.utils import override_settings
    from django.utils import timezone

    from prolotrack.analytics import research
    from prolotrack.clinical.queries import clinic_today
    from prolotrack.clinics.models import Membership, User
    from prolotrack.clinics.testing import actor_of
    from prolotrack.consent.models import Consent
    from prolotrack.domain import dpcounts
    from prolotrack.domain.deidentify import pseudonym
    from prolotrack.domain.disclosure import MIN_COURSES
    from prolotrack.patients.models import Patient
    from prolotrack.research import export as export_module
    from prolotrack.research import queries, services
    from prolotrack.research.tests import attacks
    from prolotrack.research.vocabulary import INDICATIONS
    from prolotrack.treatment import services as treatment_services
    from prolotrack.treatment.models import Course, TreatmentSession

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
    admin, made = User.objects.get_or_create(username="bench_research_admin")
    if made:
        Membership.objects.create(user=admin, clinic=clinic, role="admin")
    clinician = Membership.objects.filter(clinic=clinic, role="clinician").select_related("user").first().user
    key = bytes(range(32))
    export_module.new_export_key = lambda: key
    out: dict = {"consenting": queries.consenting_patients(clinic).count(), "load_average_at_start": os.getloadavg()}
    # Free text (attack 6): a course whose typed indication names a relative, with a note naming a family, on a
    # consenting patient, before any export.
    probe = queries.consenting_patients(clinic).order_by("pk").first()
    if not Course.objects.filter(patient=probe, indication__contains="Kowalski").exists():
        treatment_services.create_course(
            actor_of(clinician), probe, protocol_id="knee_oa_rabago",
            indication="Knee osteoarthritis, interpreter is daughter Maria Kowalski", region="knee", side="left",
            start_on=date(2025, 2, 3), note="Thompson family history",
        )  # fmt: skip

    def export(**request):
        job = services.start_export(actor_of(researcher), services.ExportRequest(**request))
        job.refresh_from_db()
        assert job.status == "ready", job.error
        return job

    def refused(**request) -> str:
        try:
            services.start_export(actor_of(researcher), services.ExportRequest(**request))
        except ValidationError as error:
            return "; ".join(error.messages)[:120]
        return "NOT REFUSED"

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}):
        started = time.perf_counter()
        job = export()
        out["export_seconds"] = round(time.perf_counter() - started, 1)
        out["privacy"] = {k: job.privacy.get(k) for k in ("k", "required_k", "l_diversity", "required_l",
                                                          "generalisations", "suppressed_patients",
                                                          "suppressed_courses", "suppressed_courses_for_l")}  # fmt: skip
        out["rows"] = job.row_counts
        # 1. Linkage on quasi-identifiers against the clinic's own table.
        linkage = attacks.linkage(job)
        out["linkage"] = {"released": linkage.released, "singled_out": linkage.singled_out,
                          "smallest_candidates": linkage.smallest_candidates}  # fmt: skip
        # 2. Row order.
        out["row_order_hits"] = attacks.row_order_hits(job, key)
        # 3. Repeated exports, birthday narrowing.
        export_module.new_export_key = lambda: os.urandom(32)
        second = export()
        out["repeated_exports"] = {"shared_pseudonyms": attacks.shared_pseudonyms(job, second),
                                   "birthday_columns": attacks.birthday_columns(job)}  # fmt: skip

        # 4. Date-shift narrowing: refused without an agreement; a shifted export shares no pseudonym with a years
        # export; years-only refused under an agreement; no session after the export day; a longitudinal study's
        # exports repeat the same shifted dates and share nothing with another study.
        def agreement(study: str, longitudinal: bool):
            return services.record_agreement(
                actor_of(admin),
                services.AgreementRequest(
                    study=study, recipient="Bench recipient", purpose="Bench attack suite",
                    signed_on=clinic_today(clinic) - timedelta(days=30),
                    expires_on=clinic_today(clinic) + timedelta(days=300), longitudinal=longitudinal,
                ),
            )  # fmt: skip

        once = agreement("Bench one-off", False)
        shift_out: dict = {"shift_without_agreement": refused(date_mode="shift"),
                           "years_under_agreement": refused(agreement=str(once.uuid))}  # fmt: skip
        shift_key = bytes(range(32, 64))  # known to the bench only, to tell which sessions are which
        export_module.new_export_key = lambda: shift_key
        shifted = export(date_mode="shift", agreement=str(once.uuid))
        export_module.new_export_key = lambda: os.urandom(32)
        shift_out["shared_pseudonyms_year_vs_shift"] = attacks.shared_pseudonyms(job, shifted)
        exported = {row["session_id"] for row in attacks.tables(shifted)["sessions"]}
        builder = export_module.ExportBuilder(shifted)
        sessions = TreatmentSession.objects.filter(clinic=clinic, patient__uuid__in=shifted.patient_uuids)
        future = {
            pseudonym(shift_key, "session", str(s.uuid))
            for s in sessions.iterator()
            if builder._session_day(s) > builder.today
        }
        shift_out["future_sessions"] = len(future)
        shift_out["future_sessions_exported"] = len(exported & future)
        readme = attacks.all_bytes(shifted).decode(errors="replace")
        shift_out["says_limited_data_set"] = "LIMITED DATA SET" in readme and "De-identified by" not in readme
        study, other = agreement("Bench study A", True), agreement("Bench study B", True)
        a = export(date_mode="shift", agreement=str(study.uuid))
        b = export(date_mode="shift", agreement=str(study.uuid))
        c = export(date_mode="shift", agreement=str(other.uuid))

        def starts(j):
            return {(r["patient_id"], r["started_date"]) for r in attacks.tables(j)["courses"]}

        shift_out["study_exports_identical_starts"] = starts(a) == starts(b)
        shift_out["shared_pseudonyms_across_studies"] = attacks.shared_pseudonyms(a, c)
        out["date_shift"] = shift_out
        # 5. Free text.
        content = attacks.all_bytes(job)
        out["free_text"] = {
            "kowalski_in_file": b"Kowalski" in content,
            "thompson_in_file": b"Thompson" in content.replace(b"thompson", b""),
            "labels_not_in_list": sorted(attacks.free_text_values(job, set(INDICATIONS.values()))),
            "thompson_filter": refused(indication="thompson"),
        }
    # 6. Dashboard differencing: every quarter a researcher can ask; derivable exact figures of 1-4 courses.
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
    # The DP breakdowns of the busiest quarter: its release, and differencing across breakdowns (attacker knows every
    # other patient exactly), against exact breakdowns as the control.
    busiest = max(
        quarters, key=lambda p: research.compute(clinic, *research.parse_period(p, today)[1:])["courses"] or 0
    )
    _, start, end = research.parse_period(busiest, today)
    started = time.perf_counter()
    made = research.release(actor_of(researcher), busiest, today)
    parts = research._categories(clinic)
    clinicians = {k.split("|")[0] for k, _ in parts[1].categories}
    facts = research.course_facts(clinic, start, end, today, clinicians)
    truth = {p.name: {k: sum(1 for c in dpcounts.bound_contributions(facts) if p.key(c) == k) for k, _ in p.categories}
             for p in parts}  # fmt: skip
    biggest = []
    for table in made.figures["dp"]["breakdowns"]:
        cell = max(table["cells"], key=lambda c: truth[table["name"]][c["key"]])
        biggest.append((table["name"], cell["key"], truth[table["name"]][cell["key"]], cell["count"]))
    target = facts[0]
    others = [f for f in facts if f.patient != target.patient]
    out["dp"] = {
        "quarter": busiest,
        "courses": len(facts),
        "release_seconds": round(time.perf_counter() - started, 1),
        "epsilon": made.figures["dp"]["epsilon"],
        "scale": made.figures["dp"]["breakdowns"][0]["scale"],
        "largest_cell_true_vs_noisy": biggest,
        "differencing_accuracy_exact": attacks.dp_differencing(
            others, target, parts, attacks.exact_breakdowns(parts), 20
        ),
        "differencing_accuracy_dp_400": attacks.dp_differencing(
            others, target, parts, lambda courses: dpcounts.release(courses, parts, 1.0), 400
        ),
        "bound_e_eps": round(math.e / (1 + math.e), 3),
    }
    out["load_average_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
