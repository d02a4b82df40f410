"""Body regions and sides in the patient's words, marked for translation: the domain's codes with its (English)
labels, since the domain has no Django. One home for every patient page that names them (the intake form, a course's
booking link); tests/test_one_home_for_forms.py holds the English to the domain's labels."""

from typing import Any

from django.utils.translation import gettext_lazy as _

REGION_WORDS: dict[str, Any] = {
    "knee": _("Knee"),
    "lumbopelvic": _("Lumbar spine and pelvis"),
    "shoulder": _("Shoulder"),
    "elbow": _("Elbow"),
    "ankle_foot": _("Ankle and foot"),
    "hip": _("Hip"),
    "neck_thoracic": _("Neck and thoracic spine"),
    "tmj": _("Temporomandibular joint"),
    "other": _("Other"),
}

SIDE_WORDS: dict[str, Any] = {
    "left": _("Left"),
    "right": _("Right"),
    "bilateral": _("Both sides"),
    "midline": _("Midline"),
    "na": _("Not applicable"),
}
