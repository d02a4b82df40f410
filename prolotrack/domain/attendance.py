"""Whether an appointment may be marked attended or a no-show (docs/BOOKING.md, "Attended and no-show").

Pure: the caller passes the appointment's state, its start, "now" and the clinic's zone. The rules:

- only a booked appointment is marked, or one already marked is corrected (attended <-> no-show; the earlier mark stays
  in the record's versions): a held, cancelled or moved-away booking is not a visit that could have happened;
- only once its start time has come: before it, nobody can know whether the person comes (a no-show marked early
  would also free nothing: the time is still held), and attended before the start is a slip of the wrong row;
- only for a patient: a person who booked online and is not confirmed yet has no chart for the visit to go on, so the
  front desk confirms or merges them first.
"""

from datetime import datetime, tzinfo

MARKS = {"attended": "attended", "no_show": "a no-show"}
MARKABLE = ("booked", "attended", "no_show")


def attendance_refusal(
    current: str, wanted: str, starts_at: datetime, now: datetime, zone: tzinfo, *, for_patient: bool
) -> str | None:
    """Why the appointment cannot be marked `wanted` ("attended" or "no_show"), or None when it can."""
    if wanted not in MARKS:
        return "Mark the appointment attended or a no-show."
    if current == wanted:
        return f"It is already marked {MARKS[wanted]}."
    if current not in MARKABLE:
        return f"A {current.replace('_', '-')} appointment is not marked attended or a no-show."
    if not for_patient:
        return "Confirm or merge the person who booked online first: attendance goes on a patient's chart."
    if now < starts_at:
        return (
            f"It starts at {starts_at.astimezone(zone):%Y-%m-%d %H:%M}: mark it {MARKS[wanted]} once the time has come."
        )
    return None
