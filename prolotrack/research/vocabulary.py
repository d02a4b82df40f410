"""The coded vocabulary of indications that researcher outputs use: the product's own indication list.

A course's indication is typed text (it may hold anything, a relative's name included), so no researcher output reads
it. The code comes from the course's protocol template: each built-in template (prolotrack.domain.protocols) treats
one indication of the product's list; a course on a clinic's own template or on none is coded `other`. Free text is
dropped, never filtered by pattern (docs/RESEARCH.md, "No free text").
"""

import re

from prolotrack.domain.protocols import TEMPLATES

OTHER = "other"
OTHER_LABEL = "Other indication (not on the product's list)"


def _code(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower().split(",")[0].split("(")[0]).strip("_")


# code -> label, in the templates' order; two templates of one indication share its code.
INDICATIONS: dict[str, str] = {}
PROTOCOL_INDICATION: dict[str, str] = {}
for _template in TEMPLATES:
    INDICATIONS.setdefault(_code(_template.indication), _template.indication.split(",")[0])
    PROTOCOL_INDICATION[_template.code] = _code(_template.indication)
INDICATIONS[OTHER] = OTHER_LABEL
PROTOCOL_LABELS = {t.code: t.name for t in TEMPLATES}
CLINIC_TEMPLATE = "clinic_template"


def indication_code(protocol_id: str | None) -> str:
    """The course's indication code, from its protocol template only (never from the typed indication)."""
    return PROTOCOL_INDICATION.get(protocol_id or "", OTHER)


def protocol_code(protocol_id: str | None) -> str | None:
    """A built-in template's code as it is; a clinic template's id (an internal record id) becomes `clinic_template`."""
    if not protocol_id:
        return None
    return protocol_id if protocol_id in PROTOCOL_LABELS else CLINIC_TEMPLATE


def indication_choices() -> list[tuple[str, str]]:
    return list(INDICATIONS.items())
