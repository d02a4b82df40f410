"""A patient reads an appointment type's name through one function: `AppointmentType.patient_name()` (booking/
models.py), which picks the clinic's name in the page's or message's language, else the default name
(domain/clinic_names.name_in; docs/LANGUAGES.md, "Names the clinic types"). Staff pages print `name`.

The walk reads every template a patient is shown (those extending a patient page's base, the email's and the patient
documents' bases, and every template they include) and every module that writes patient words (the patient pages'
views and what they call, the messages), and fails on a type's `.name` (or the type printed whole, which is its
`name`) outside the lines listed below as staff-only, each with its reason. A module that starts writing patient
words (`@patient_page`, `translation.override`) must be on the list, so that nothing joins unnoticed.
"""

import re
from pathlib import Path

import prolotrack

ROOT = Path(prolotrack.__file__).parent
TEMPLATES = ROOT / "templates"
# The bases of what patients read: the public booking and link pages, the intake, the questionnaire, the email's
# HTML part and the documents printed for them.
PATIENT_BASES = {
    "booking/public/base.html",
    "intake/base.html",
    "outcomes/q_base.html",
    "messaging/email.html",
    "documents/print_base.html",
}
# The modules that write words a patient reads: the patient pages' views, the functions that build their contexts and
# the messages' words (every module of messaging/ is read too).
PATIENT_MODULES = {
    "booking/views/public.py",
    "booking/views/public_waitlist.py",
    "booking/views/patient_links.py",
    "booking/views/waitlist.py",
    "booking/online.py",
    "booking/waitlist_join.py",
    "booking/patient_links.py",
    "booking/course_links.py",
    "booking/waitlist.py",
    "booking/picker.py",
    "intake/views/patient.py",
    "outcomes/views/answer.py",
    "core/language.py",
    "outcomes/services.py",
    "consent/services.py",
    "documents/views.py",
    "documents/content.py",
}
# Lines of those modules that name a type for staff, not patients: (module, a part of the line, why).
STAFF_LINES = [
    ("booking/online.py", '"type": kind.name, "hold_minutes"', "the audit row's detail"),
    (
        "booking/patient_links.py",
        "Choose a clinician who offers {appointment_type.name}",
        "staff make a follow-up link",
    ),
    ("booking/patient_links.py", "No clinician offers {appointment_type.name} yet", "staff make a follow-up link"),
    ("booking/patient_links.py", 'detail={"type": appointment_type.name', "the audit row's detail"),
    ("booking/course_links.py", "does not offer {kind.name}: set up the offer first", "staff send a course link"),
    ("booking/waitlist.py", "is already waiting for {kind.name}", "staff put a patient on the waitlist"),
    ("booking/waitlist.py", '"type": kind.name,', "the audit row's detail (join_waitlist)"),
    ("booking/waitlist.py", '"type": kind.name, "until": hold_until', "the audit row's detail (an offer's hold)"),
]
TEMPLATE_NAME = re.compile(r"\b(appointment_type|kind|t|type|held|offer_type)\.name\b")
TEMPLATE_WHOLE = re.compile(r"{{\s*[\w.]*appointment_type\s*(\||}})|name=[\w.]*appointment_type[\s%]")
PYTHON_NAME = re.compile(r"\b(appointment_type|kind|held_type)\.name\b|str\([\w.]*appointment_type\)")
EXTENDS = re.compile(r'{%\s*extends\s+"([^"]+)"')
INCLUDES = re.compile(r'{%\s*include\s+"([^"]+)"')


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _reaches_a_patient_base(name: str) -> bool:
    seen = set()
    while name not in seen:
        if name in PATIENT_BASES:
            return True
        seen.add(name)
        found = EXTENDS.search(_template(name))
        if not found:
            return False
        name = found.group(1)
    return False


def patient_templates() -> list[str]:
    every = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html"))
    found = {name for name in every if _reaches_a_patient_base(name)}
    todo = list(found)
    while todo:
        for included in INCLUDES.findall(_template(todo.pop())):
            if included not in found and (TEMPLATES / included).exists():
                found.add(included)
                todo.append(included)
    return sorted(found)


def patient_modules() -> list[str]:
    messaging = {str(p.relative_to(ROOT)) for p in (ROOT / "messaging").glob("*.py")}
    return sorted(PATIENT_MODULES | messaging)


def test_the_walk_finds_the_pages_and_messages_it_is_about():
    templates = patient_templates()
    for name in ("booking/public/start.html", "booking/manage/_appointment.html", "booking/waitlist_offer.html",
                 "booking/waitlist_join/entry.html", "booking/manage/follow_up.html", "intake/start.html"):  # fmt: skip
        assert name in templates, name
    assert "booking/setup.html" not in templates and "booking/appointment.html" not in templates  # staff pages
    assert all((ROOT / module).exists() for module in PATIENT_MODULES)


def test_every_module_writing_patient_words_is_walked():
    walked = set(patient_modules())
    for path in sorted(ROOT.rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        if "/tests/" in f"/{relative}" or "/migrations/" in relative or relative.startswith(("demo/", "domain/")):
            continue
        text = path.read_text()
        if "@patient_page" in text or "translation.override(" in text:
            assert relative in walked, f"{relative} writes patient words: add it to PATIENT_MODULES"


def test_patient_templates_name_a_type_through_patient_name():
    wrong = [
        f"{name}: {match.group(0)}"
        for name in patient_templates()
        for pattern in (TEMPLATE_NAME, TEMPLATE_WHOLE)
        for match in pattern.finditer(_template(name))
    ]
    assert not wrong, f"use the type's patient_name (booking/models.py) on patient pages: {wrong}"


def test_patient_words_name_a_type_through_patient_name():
    wrong = []
    for module in patient_modules():
        for number, line in enumerate((ROOT / module).read_text().splitlines(), 1):
            staff = any(module == where and part in line for where, part, _why in STAFF_LINES)
            if PYTHON_NAME.search(line) and not staff:
                wrong.append(f"{module}:{number}: {line.strip()}")
    assert not wrong, (
        f"use the type's patient_name() (booking/models.py) in patient words, or list a staff line: {wrong}"
    )


def test_the_listed_staff_lines_exist():
    for module, part, _why in STAFF_LINES:
        assert part in (ROOT / module).read_text(), (module, part)


def test_one_function_picks_the_name():
    callers = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*.py")
        if "/tests/" not in str(p) and "name_in(" in p.read_text() and "domain/clinic_names.py" not in str(p)
    ]
    assert callers == ["booking/models.py"], callers


def test_a_type_name_on_a_patient_page_is_caught():
    assert TEMPLATE_NAME.search("<dd>{{ entry.appointment_type.name }}</dd>")
    assert TEMPLATE_NAME.search("{% blocktranslate with name=kind.name %}")
    assert TEMPLATE_WHOLE.search("<dd>{{ visit.appointment_type }}</dd>")
    assert not TEMPLATE_NAME.search("{{ entry.appointment_type.patient_name }} {{ clinic.name }}")
    assert PYTHON_NAME.search('"type": held.appointment_type.name,')
    assert not PYTHON_NAME.search('"type": held.appointment_type.patient_name(),')
