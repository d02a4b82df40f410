"""The shipped instruments' texts in other languages (issue 16; licence basis in docs/OUTCOMES.md, "Languages").

Only instruments whose texts the product may ship (NRS, VAS, PGIC and the product's own post-injection diary,
DOMAIN.md §8) are translated here. A licensed instrument (WOMAC, KOOS, ODI, ...) is never translated by the product:
its texts are the clinic's licensed import, in the language the clinic imported, and the page says so.

The Spanish wording is the product's own plain-language translation for patients in the US ("usted"), not a
published cross-culturally validated version: the numbers, anchors and answer order are the English instrument's,
so scores are comparable, but a study that needs a validated Spanish version should use one.

Kept apart from Django's .po catalogue on purpose: an instrument's wording is clinical content with a licence and a
source, changed only with review here (and a test checks every shipped text has its translation), not by a
translator's edit of the catalogue.
"""

from dataclasses import replace

from .instruments import DEFINITIONS, DIARY_DAYS, Definition, Item, Option

# The languages the shipped instruments are available in, besides English (the texts in instruments.py).
LANGUAGES = ("es",)


def _diary_day_es(d: int) -> str:
    return "el día de la inyección" if d == 1 else f"el día {d} después de la inyección"


def _diary_day_en(d: int) -> str:  # as instruments._diary_items writes it
    return "the day of the injection" if d == 1 else f"day {d} after the injection"


def _diary_phrases_es() -> dict[str, str]:
    out: dict[str, str] = {}
    for d in range(1, DIARY_DAYS + 1):
        en, es = _diary_day_en(d), _diary_day_es(d)
        out[f"Your worst pain on {en} (0-10)"] = f"Su peor dolor {es} (0-10)"
        out[f"Did the pain flare up on {en}?"] = f"¿Tuvo un aumento repentino del dolor {es}?"
        out[f"Any bruising where you were injected on {en}?"] = f"¿Le salieron moretones donde le inyectaron {es}?"
        out[f"Which pain medicine did you take on {en}?"] = f"¿Qué medicina para el dolor tomó {es}?"
    return out


# Every English text of the shipped instruments (titles, introductions, questions, scale ends, option labels) ->
# its Spanish. A text missing here would show in English on a Spanish page: the tests refuse that.
SPANISH: dict[str, str] = {
    # NRS (nrs_pain)
    "Pain rating (0-10)": "Intensidad del dolor (0-10)",
    "How bad is your pain right now?": "¿Qué tan fuerte es su dolor en este momento?",
    "On average, how bad was your pain over the last 7 days?": (
        "En promedio, ¿qué tan fuerte fue su dolor en los últimos 7 días?"
    ),
    "At its worst, how bad was your pain over the last 7 days?": (
        "En su peor momento, ¿qué tan fuerte fue su dolor en los últimos 7 días?"
    ),
    "Think about the pain in the area being treated. 0 means no pain, 10 the worst pain you can imagine.": (
        "Piense en el dolor de la zona que se está tratando. 0 significa sin dolor y 10, el peor dolor que "
        "pueda imaginar."
    ),
    "No pain": "Sin dolor",
    "Worst pain imaginable": "El peor dolor imaginable",
    # VAS (vas_pain)
    "Pain scale (0-100)": "Escala del dolor (0-100)",
    "How bad is your pain right now? Move to the point that matches it.": (
        "¿Qué tan fuerte es su dolor en este momento? Marque el punto que corresponde a su dolor."
    ),
    # PGIC
    "Overall change since treatment started": "Cambio general desde que empezó el tratamiento",
    "Since you started this treatment, how would you describe the change in your condition "
    "(pain, activity, overall)?": (
        "Desde que empezó este tratamiento, ¿cómo describiría el cambio en su condición (dolor, actividad, en general)?"
    ),
    "Very much improved": "Muchísimo mejor",
    "Much improved": "Mucho mejor",
    "Minimally improved": "Un poco mejor",
    "No change": "Sin cambios",
    "Minimally worse": "Un poco peor",
    "Much worse": "Mucho peor",
    "Very much worse": "Muchísimo peor",
    # The post-injection diary (the product's own)
    "Diary of the 7 days after an injection": "Diario de los 7 días después de una inyección",
    "Fill in one day at a time. You can come back to this page each day until the link expires.": (
        "Complete un día a la vez. Puede volver a esta página cada día hasta que venza el enlace."
    ),
    "None": "Ninguna",
    "Paracetamol (acetaminophen)": "Acetaminofén (paracetamol)",
    "An anti-inflammatory (e.g. ibuprofen, naproxen)": "Un antiinflamatorio (por ejemplo, ibuprofeno o naproxeno)",
    "Another pain medicine": "Otra medicina para el dolor",
    **_diary_phrases_es(),
}

PHRASES: dict[str, dict[str, str]] = {"es": SPANISH}


def texts_of(found: Definition) -> list[str]:
    """Every English text of an instrument a patient reads: title, introduction, questions, scale ends, options."""
    out = [found.title] + ([found.intro] if found.intro else [])
    for item in found.items:
        out += [t for t in (item.text, item.low_label, item.high_label) if t]
        out += [o.label for o in item.options if o.label]
    return out


def _item(item: Item, words: dict[str, str]) -> Item:
    def say(text: str | None) -> str | None:
        return words.get(text, text) if text else text

    return replace(
        item,
        text=say(item.text),
        low_label=say(item.low_label),
        high_label=say(item.high_label),
        options=tuple(Option(o.value, say(o.label)) for o in item.options),
    )


def localized(code: str, language: str) -> tuple[Definition, str]:
    """The instrument in `language` when the product ships it translated, with the language its texts are in:
    (the Spanish definition, "es"), or (the English one, "en") for English and for every licensed instrument."""
    found = DEFINITIONS[code]
    words = PHRASES.get(language)
    if words is None or found.licensed:
        return found, "en"
    return (
        replace(
            found,
            title=words.get(found.title, found.title),
            intro=words.get(found.intro, found.intro) if found.intro else "",
            items=tuple(_item(i, words) for i in found.items),
        ),
        language,
    )
