"""What each document shows: the context of the visit summary, the progress reports and the handouts, and their PDFs.

Reads only; the callers audit. Every number comes from the workflow's own queries (session totals, dose limits) or
from the outcomes trajectory (change from baseline, responder verdicts), never recomputed here.
"""

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from prolotrack.core import clinictime
from prolotrack.core.language import patient_language
from prolotrack.core.pdf import render_pdf
from prolotrack.documents import handouts
from prolotrack.documents.models import Document, DocumentKind, HandoutVersion
from prolotrack.domain import document_language
from prolotrack.domain.quantities import fmt
from prolotrack.domain.wording import change_words
from prolotrack.treatment import maps, queries
from prolotrack.treatment.models import (
    AdverseEvent,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)

# --- Handout texts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionText:
    section: handouts.Section
    number: int  # 0: the product's text
    body: str
    row: HandoutVersion | None
    language: str = "en"  # the language of this text (English when the asked one has none: fallback)
    # The clinic edited another language's text of this section while this one is the product's: staff should check
    # the two still say the same (shown on the handout list and page, never printed).
    edited_elsewhere: tuple[str, ...] = ()


def offered_languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def clinic_texts(clinic: Any, language: str = "en") -> dict[str, SectionText]:
    """The text of every handout section in `language`: the clinic's latest version in it, else the product's text in
    it, else English (the clinic's, else the product's): domain.document_language.part_text."""
    latest: dict[tuple[str, str], HandoutVersion] = {}
    for row in HandoutVersion.objects.filter(clinic=clinic).select_related("created_by").order_by("section", "-number"):
        latest.setdefault((row.section, row.language), row)
    out = {}
    for spec in handouts.ALL_SECTIONS:
        wrote = {lang for code, lang in latest if code == spec.code}
        pick = document_language.part_text(language, wrote, handouts.shipped_languages(spec.code))
        found = latest.get((spec.code, pick.language)) if pick.origin == document_language.CLINIC else None
        body = found.body if found else (handouts.shipped(spec.code, pick.language) or spec.default)
        others = tuple(sorted(wrote - {pick.language})) if found is None else ()
        out[spec.code] = SectionText(spec, found.number if found else 0, body, found, pick.language, others)
    return out


@dataclass(frozen=True)
class HandoutPart:
    code: str
    title: str
    html: Any
    sources: tuple[str, ...]
    number: int
    language: str = "en"
    edited_elsewhere: tuple[str, ...] = ()


def _next_session(patient: Any, course: Any, after: TreatmentSession | None = None) -> TreatmentSession | None:
    qs = TreatmentSession.objects.filter(
        patient=patient,
        clinic=patient.clinic,
        status__in=[SessionStatus.PLANNED, SessionStatus.BOOKED],
        entered_in_error_at__isnull=True,
    )
    if course is not None:
        qs = qs.filter(course=course)
    if after is not None:
        qs = qs.filter(planned_on__gte=after.planned_on).exclude(pk=after.pk)
    return qs.select_related("course", "clinician").order_by("planned_on", "number").first()


def _latest_course(patient: Any) -> Any:
    return queries.courses_on_record(patient).first()


def _local(value: Any, clinic: Any) -> Any:
    return timezone.localtime(value, clinic.tz) if value else None


def handout_context(
    patient: Any, handout: str, session: TreatmentSession | None = None, language: str | None = None
) -> dict[str, Any]:
    """A handout for one patient: the clinic's texts for the region of the session (or the patient's latest course),
    in `language` (staff's choice) or else the patient's preferred language (domain.document_language).

    Before the procedure the session is the given one or the next planned; its date fills in the NSAID stop date.
    """
    chosen = document_language.document_language(language, patient_language(patient), offered_languages())
    with translation.override(chosen):
        return _handout_context(patient, handout, session, chosen)


