"""One treatment session: running totals of the injection map, the pre-procedure checklist, and what blocks signing.

Totals sum every site's volume drawn from its prepared solution (DOMAIN.md §2: "sum anaesthetic over every syringe
of the session, skin wheals included") and check the anaesthetic against the weight-based limits (§3, via
`anaesthetic.check_session`). The number of injections outside the clinic's range is a warning, never a block
(§4: "4 to 15 injections a session" is roughly right; single-tendon protocols use 1-3, spinal sessions can exceed
15). See docs/clinical/session.md.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from prolotrack.domain import sources
from prolotrack.domain.agents import Agent, AgentConcentration
from prolotrack.domain.anaesthetic import (
    DEFAULT_WARN_FRACTION,
    Administration,
    DoseStatus,
    SessionDoseCheck,
    check_session,
)
from prolotrack.domain.errors import InputError
from prolotrack.domain.mixing import AgentAmount, content_of_volume, total_content
from prolotrack.domain.quantities import fmt

# DOMAIN.md §4: "4 to 15 injections a session" — a warning range, clinic setting.
DEFAULT_MIN_INJECTIONS = 4
DEFAULT_MAX_INJECTIONS = 15


@dataclass(frozen=True)
class SessionRules:
    """Clinic settings that the session checks read."""

    min_injections: int = DEFAULT_MIN_INJECTIONS
    max_injections: int = DEFAULT_MAX_INJECTIONS
    warn_fraction: Decimal = DEFAULT_WARN_FRACTION

    def __post_init__(self) -> None:
        if not 1 <= self.min_injections <= self.max_injections <= 100:
            raise InputError(
                f"Injection range {self.min_injections}-{self.max_injections} is not valid: "
                "the minimum must be at least 1 and not above the maximum (at most 100)."
            )


@dataclass(frozen=True)
class PreparedSolution:
    """A solution prepared for the session: its label, final concentrations, and whether the anaesthetic has epinephrine."""

    label: str
    concentrations: tuple[AgentConcentration, ...]
    with_epinephrine: bool = False


@dataclass(frozen=True)
class SiteDraw:
    """One injection: which solution and how much."""

    solution: str
    volume_ml: Decimal


@dataclass(frozen=True)
class SessionTotals:
    """What the map's running totals show."""

    injections: int
    volume_ml: Decimal
    amounts: tuple[AgentAmount, ...]
    dose: SessionDoseCheck | None
    status: DoseStatus
    warnings: tuple[str, ...]
    blocks: tuple[str, ...]

    @property
    def dextrose_g(self) -> Decimal:
        return next((a.g for a in self.amounts if a.agent is Agent.DEXTROSE), Decimal(0))

    def mg_of(self, agent: Agent) -> Decimal:
        return next((a.mg for a in self.amounts if a.agent is agent), Decimal(0))

    @property
    def anaesthetic_mg(self) -> Decimal:
        return sum((a.mg for a in self.amounts if a.agent.is_local_anaesthetic), Decimal(0))


def session_totals(
    solutions: Mapping[str, PreparedSolution],
    draws: Sequence[SiteDraw],
    weight_kg: Decimal | None,
    rules: SessionRules | None = None,
    *,
    date_of_birth: date | None = None,
    on: date | None = None,
) -> SessionTotals:
    """Sum the session's injections and grade them: OK, WARN (near a limit, odd count) or BLOCK (over a limit)."""
    rules = rules or SessionRules()
    contents = []
    administrations: list[Administration] = []
    volume = Decimal(0)
    for draw in draws:
        solution = solutions.get(draw.solution)
        if solution is None:
            raise InputError(f"Site uses solution '{draw.solution}', which was not prepared in this session.")
        content = content_of_volume(solution.concentrations, draw.volume_ml)
        contents.append(content)
        volume += draw.volume_ml
        administrations += [
            Administration(drug=a.agent, with_epinephrine=solution.with_epinephrine, mg=a.mg)
            for a in content
            if a.agent.is_local_anaesthetic
        ]
    amounts = total_content(contents)
    warnings: list[str] = []
    blocks: list[str] = []
    count = len(draws)
    if count and not rules.min_injections <= count <= rules.max_injections:
        warnings.append(
            f"{count} injection{'s' if count != 1 else ''}: outside the clinic's usual "
            f"{rules.min_injections}-{rules.max_injections} per session. Check this is intended."
        )
    dose: SessionDoseCheck | None = None
    if administrations:
        if weight_kg is None:
            blocks.append(
                "No weight recorded for this session: local anaesthetic limits are per kilogram. "
                "Record the patient's weight first."
            )
        else:
            dose = check_session(weight_kg, administrations, rules.warn_fraction, date_of_birth=date_of_birth, on=on)
            if dose.status is DoseStatus.BLOCK:
                blocks.extend(dose.messages)
            elif dose.status is DoseStatus.WARN:
                warnings.extend(dose.messages)
    status = DoseStatus.BLOCK if blocks else DoseStatus.WARN if warnings else DoseStatus.OK
    return SessionTotals(
        injections=count,
        volume_ml=volume,
        amounts=amounts,
        dose=dose,
        status=status,
        warnings=tuple(warnings),
        blocks=tuple(blocks),
    )


# --- Pre-procedure checklist ---------------------------------------------------------------------------------


