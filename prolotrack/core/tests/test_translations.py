"""The Spanish catalogue: complete, compiled, consistent with the code (docs/LANGUAGES.md, "Updating translations").

Without GNU gettext installed, the checks of the committed files still run (the .po is read by core/pofile.py and
the .mo by Python's gettext); only the check that the .po holds every string marked in the code needs xgettext
(`makemessages`), and says so when skipped.
"""

import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from prolotrack.core import pofile

LOCALE = Path(settings.LOCALE_PATHS[0])
REPO_ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")
# Django date-format letters that name the weekday and month, which a long date must keep in every language.
DATE_LETTERS = set("ljFY")


def _languages() -> list[str]:
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _po(code: str) -> Path:
    return LOCALE / code / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("code", _languages())
def test_every_message_has_a_translation_and_none_is_fuzzy(code):
    entries = pofile.read(_po(code))[1:]
    assert entries, f"{_po(code)} holds no messages"
    untranslated = [e.msgid for e in entries if not e.translated]
    assert untranslated == [], f"{code}: translate these (and remove any 'fuzzy' flag), then compile: {untranslated}"


@pytest.mark.parametrize("code", _languages())
def test_no_message_holds_an_escape_xgettext_did_not_read(code):
    """xgettext keeps Python's \\u escapes as written, so a msgid with one never matches the string the code asks for
    at run time and the page stays English: write the character itself, or plain quotes."""
    escaped = [e.msgid for e in pofile.read(_po(code))[1:] if re.search(r"\\[uUN]", e.msgid)]
    assert escaped == [], f"{code}: these were marked with a \\u escape, which gettext never matches: {escaped}"


@pytest.mark.parametrize("code", _languages())
def test_the_compiled_mo_is_the_po(code):
    """A .po edited without compiling (`make messages`) fails here: the .mo must hold exactly what the .po says."""
    mo = _po(code).with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `make messages` (or manage.py compilemessages) and commit it"
    with mo.open("rb") as handle:
        compiled = vars(gettext.GNUTranslations(handle))["_catalog"]
    expected = pofile.expected_catalog(pofile.read(_po(code)))
    stale = sorted(str(k) for k in set(expected) ^ set(compiled))
    changed = sorted(str(k) for k in set(expected) & set(compiled) if k != "" and expected[k] != compiled[k])
    assert not stale and not changed, f"{mo} is out of date with its .po: recompile. Differs: {stale + changed}"


@pytest.mark.parametrize("code", _languages())
def test_each_translation_keeps_the_placeholders_of_its_message(code):
    """A translation that drops or renames %(clinic)s would fail when the message is written (or lose the fact)."""
    wrong = []
    for entry in pofile.read(_po(code))[1:]:
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        for n, text in enumerate(entry.msgstr):
            source = entry.msgid if entry.msgid_plural is None or n == 0 else entry.msgid_plural
            expected = wanted if entry.msgid_plural is None else sorted(PLACEHOLDER.findall(source))
            # A plural form may leave out the count ("one question"), never add or rename a placeholder.
            found = sorted(PLACEHOLDER.findall(text))
            if (entry.msgid_plural is None and found != expected) or not set(found) <= set(expected):
                wrong.append((entry.msgid, text))
        if entry.msgctxt and "date" in entry.msgctxt:
            letters = {c for c in re.sub(r"\\.", "", entry.msgstr[0]) if c.isalpha()}
            assert DATE_LETTERS & set(entry.msgid) <= letters, f"{entry.msgid!r} lost a date part: {entry.msgstr[0]!r}"
    assert wrong == [], wrong


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext's xgettext (apt-get install gettext)")
@pytest.mark.parametrize("code", _languages())
def test_the_po_holds_every_string_marked_in_the_code(code, tmp_path, monkeypatch, settings):
    """makemessages over a copy of the code (so the committed catalogue is never touched): every string marked for
    translation (templates and Python) must be in the committed .po, and nothing the code no longer has.
    Fix: `make messages`, translate what is new, `make messages` again to compile."""
    source = tmp_path / "src"
    shutil.copytree(
        REPO_ROOT / "prolotrack",
        source / "prolotrack",
        ignore=lambda folder, names: [n for n in names if n in ("locale", "static", "__pycache__", "tests")],
    )
    settings.LOCALE_PATHS = [tmp_path / "out"]
    monkeypatch.chdir(source)
    call_command("makemessages", locale=[code], verbosity=0, no_obsolete=True)
    fresh = {e.key for e in pofile.read(tmp_path / "out" / code / "LC_MESSAGES" / "django.po")[1:]}
    committed = {e.key for e in pofile.read(_po(code))[1:]}
    assert not fresh - committed, f"marked in the code, missing from the {code} .po: {sorted(fresh - committed)}"
    assert not committed - fresh, f"in the {code} .po, no longer in the code: {sorted(committed - fresh)}"


def test_the_po_reader_reads_what_it_writes(tmp_path):
    entries = [
        pofile.Entry(
            "", ["Language: es\nContent-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"]
        ),
        pofile.Entry('Say "hi"\nthen go', ['Diga "hola"\nluego váyase'], flags=["python-format"]),
        pofile.Entry("j F Y", [r"j \d\e F \d\e Y"], msgctxt="long date"),
        pofile.Entry("%(n)d day", ["%(n)d día", "%(n)d días"], msgid_plural="%(n)d days"),
        pofile.Entry("Untranslated", [""]),
        pofile.Entry("Unsure", ["Inseguro"], flags=["fuzzy"]),
    ]
    path = tmp_path / "x.po"
    pofile.write(path, entries)
    back = pofile.read(path)
    assert [(e.msgid, e.msgstr, e.msgctxt, e.msgid_plural) for e in back] == [
        (e.msgid, e.msgstr, e.msgctxt, e.msgid_plural) for e in entries
    ]
    catalog = pofile.expected_catalog(back)
    assert catalog["long date\x04j F Y"] == r"j \d\e F \d\e Y"
    assert catalog[("%(n)d day", 1)] == "%(n)d días"
    assert "Untranslated" not in catalog and "Unsure" not in catalog  # msgfmt leaves these out too
    msgfmt = shutil.which("msgfmt")
    if msgfmt:  # the reader agrees with GNU msgfmt's compiled catalogue
        import subprocess

        subprocess.run([msgfmt, "-o", str(tmp_path / "x.mo"), str(path)], check=True)  # noqa: S603 - fixed arguments
        with (tmp_path / "x.mo").open("rb") as handle:
            assert vars(gettext.GNUTranslations(handle))["_catalog"] == catalog