def _handout_context(patient: Any, handout: str, session: TreatmentSession | None, language: str) -> dict[str, Any]:
    clinic = patient.clinic
    course = session.course if session is not None else _latest_course(patient)
    if session is None and handout == handouts.BEFORE:
        session = _next_session(patient, course)
    region = course.region if course is not None else None
    config = clinic.config
    values = {
        "patient_name": f"{patient.given_name} {patient.family_name}",
        "clinic_name": clinic.name,
        "nsaid_stop_days": str(config.nsaid_stop_days),
    }
    stop = None
    if session is not None:
        starts = _local(session.starts_at, clinic)
        day = starts.date() if starts else session.planned_on
        stop = handouts.nsaid_stop_date(day, config.nsaid_stop_days)
        values["session_date"] = long_date(day)
        values["session_time"] = clinictime.format_time(starts, clinic, "time") if starts else _("(time to be booked)")
        values["nsaid_stop_date"] = long_date(stop) if stop else _("(our clinic does not ask you to stop them)")
    else:
        values["session_date"] = _("your next session")
        values["session_time"] = _("(time to be booked)")
        values["nsaid_stop_date"] = _("%(days)s days before your session") % {"days": config.nsaid_stop_days}
    texts = clinic_texts(clinic, language)
    sedation = session is not None and session.sedation != "none"
    parts = [
        HandoutPart(
            s.code,
            _(s.title),
            handouts.to_html(handouts.fill(texts[s.code].body, values)),
            tuple(handouts.source_in(source, texts[s.code].language) for source in s.sources),
            texts[s.code].number,
            texts[s.code].language,
            texts[s.code].edited_elsewhere,
        )
        for s in handouts.sections_for(handout, region, sedation=sedation)
    ]
    return {
        "title": _(handouts.HANDOUTS[handout]),
        "handout": handout,
        "patient": patient,
        "clinic": clinic,
        "course": course,
        "session": session,
        "region_label": region_label(region) if region else "",
        "nsaid_stop_date": stop,
        "nsaid_stop_text": long_date(stop) if stop else "",
        "session_day_text": long_date(session.planned_on) if session is not None else "",
        "parts": parts,
        "language": language,
        "language_name": language_name(language),
        "fallback_parts": [p.title for p in parts if p.language != language],
        "generated_at": timezone.localtime(timezone.now(), clinic.tz),
    }


def long_date(day: date) -> str:
    """'Monday 7 December 2026' ('lunes, 7 de diciembre de 2026') in the active language (core/clinictime.py)."""
    return clinictime.written_day(day)


def language_name(code: str) -> str:
    """The language's name in that language ("English", "Español"): settings.LANGUAGES."""
    return dict(settings.LANGUAGES).get(code, code)


def language_choice(patient: Any) -> dict[str, Any]:
    """What a staff page needs to offer the document's languages: each (code, name), the patient's preferred one."""
    preferred = patient_language(patient)
    return {
        "language_links": list(settings.LANGUAGES),
        "preferred": preferred,
        "preferred_name": language_name(preferred),
    }


# Region names in a patient document: domain.anatomy's labels, marked here to be translated.
REGION_NAMES: dict[str, str] = {
    "knee": gettext_noop("Knee"),
    "lumbopelvic": gettext_noop("Lumbar spine and pelvis"),
    "shoulder": gettext_noop("Shoulder"),
    "elbow": gettext_noop("Elbow"),
    "ankle_foot": gettext_noop("Ankle and foot"),
    "hip": gettext_noop("Hip"),
    "neck_thoracic": gettext_noop("Neck and thoracic spine"),
    "tmj": gettext_noop("Temporomandibular joint"),
    "other": gettext_noop("Other"),
}


def region_label(region: str) -> str:
    return _(REGION_NAMES[region]) if region in REGION_NAMES else region


def handout_pdf(context: dict[str, Any]) -> bytes:
    with timezone.override(context["clinic"].tz), translation.override(context.get("language", "en")):
        return render_pdf("documents/handout_pdf.html", context)


# --- The map of a session's sites, as standalone SVG for the PDF ------------------------------------------------


def map_svg(body_map: maps.BodyMap, side: str, sites: list[InjectionSite]) -> str:
    """The drawing with the session's numbered sites, as a standalone SVG (the PDF embeds it as a data: URI)."""
    mirrored = side == maps.LEFT and body_map.mirrors_left
    return render_to_string(
        "documents/map.svg",
        {"body_map": body_map, "sites": sites, "mirrored": mirrored, "side": side},
    )


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@dataclass(frozen=True)
class MapFigure:
    title: str
    side_label: str
    uri: str
    cautions: tuple[str, ...]


