"""Helpers shared by the pages' forms."""

from typing import Any

from django.core.exceptions import ValidationError


def apply_errors(form: Any, error: Exception) -> None:
    """Put a service error on the form so the user sees what to fix: next to the field it names, else above the form.

    A message about a hidden input (such as the map's point) goes above the form, where it can be read.
    """
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            shown = name in form.fields and not form.fields[name].widget.is_hidden
            form.add_error(name if shown else None, errors)
    elif isinstance(error, ValidationError):
        form.add_error(None, error.messages)
    else:
        form.add_error(None, str(error))