class ChecklistItem(StrEnum):
    """A pre-procedure check, ticked by a named member of staff."""

    MEAL = "meal"
    CONSENT = "consent"
    DRIVER = "driver"
    SKIN_PREP = "skin_prep"
    NUMBING = "numbing"
    TIME_OUT = "time_out"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "na"


@dataclass(frozen=True)
class ItemSpec:
    item: ChecklistItem
    label: str
    # Answers that allow signing; an item not listed for the day (e.g. driver without sedation) is skipped.
    accepted: frozenset[Answer]
    source: str
    only_with_sedation: bool = False
    # An optional item is recorded when ticked but never blocks signing, ticked or not (issue 11).
    optional: bool = False

    @property
    def required(self) -> bool:
        return not self.optional


CHECKLIST: tuple[ItemSpec, ...] = (
    ItemSpec(
        ChecklistItem.MEAL,
        "Light meal eaten today (to prevent dizziness); a 'no' is recorded, not a block",
        frozenset({Answer.YES, Answer.NO}),
        sources.LIGHT_MEAL,
    ),
    ItemSpec(
        ChecklistItem.CONSENT,
        "Signed consent on file covering off-label use and no insurance cover",
        frozenset({Answer.YES}),
        sources.CONSENT,
    ),
    ItemSpec(
        ChecklistItem.DRIVER,
        "Oral sedation planned: a driver is arranged",
        frozenset({Answer.YES}),
        sources.SEDATION_DRIVER,
        only_with_sedation=True,
    ),
    ItemSpec(
        ChecklistItem.SKIN_PREP,
        "Aseptic skin preparation done",
        frozenset({Answer.YES}),
        sources.SKIN_PREP,
    ),
    ItemSpec(
        ChecklistItem.NUMBING,
        "Numbing cream or skin wheal (optional)",
        frozenset({Answer.YES, Answer.NO, Answer.NOT_APPLICABLE}),
        sources.SKIN_PREP,
        optional=True,
    ),
    ItemSpec(
        ChecklistItem.TIME_OUT,
        "Time-out: right patient, procedure, side and sites confirmed aloud",
        frozenset({Answer.YES}),
        sources.TIME_OUT,
    ),
)
SPECS = {spec.item: spec for spec in CHECKLIST}


def checklist_for(sedation: bool) -> tuple[ItemSpec, ...]:
    """The items that apply to a session."""
    return tuple(spec for spec in CHECKLIST if sedation or not spec.only_with_sedation)


class ConsentState(StrEnum):
    """Whether the course has a current (signed, not withdrawn) treatment consent."""

    CURRENT = "current"
    MISSING = "missing"
    WITHDRAWN = "withdrawn"


# The blocker texts name "treatment consent" so the page can put the consent page's link beside them.
CONSENT_BLOCKERS = {
    ConsentState.MISSING: (
        "No signed treatment consent for this course: the patient signs the consent form (plan, risks, off-label "
        "use, cost) before the session is signed."
    ),
    ConsentState.WITHDRAWN: (
        "The patient withdrew the treatment consent for this course: a new signed consent is needed before any "
        "further session is signed."
    ),
}


@dataclass(frozen=True)
class SigningState:
    """Facts about a session that decide whether it may be signed."""

    sedation: bool
    answers: Mapping[ChecklistItem, Answer]
    screened_for_the_day: bool
    unresolved_contraindications: tuple[str, ...]
    totals: SessionTotals
    solutions_prepared: int
    already_signed: bool = False
    extra_blocks: tuple[str, ...] = field(default=())
    # DOMAIN.md §5: "Consent covers off-label use and the lack of insurance cover". Missing unless shown otherwise.
    consent: ConsentState = ConsentState.MISSING
    # The Medicare ABN gate (domain/abn.py gate_blockers): empty unless the course needs a current ABN it lacks.
    abn: tuple[str, ...] = field(default=())


def signing_blockers(state: SigningState) -> tuple[str, ...]:
    """Every reason the session cannot be signed yet, in the order a clinician would fix them."""
    reasons: list[str] = []
    if state.already_signed:
        return ("This session is already signed; correct it with an amendment.",)
    if state.consent is not ConsentState.CURRENT:
        reasons.append(CONSENT_BLOCKERS[state.consent])
    reasons.extend(state.abn)
    if not state.screened_for_the_day:
        reasons.append(
            "Re-check screening for the day of the procedure (NSAID window, new medications, infection, pregnancy)."
        )
    for reason in state.unresolved_contraindications:
        reasons.append(f"Unresolved contraindication: {reason}")
    for spec in checklist_for(state.sedation):
        if spec.optional:
            continue
        answer = state.answers.get(spec.item)
        if answer is None:
            reasons.append(f"Checklist not ticked: {spec.label}.")
        elif answer not in spec.accepted:
            reasons.append(f"Checklist answer '{answer.value}' does not allow signing: {spec.label}.")
    if state.solutions_prepared == 0:
        reasons.append("No solution recorded: add the prepared solution with its lot numbers.")
    if state.totals.injections == 0:
        reasons.append("No injection sites recorded on the map.")
    reasons.extend(state.totals.blocks)
    reasons.extend(state.extra_blocks)
    return tuple(reasons)


def describe_totals(totals: SessionTotals) -> str:
    """One line for a summary: count, volume, dextrose and anaesthetic."""
    return (
        f"{totals.injections} injections, {fmt(totals.volume_ml)} mL, "
        f"dextrose {fmt(totals.dextrose_g)} g, anaesthetic {fmt(totals.anaesthetic_mg)} mg"
    )