def session_maps(session: TreatmentSession, sites: list[InjectionSite]) -> list[MapFigure]:
    """One figure per (map, side) the session's sites are on."""
    groups: dict[tuple[str, str], list[InjectionSite]] = {}
    for site in sites:
        shown = site.side if site.side in (maps.LEFT, maps.RIGHT) else session.course.side
        try:
            body_map = maps.body_map(site.body_map)
        except ValueError:
            continue
        if body_map.symmetric:
            shown = "both"
        groups.setdefault((site.body_map, shown), []).append(site)
    figures = []
    for (code, shown), rows in groups.items():
        body_map = maps.body_map(code)
        side = shown if shown in (maps.LEFT, maps.RIGHT) else maps.RIGHT
        label = (
            "Both sides, seen from behind"
            if shown == "both"
            else (
                "Left side (drawing mirrored)"
                if side == maps.LEFT and body_map.mirrors_left
                else f"{side.title()} side"
            )
        )
        figures.append(MapFigure(body_map.title, label, _data_uri(map_svg(body_map, side, rows)), body_map.cautions))
    return figures


# --- Visit summary ----------------------------------------------------------------------------------------------


def visit_summary_context(session: TreatmentSession) -> dict[str, Any]:
    session = queries.get_session(session.clinic, session.uuid)
    clinic = session.clinic
    page = queries.session_page(session)
    solutions = page.active_solutions
    sites = page.active_sites
    totals = page.totals
    dose_lines = []
    if totals is not None and totals.dose is not None:
        for t in totals.dose.totals:
            dose_lines.append(
                {
                    "drug": t.drug.value,
                    "with_epinephrine": t.with_epinephrine,
                    "mg": fmt(t.total_mg),
                    "max_mg": fmt(t.limit.max_mg),
                    "percent": (t.fraction * 100).quantize(Decimal("0.1")),
                    "rule": t.limit.describe,
                    "source": t.limit.source,
                }
            )
    by_solution = {s.pk: s for s in solutions}
    site_rows = [
        {"site": s, "solution": by_solution.get(s.solution_id) or s.solution, "side": s.get_side_display()}
        for s in sites
    ]
    # The visit summary is in English (docs/LANGUAGES.md), and so is the aftercare it carries.
    after = handout_context(session.patient, handouts.AFTER, session, language="en")
    next_session = _next_session(session.patient, session.course, after=session)
    return {
        "title": f"Visit summary: session {session.number}",
        "clinic": clinic,
        "patient": session.patient,
        "session": session,
        "course": session.course,
        "starts_at": _local(session.starts_at, clinic),
        "signed_at": _local(session.signed_at, clinic),
        "solutions": solutions,
        "site_rows": site_rows,
        "maps": session_maps(session, sites),
        "totals": totals,
        "shown_totals": _shown_totals(totals),
        "totals_error": page.totals_error,
        "dose_lines": dose_lines,
        "adverse_events": [e for e in page.adverse_events if not e.is_entered_in_error],
        "next_session": next_session,
        "next_starts_at": _local(next_session.starts_at, clinic) if next_session else None,
        "after_parts": after["parts"],
        "language": "en",  # visit summaries are English (docs/LANGUAGES.md, "Documents")
        "generated_at": timezone.localtime(timezone.now(), clinic.tz),
    }


def _shown_totals(totals: Any) -> dict[str, str] | None:
    if totals is None:
        return None
    return {
        "injections": str(totals.injections),
        "volume_ml": fmt(totals.volume_ml.quantize(Decimal("0.01"))),
        "dextrose_g": fmt(totals.dextrose_g.quantize(Decimal("0.01"))),
    }


# --- Progress report --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartFigure:
    name: str
    uri: str


def _trajectory(patient: Any, course: Any) -> Any:
    try:
        from prolotrack.outcomes.trajectory import patient_trajectory
    except ImportError:  # the outcomes feature is not installed yet
        return None
    return patient_trajectory(patient, course)


