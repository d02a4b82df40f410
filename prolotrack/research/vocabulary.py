"""The coded vocabulary of indications that researcher outputs use: the product's own indication list.

A course's indication is typed text (it may hold anything, a relative's name included), so no researcher output reads
it. The code comes from the course's protocol template: each built-in template (prolotrack.domain.protocols) treats
one indication of the product's list; a course on a clinic's own template or on none is coded `other`. Free text is
dropped, never filtered by pattern (docs/RESEARCH.md, "No free text").
"""

from prolotrack.domain.icd10cm import INDICATIONS, OTHER, PROTOCOL_INDICATION, indication_code
from prolotrack.domain.protocols import TEMPLATES

# The vocabulary itself (code -> label, protocol -> code) lives in the domain (domain/icd10cm.py), where the superbill's
# ICD-10-CM table is keyed by the same codes; it is re-exported here for the research outputs.
__all__ = ["INDICATIONS", "OTHER", "OTHER_LABEL", "PROTOCOL_INDICATION", "indication_code"]
OTHER_LABEL = INDICATIONS[OTHER]
PROTOCOL_LABELS = {t.code: t.name for t in TEMPLATES}
CLINIC_TEMPLATE = "clinic_template"


def protocol_code(protocol_id: str | None) -> str | None:
    """A built-in template's code as it is; a clinic template's id (an internal record id) becomes `clinic_template`."""
    if not protocol_id:
        return None
    return protocol_id if protocol_id in PROTOCOL_LABELS else CLINIC_TEMPLATE


def indication_choices() -> list[tuple[str, str]]:
    return list(INDICATIONS.items())
