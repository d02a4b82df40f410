"""Roles and what each may do: the single table behind every access check.

docs/ROLES.md shows the same table for people; a test keeps the two identical.
"""

from enum import StrEnum
from typing import Any

from django.db import models

from prolotrack.core.errors import AccessDenied


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    NURSE = "nurse", "Nurse"
    FRONT_DESK = "frontdesk", "Front desk"
    ADMIN = "admin", "Clinic administrator"
    RESEARCHER = "researcher", "Researcher"


class Permission(StrEnum):
    PATIENT_LIST = "patient.list"
    PATIENT_VIEW_DEMOGRAPHICS = "patient.view_demographics"
    PATIENT_EDIT_DEMOGRAPHICS = "patient.edit_demographics"
    PATIENT_VIEW_CLINICAL = "patient.view_clinical"
    PATIENT_EDIT_CLINICAL = "patient.edit_clinical"
    RECORD_MARK_ERROR = "record.mark_entered_in_error"
    RECORD_VIEW_HISTORY = "record.view_history"
    AUDIT_VIEW = "audit.view"
    CLINIC_MANAGE = "clinic.manage"
    SECOND_FACTOR_ALWAYS = "account.second_factor_always"
    CALCULATOR_USE = "calculator.use"
    SCREENING_RUN = "screening.run"
    SCREENING_OVERRIDE = "screening.override"
    PROTOCOL_VIEW = "protocol.view"
    PROTOCOL_MANAGE = "protocol.manage"
    COURSE_VIEW = "course.view"
    COURSE_MANAGE = "course.manage"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_MANAGE = "schedule.manage"
    SESSION_RECORD = "session.record"
    SESSION_SIGN = "session.sign"
    SESSION_TREAT = "session.treat"
    SESSION_AMEND = "session.amend"
    ADVERSE_EVENT_RECORD = "adverse_event.record"
    LOT_RECALL = "lot.recall"
    IMAGING_DECIDE = "imaging.decide"
    OUTCOMES_VIEW = "outcomes.view"
    OUTCOMES_COLLECT = "outcomes.collect"
    INSTRUMENT_MANAGE = "instrument.manage"
    DASHBOARD_VIEW = "dashboard.view"
    DASHBOARD_DETAIL = "dashboard.detail"
    OUTBOX_VIEW = "outbox.view"
    CALENDAR_FEED = "calendar.feed"
    DOCUMENT_VIEW = "document.view"
    HANDOUT_MANAGE = "handout.manage"
    CONSENT_MANAGE = "consent.manage"
    FHIR_IMPORT = "fhir.import"
    COHORT_MANAGE = "cohort.manage"
    BULK_EXPORT = "export.bulk"
    RESEARCH_EXPORT = "export.research"
    API_TOKEN_USE = "api.use"
    BILLING_VIEW = "billing.view"
    BILLING_INVOICE = "billing.invoice"
    BILLING_PAYMENT = "billing.payment"
    BILLING_CREDIT = "billing.credit"
    BILLING_FEES = "billing.fees"
    BILLING_ABN = "billing.abn"
    BILLING_TAKINGS = "billing.takings"
    BILLING_REPORTS = "billing.reports"
    BOOKING_PENDING = "booking.pending"


C, N, F, A, R = Role.CLINICIAN, Role.NURSE, Role.FRONT_DESK, Role.ADMIN, Role.RESEARCHER