def _charts(trajectory: Any) -> list[ChartFigure]:
    if trajectory is None:
        return []
    try:
        from prolotrack.outcomes.charts import chart_for, figure_svg
    except ImportError:
        return []
    out = []
    for series in trajectory.series:
        if not series.points:
            continue
        svg = figure_svg(chart_for(trajectory, series.code))
        out.append(ChartFigure(series.name, _data_uri(svg)))
    return out


def _change_text(change: Any) -> str:
    """'improved by 4 (57.1%)', 'worse by 1', 'no change' (domain.wording), or '—' without a follow-up score."""
    if change is None:
        return "—"
    return change_words(change.improvement, change.percent)


def progress_context(document: Document) -> dict[str, Any]:
    patient = document.patient
    clinic = patient.clinic
    course = document.course or _latest_course(patient)
    trajectory = _trajectory(patient, course)
    sessions = []
    if course is not None:
        done = list(
            TreatmentSession.objects.filter(course=course, status=SessionStatus.DONE, entered_in_error_at__isnull=True)
            .select_related("signed_by")
            .order_by("number")
        )
        site_counts: dict[int, list[Decimal]] = {}
        for pk, volume in InjectionSite.objects.filter(session__in=done, entered_in_error_at__isnull=True).values_list(
            "session_id", "volume_ml"
        ):
            site_counts.setdefault(pk, []).append(volume)
        agents: dict[int, set[str]] = {}
        for solution in PreparedSolution.objects.filter(session__in=done, entered_in_error_at__isnull=True):
            agents.setdefault(solution.session_id, set()).update(
                f"{c['agent']} {c['target_pct']}%" for c in solution.components
            )
        for s in done:
            volumes = site_counts.get(s.pk, [])
            sessions.append(
                {
                    "session": s,
                    "day": _local(s.starts_at, clinic).date() if s.starts_at else s.planned_on,
                    "injections": len(volumes),
                    "volume_ml": sum(volumes, Decimal(0)),
                    "solutions": ", ".join(sorted(agents.get(s.pk, set()))),
                }
            )
    events = list(
        AdverseEvent.objects.filter(patient=patient, clinic=clinic, entered_in_error_at__isnull=True)
        .filter(course=course)
        .order_by("onset_on")
        if course is not None
        else AdverseEvent.objects.none()
    )
    next_session = _next_session(patient, course)
    audience = "patient" if document.kind == DocumentKind.PROGRESS_PATIENT else "referrer"
    return {
        "title": "Your progress" if audience == "patient" else "Progress report",
        "audience": audience,
        "clinic": clinic,
        "patient": patient,
        "course": course,
        "trajectory": trajectory,
        "series": list(trajectory.series) if trajectory is not None else [],
        "series_rows": [
            {"series": s, "change_text": _change_text(s.change)}
            for s in (trajectory.series if trajectory is not None else ())
        ],
        "charts": _charts(trajectory),
        "sessions": sessions,
        "adverse_events": events,
        "next_session": next_session,
        "next_starts_at": _local(next_session.starts_at, clinic) if next_session else None,
        "requested_by": document.generated_by,
        "generated_at": timezone.localtime(timezone.now(), clinic.tz),
    }


# --- Build ------------------------------------------------------------------------------------------------------


def build_pdf(document: Document) -> tuple[bytes, int]:
    """Render a document's PDF; return it with the version of the record it was made from."""
    template, context, version = document_context(document)
    with timezone.override(document.clinic.tz):
        return render_pdf(template, context), version


def document_context(document: Document) -> tuple[str, dict[str, Any], int]:
    """The template, context and source version of a document (the PDF and its HTML preview share them)."""
    if document.kind == DocumentKind.VISIT_SUMMARY:
        if document.session_id is None:
            raise TreatmentSession.DoesNotExist("This visit summary names no session.")
        session = TreatmentSession.objects.select_related("clinic").get(pk=document.session_id)
        from prolotrack.documents.queries import session_stamps

        stamp = session_stamps([session.pk]).get(session.pk, 0)
        context = visit_summary_context(session)
        return "documents/visit_summary_pdf.html", context, stamp
    return "documents/progress_pdf.html", progress_context(document), document.patient.version
