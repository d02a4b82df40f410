"""Forms of the second-factor, password and token pages."""

import json

from django import forms

from prolotrack.clinics.models import TOKEN_LIFETIMES_DAYS, TOKEN_SCOPES


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        strip=True,
        error_messages={"required": "Type the 6-digit code from your authenticator app, or a recovery code."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false", "autofocus": True}
        ),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from the app",
        max_length=12,
        strip=True,
        error_messages={"required": "Type the 6-digit code your authenticator app shows for ProloTrack."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("The code is 6 digits, such as 123456: type the digits the app shows now.")
        return code


class ResetForm(forms.Form):
    reason = forms.CharField(
        label="Why reset this second factor",
        max_length=300,
        help_text="Recorded in the audit log, for example: lost phone, new phone without a backup.",
        error_messages={"required": "Say why (for example: lost phone): the reason is recorded in the audit log."},
        widget=forms.TextInput(attrs={"autofocus": True}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What uses this token, so you recognise it in the list (for example: lab import script).",
        error_messages={"required": "Give the token a name, so you recognise it later."},
    )
    scopes = forms.MultipleChoiceField(
        label="What the token may do",
        choices=TOKEN_SCOPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one: read, write or export."},
    )
    days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(d, f"{d} days") for d in TOKEN_LIFETIMES_DAYS],
        initial=90,
        help_text="The token stops working then; make a new one before it does.",
    )


def _credential_json(raw: str) -> dict[str, object]:
    """The browser's public-key credential, as passkeys.js sends it (JSON, binary fields base64url)."""
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise forms.ValidationError("The browser's passkey answer was not readable. Try again.")
    return value


class PasskeyForm(forms.Form):
    name = forms.CharField(
        label="Name of the passkey",
        max_length=64,
        help_text="Where it lives, so you recognise it in the list (for example: work laptop, YubiKey).",
        error_messages={"required": "Give the passkey a name, so you recognise it later."},
    )
    credential = forms.CharField(
        widget=forms.HiddenInput,
        max_length=64_000,
        error_messages={"required": "Your browser made no passkey: use the button, and follow what the browser asks."},
    )

    def clean_credential(self) -> dict[str, object]:
        return _credential_json(self.cleaned_data["credential"])


class PasskeyAssertionForm(forms.Form):
    credential = forms.CharField(widget=forms.HiddenInput, max_length=64_000)

    def clean_credential(self) -> dict[str, object]:
        return _credential_json(self.cleaned_data["credential"])