# Researchers see no identifiable patient data: they get de-identified exports (docs/ROLES.md).
ROLE_PERMISSIONS: dict[Permission, frozenset[str]] = {
    Permission.PATIENT_LIST: frozenset({C, N, F, A}),
    Permission.PATIENT_VIEW_DEMOGRAPHICS: frozenset({C, N, F, A}),
    Permission.PATIENT_EDIT_DEMOGRAPHICS: frozenset({C, N, F, A}),
    Permission.PATIENT_VIEW_CLINICAL: frozenset({C, N}),
    Permission.PATIENT_EDIT_CLINICAL: frozenset({C, N}),
    Permission.RECORD_MARK_ERROR: frozenset({C, N}),
    Permission.RECORD_VIEW_HISTORY: frozenset({C, N, A}),
    Permission.AUDIT_VIEW: frozenset({A}),
    Permission.CLINIC_MANAGE: frozenset({A}),
    # Administrators log in with a second factor whatever the clinic's setting (docs/SECURITY.md).
    Permission.SECOND_FACTOR_ALWAYS: frozenset({A}),
    # Those who prepare syringes and run the session; the calculators read and store no patient data.
    Permission.CALCULATOR_USE: frozenset({C, N}),
    # Screening reads the clinical record, so it goes with patient.view_clinical.
    Permission.SCREENING_RUN: frozenset({C, N}),
    # Proceeding despite a contraindication or caution is a prescriber's decision (DOMAIN.md §5: "clinician decides").
    Permission.SCREENING_OVERRIDE: frozenset({C}),
    # Templates hold no patient data: everyone who works with courses may read them.
    Permission.PROTOCOL_VIEW: frozenset({C, N, F, A, R}),
    Permission.PROTOCOL_MANAGE: frozenset({C, A}),
    # Courses, session notes and adverse events are the clinical record.
    Permission.COURSE_VIEW: frozenset({C, N}),
    # Choosing a protocol and stopping a course are treatment decisions.
    Permission.COURSE_MANAGE: frozenset({C}),
    # The calendar shows who comes when, not what is done: the front desk runs it.
    Permission.SCHEDULE_VIEW: frozenset({C, N, F, A}),
    Permission.SCHEDULE_MANAGE: frozenset({C, N, F}),
    # Nurses prepare solutions, tick the checklist and chart sites; only the treating clinician signs or amends.
    Permission.SESSION_RECORD: frozenset({C, N}),
    Permission.SESSION_SIGN: frozenset({C}),
    # Who can be booked as a session's treating clinician; their calendar feed lists their own appointments only.
    Permission.SESSION_TREAT: frozenset({C}),
    Permission.SESSION_AMEND: frozenset({C}),
    Permission.ADVERSE_EVENT_RECORD: frozenset({C, N}),
    # A pharmacist's recall: everyone who received a product's lot, with contact details, to call them back. The
    # clinic's administrators run it with the clinicians (issue 15); each run is a disclosure on every patient named.
    Permission.LOT_RECALL: frozenset({C, A}),
    # Whether the procedure is feasible at the imaged site is a clinical decision (docs/IMAGING.md).
    Permission.IMAGING_DECIDE: frozenset({C}),
    # Outcome scores and answers are clinical; collecting them (a link, a tablet, a paper form typed in) is also front
    # desk's job at check-in.
    Permission.OUTCOMES_VIEW: frozenset({C, N}),
    Permission.OUTCOMES_COLLECT: frozenset({C, N, F}),
    # Importing licensed item texts is the clinic's licence decision.
    Permission.INSTRUMENT_MANAGE: frozenset({C, A}),
    # The dashboard shows only aggregates (no names, no identifiers).
    Permission.DASHBOARD_VIEW: frozenset({C, A, R}),
    # Day-level ranges, charts and CSV files; without it (researchers) the dashboard shows whole ended quarters only.
    Permission.DASHBOARD_DETAIL: frozenset({C, A}),
    Permission.OUTBOX_VIEW: frozenset({C, N, F, A}),
    # Those who see patients on the calendar may subscribe to their own feed.
    Permission.CALENDAR_FEED: frozenset({C, N, F}),
    # Consent forms, visit summaries and progress reports carry clinical content.
    Permission.DOCUMENT_VIEW: frozenset({C, N}),
    Permission.HANDOUT_MANAGE: frozenset({C, A}),
    Permission.CONSENT_MANAGE: frozenset({C, N}),
    Permission.FHIR_IMPORT: frozenset({C, A}),
    Permission.COHORT_MANAGE: frozenset({C, A}),
    # An identifiable bulk export of the clinic is a disclosure: administrators only.
    Permission.BULK_EXPORT: frozenset({A}),
    # De-identified, consented only (docs/RESEARCH.md).
    Permission.RESEARCH_EXPORT: frozenset({A, R}),
    Permission.API_TOKEN_USE: frozenset({C, N, F, A, R}),
    # Money (docs/BILLING.md, issue 15). Balances, invoices and payments of a patient: the front desk who takes the
    # money, the clinician who sees the balance, the administrator; researchers see no money.
    Permission.BILLING_VIEW: frozenset({C, F, A}),
    # Drafting, editing and issuing invoices (checking a patient out) is the front desk's job.
    Permission.BILLING_INVOICE: frozenset({F, A}),
    # Taking a payment, using account credit.
    Permission.BILLING_PAYMENT: frozenset({F, A}),
    # Credit notes (a void is one) and refunds give money back: the administrator.
    Permission.BILLING_CREDIT: frozenset({A}),
    # The fee schedule: codes, prices and their versions.
    Permission.BILLING_FEES: frozenset({A}),
    # A patient's coverage and the Medicare ABN (issue 15): whoever sees the account records who pays and goes through
    # the notice with the patient (front desk at check-in, the clinician who plans the course, the administrator).
    Permission.BILLING_ABN: frozenset({C, F, A}),
    # The day's takings by method (the till and card terminal cashed up): the front desk who took the money, and the
    # administrator. Names no patient and no clinician's earnings.
    Permission.BILLING_TAKINGS: frozenset({F, A}),
    # The financial reports: takings by clinician, invoices and credit notes issued, ageing by patient, package
    # liability, the accountant's CSV files (issue 15: "admins manage ... reports").
    Permission.BILLING_REPORTS: frozenset({A}),
    # People who booked online and are not patients yet (issue 16): the front desk confirms them as new patients,
    # merges them into an existing record or rejects them, as it registers patients at the desk; the administrator
    # too (a clinic without a front desk). Clinicians and nurses see the booking on the calendar, not the queue.
    Permission.BOOKING_PENDING: frozenset({F, A}),
}


def role_has(role: str, permission: Permission) -> bool:
    """Whether a role holds a permission."""
    return role in ROLE_PERMISSIONS[permission]


def roles_with(permission: Permission) -> frozenset[str]:
    """The roles that hold a permission (for a query over memberships)."""
    return ROLE_PERMISSIONS[permission]


def require_permission(actor: Any, permission: Permission) -> None:
    """Refuse a service call whose actor's role lacks the permission, whatever the caller checked."""
    if not role_has(actor.role, permission):
        raise AccessDenied("Your role does not allow this.")
