"""Questionnaire items as the pages show them: one field per item, grouped in fieldsets, with texts and errors.

Shared by the patient's pages (by link) and the staff's paper entry, so both ask the same questions the same way.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from prolotrack.domain import instrument_translations
from prolotrack.domain import instruments as domain
from prolotrack.domain.errors import DomainError


@dataclass
class Choice:
    value: str
    label: str
    checked: bool


@dataclass
class Field:
    name: str
    link_id: str
    text: str
    kind: str  # scale, number, choice, boolean
    required: bool
    value: str = ""
    choices: list[Choice] = field(default_factory=list)
    minimum: int | None = None
    maximum: int | None = None
    low_label: str | None = None
    high_label: str | None = None
    error: str = ""

    @property
    def compact(self) -> bool:
        """A short numeric scale shown as a row of buttons."""
        return self.kind == "scale"


@dataclass
class Group:
    label: str
    fields: list[Field]


@dataclass
class Form:
    code: str
    title: str
    intro: str
    groups: list[Group]
    licensed_without_texts: bool = False
    errors: list[str] = field(default_factory=list)
    lang: str = ""  # the language of the instrument's texts when it differs from the page's ("" when the same)
    language_note: str = ""  # on a page not in English: why a licensed instrument is not in the page's language

    @property
    def fields(self) -> list[Field]:
        return [f for g in self.groups for f in g.fields]


def _text(item: domain.Item, texts: Mapping[str, Any] | None, number: int) -> str:
    if item.text:
        return item.text
    imported = ((texts or {}).get("items") or {}).get(item.link_id)
    return imported or _("Question %(number)s (%(link_id)s)") % {"number": number, "link_id": item.link_id}


def build(
    code: str,
    values: Mapping[str, Any] | None = None,
    *,
    texts: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    prefix: str = "",
) -> Form:
    """The form of one instrument, filled with `values` (stored answers or posted text), in the active language
    where the product ships the instrument's texts in it (domain/instrument_translations.py)."""
    domain.definition(code)  # an unknown code raises here, with the domain's message
    page_language = translation.get_language() or "en"
    found, texts_language = instrument_translations.localized(code, page_language)
    values = values or {}
    errors = errors or {}
    option_texts = (texts or {}).get("options") or {}
    labels = dict(found.subscales)
    groups: list[Group] = []
    by_group: dict[str, Group] = {}
    for number, item in enumerate(found.items, start=1):
        raw = values.get(item.link_id)
        value = "" if raw is None else ("true" if raw is True else "false" if raw is False else str(raw))
        f = Field(
            name=f"{prefix}{item.link_id}",
            link_id=item.link_id,
            text=_text(item, texts, number),
            kind="",
            required=item.required,
            value=value,
            error=errors.get(item.link_id, ""),
            low_label=item.low_label,
            high_label=item.high_label,
        )
        if item.answer_type is domain.AnswerType.BOOLEAN:
            f.kind = "boolean"
            f.choices = [Choice("true", _("Yes"), value == "true"), Choice("false", _("No"), value == "false")]
        elif item.options:
            f.kind = "choice"
            imported = option_texts.get(item.link_id) or {}
            f.choices = [
                Choice(str(o.value), o.label or imported.get(str(o.value)) or str(o.value), value == str(o.value))
                for o in item.options
            ]
            # A licensed item with bare numbers (no imported labels) reads like a scale.
            if all(c.label == c.value for c in f.choices):
                f.kind = "scale"
        elif item.answer_type is domain.AnswerType.INTEGER and (item.maximum or 0) - (item.minimum or 0) <= 10:
            f.kind = "scale"
            f.choices = [
                Choice(str(v), str(v), value == str(v)) for v in range(item.minimum or 0, (item.maximum or 0) + 1)
            ]
        else:
            f.kind = "number"
            f.minimum, f.maximum = item.minimum, item.maximum
        if item.group not in by_group:
            label = labels.get(item.group) or _group_label(item.group)
            by_group[item.group] = Group(label, [])
            groups.append(by_group[item.group])
        by_group[item.group].fields.append(f)
    licensed_missing = found.licensed and not (texts or {}).get("items")
    form = Form(code, (texts or {}).get("title") or found.title, found.intro, groups, licensed_missing)
    if found.licensed:
        if not page_language.startswith("en"):
            form.language_note = licensed_note()
    elif texts_language != page_language:
        form.lang = texts_language
    return form


def licensed_note() -> str:
    """On a page not in English: why a licensed instrument may be in English (its texts are the clinic's import)."""
    return _(
        "This questionnaire is licensed: it is shown in the wording your clinic is licensed to use, which may be "
        "in English. If you need help with it, ask the clinic's staff."
    )


def _group_label(group: str) -> str:
    """A diary day's heading ("Day 1 (the day of the injection)", "Day 2"), or '' for no group."""
    if not group:
        return ""
    if group == "day1":
        return _("Day 1 (the day of the injection)")
    if group.startswith("day") and group[3:].isdigit():
        return _("Day %(number)s") % {"number": group[3:]}
    return group


@dataclass(frozen=True)
class Answer:
    """One question and the patient's answer as the review step shows it ('' when not answered)."""

    question: str
    answer: str
    scale: str  # for a numeric scale, what its ends mean: "0 = No pain, 10 = Worst pain imaginable"
    required: bool


def answers(form: Form) -> list[Answer]:
    """Each question of a filled form with its answer in words: the option's label, or the number and the scale's ends."""
    out = []
    for f in form.fields:
        scale = ""
        if f.kind in ("choice", "boolean"):
            shown = next((c.label for c in f.choices if c.checked), "")
        else:
            shown = f.value
            ends = []
            low, high = (f.choices[0].value, f.choices[-1].value) if f.choices else (f.minimum, f.maximum)
            if f.low_label:
                ends.append(f"{low} = {f.low_label}")
            if f.high_label:
                ends.append(f"{high} = {f.high_label}")
            scale = ", ".join(ends)
        out.append(Answer(f.text, shown, scale, f.required))
    return out


def parse(code: str, data: Mapping[str, Any], *, prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """Posted form data -> (answers by linkId, errors by linkId). Blank answers are left out."""
    found = domain.definition(code)
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in found.items:
        raw = data.get(f"{prefix}{item.link_id}", "")
        if raw is None or str(raw).strip() == "":
            continue
        try:
            value = domain.clean_answer(item, raw)
        except DomainError:
            errors[item.link_id] = _answer_error(item)
            continue
        if value is not None:
            answers[item.link_id] = value
    return answers, errors


def _answer_error(item: domain.Item) -> str:
    """What to fix in a refused answer, in the page's language (shown next to the question, so it is not repeated)."""
    if item.answer_type is domain.AnswerType.BOOLEAN:
        return _("Answer yes or no.")
    if item.options:
        return _("Choose one of the answers.")
    if item.answer_type is domain.AnswerType.INTEGER:
        return _("Answer with a whole number between %(minimum)s and %(maximum)s.") % {
            "minimum": item.minimum,
            "maximum": item.maximum,
        }
    return _("Answer with a number between %(minimum)s and %(maximum)s.") % {
        "minimum": item.minimum,
        "maximum": item.maximum,
    }


def stored(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Answers in the form the pages post back (strings), for re-showing stored answers."""
    return dict(answers)
