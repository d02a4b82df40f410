"""Which language a patient document is written in, and which text of each clinic-editable part it prints.

Patient documents (handouts today; docs/LANGUAGES.md, "Documents") follow the patient's preferred language unless
staff choose another when they open or generate one. A clinic-editable part (a handout section) is printed from, in
this order: the clinic's own text in that language; the product's shipped text in that language; then English (the
clinic's English text, else the product's). The document says which language it is in, and a part that fell back to
English is marked so staff see it before handing it out. Pure: the callers read the rows and settings.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

ENGLISH = "en"
CLINIC, PRODUCT = "clinic", "product"


def document_language(asked: str | None, preferred: str | None, offered: Sequence[str]) -> str:
    """The language of a document: the one staff asked for when offered, else the patient's preferred language when
    offered, else English. Codes are compared as written, lower case ("es"); the callers pass supported codes."""
    for code in (asked, preferred):
        if code and code.strip().lower() in offered:
            return code.strip().lower()
    return ENGLISH


@dataclass(frozen=True)
class PartText:
    """Which text of one part to print: its language and whether it is the clinic's or the product's."""

    language: str
    origin: str  # CLINIC or PRODUCT


def part_text(language: str, clinic_wrote: Collection[str], product_has: Collection[str]) -> PartText:
    """The text of one clinic-editable part in `language`, given the languages the clinic has written it in and the
    languages the product ships it in (English always): the clinic's, else the product's, else English."""
    if language in clinic_wrote:
        return PartText(language, CLINIC)
    if language in product_has:
        return PartText(language, PRODUCT)
    return PartText(ENGLISH, CLINIC if ENGLISH in clinic_wrote else PRODUCT)
