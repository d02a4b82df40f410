"""The billing pages' forms. Amounts and quantities are typed as text and parsed by the services (domain/money.py),
so a page, the API and the demo refuse the same input with the same message; the form only puts it by its field."""

from typing import Any, cast

from django import forms

from prolotrack.billing.models import AbnOption, FeeKind, Invoice, PayerType, PaymentMethod
from prolotrack.core.forms import ReasonForm
from prolotrack.core.signatures import png_from_data_url

MONEY = {"inputmode": "decimal", "autocomplete": "off", "size": 10}


def money_field(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=20, help_text=help_text, widget=forms.TextInput(attrs=MONEY)
    )


class FeeItemForm(forms.Form):
    code = forms.CharField(max_length=20, help_text="HCPCS Level II where one applies (M0076), else your own code.")
    kind = forms.ChoiceField(choices=FeeKind.choices)
    description = forms.CharField(max_length=200, help_text="As the patient reads it on the invoice.")
    price = money_field("Price")
    tax_rate = money_field("Tax rate (%)", required=False, help_text="Empty or 0: exempt (most medical services).")
    active_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


class FeeVersionForm(forms.Form):
    description = forms.CharField(max_length=200)
    price = money_field("New price")
    tax_rate = money_field("Tax rate (%)", required=False)
    effective_from = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="After the latest version's first day."
    )


class AddLineForm(forms.Form):
    item = forms.ChoiceField(label="Fee item")
    quantity = forms.CharField(max_length=3, initial="1", widget=forms.TextInput(attrs={"inputmode": "numeric"}))

    def __init__(self, *args: Any, items: list[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = {str(item.uuid): item for item, _version in items}
        choices = [(str(item.uuid), f"{item.code}: {v.description} ({v.price:.2f})") for item, v in items]
        cast(forms.ChoiceField, self.fields["item"]).choices = choices

    def chosen(self) -> Any:
        return self.items[self.cleaned_data["item"]]


class PaymentForm(forms.Form):
    """A payment: oldest invoices first, unless amounts are typed against chosen invoices."""

    amount = money_field("Amount received")
    method = forms.ChoiceField(choices=PaymentMethod.choices)
    reference = forms.CharField(
        max_length=80, required=False, label="Terminal or bank reference", help_text="As printed on the slip."
    )
    received_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Empty: today."
    )

    def __init__(self, *args: Any, invoices: list[Invoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invoices = invoices
        for invoice in invoices:
            self.fields[f"pay_{invoice.uuid}"] = money_field(
                f"Invoice {invoice.number} (owes {invoice.balance:.2f})", required=False
            )

    def invoice_fields(self) -> list[Any]:
        return [self[f"pay_{invoice.uuid}"] for invoice in self.invoices]

    def chosen(self) -> list[tuple[Invoice, str]] | None:
        """The amounts typed against invoices, or None: the payment then pays the oldest first."""
        picks = [(inv, self.cleaned_data[f"pay_{inv.uuid}"]) for inv in self.invoices]
        picks = [(inv, amount.strip()) for inv, amount in picks if amount and amount.strip()]
        return picks or None


class SplitPaymentForm(forms.Form):
    """Checkout: the amount owed taken by up to three methods at once (card with the terminal's reference, cash,
    …). A row with no amount is left out; each row with one becomes a payment of its own on the invoice."""

    ROWS = 3
    STARTING_METHODS = (PaymentMethod.CARD, PaymentMethod.CASH, PaymentMethod.CHEQUE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n, method in enumerate(self.STARTING_METHODS, start=1):
            self.fields[f"method_{n}"] = forms.ChoiceField(
                label=f"Method {n}", choices=PaymentMethod.choices, initial=method
            )
            self.fields[f"amount_{n}"] = money_field(f"Amount {n}", required=False)
            self.fields[f"reference_{n}"] = forms.CharField(
                label=f"Reference {n}", max_length=80, required=False, help_text="Terminal slip or bank reference."
            )

    def rows(self) -> list[tuple[Any, Any, Any]]:
        """The form's rows as (method, amount, reference) bound fields, for the page."""
        return [(self[f"method_{n}"], self[f"amount_{n}"], self[f"reference_{n}"]) for n in range(1, self.ROWS + 1)]

    def parts(self) -> list[tuple[int, str, str, str]]:
        """The rows with an amount typed: (row number, method, amount as typed, reference)."""
        out = []
        for n in range(1, self.ROWS + 1):
            amount = (self.cleaned_data.get(f"amount_{n}") or "").strip()
            if amount:
                out.append((n, self.cleaned_data[f"method_{n}"], amount, self.cleaned_data[f"reference_{n}"]))
        return out


class IssueForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class AmountReasonForm(ReasonForm):
    """A credit note or a refund: the amount, and a reason from its list."""

    amount = money_field("Amount")

    field_order = ["amount", "reason", "details", "version"]


class SuperbillForm(forms.Form):
    """The dates of service a superbill covers (both days included)."""

    start = forms.DateField(label="Services from", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="to", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The first day is after the last: choose a start on or before the end.")
        return data


# --- Coverage and the Medicare ABN ------------------------------------------------------------------------------------


class CoverageForm(forms.Form):
    payer = forms.ChoiceField(label="Who pays", choices=PayerType.choices)
    payer_name = forms.CharField(
        label="Plan or insurer", max_length=120, required=False, help_text="E.g. the Medicare Advantage plan's name."
    )
    member_id = forms.CharField(
        label="Member id",
        max_length=40,
        required=False,
        help_text="As printed on the card. Kept for the clinic's own use: pages show its last 4 characters and no "
        "document prints it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class SignatureInput(forms.Textarea):
    """The pad's PNG data URL travels in a textarea the script fills (as on the consent page)."""

    def __init__(self) -> None:
        super().__init__(attrs={"hidden": True, "class": "signature-data", "aria-hidden": "true", "tabindex": "-1"})


class AbnSignForm(forms.Form):
    text_sha256 = forms.CharField(widget=forms.HiddenInput)
    option = forms.ChoiceField(
        label="The option the patient checked (G)", choices=AbnOption.choices, widget=forms.RadioSelect
    )
    additional = forms.CharField(
        label="Additional information (H)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional: e.g. that a copy was given, or a package price agreed.",
    )
    signer_name = forms.CharField(
        label="Name of who signs (I)", max_length=200, help_text="The patient, or their representative."
    )
    signature = forms.CharField(label="Signature (I)", widget=SignatureInput(), required=False)
    confirm = forms.BooleanField(
        label="The notice was reviewed with the patient and their questions were answered before signing.",
        error_messages={"required": "Confirm the notice was reviewed with the patient and questions answered."},
    )

    def clean_signature(self) -> bytes:
        try:
            return png_from_data_url(self.cleaned_data.get("signature", ""), "signature", "The patient")
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["signature"]) from None


class HealthChangeForm(forms.Form):
    reason = forms.CharField(
        label="What changed in the patient's health",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The ABN on file then no longer describes the care: a new one is asked for before the next session.",
    )


# --- Course packages -----------------------------------------------------------------------------------------------


class PackageVersionForm(forms.Form):
    """A package offer's version: what it says and costs, its uses and validity, and what a use covers."""

    description = forms.CharField(max_length=200, help_text="As the patient reads it, e.g. Knee course of 3.")
    price = money_field("Price")
    tax_rate = money_field("Tax rate (%)", required=False, help_text="Empty or 0: exempt.")
    uses = forms.CharField(
        max_length=2, label="Sessions (uses)", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    validity_days = forms.CharField(
        max_length=4, label="Valid for (days)", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    protocol_id = forms.ChoiceField(label="Sessions of the protocol", required=False)
    item_codes = forms.MultipleChoiceField(
        label="…or sessions charged as", required=False, widget=forms.CheckboxSelectMultiple
    )
    effective_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(
        self, *args: Any, protocols: list[tuple[str, str]], items: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["protocol_id"]).choices = [("", "— (chosen items instead)"), *protocols]
        cast(forms.MultipleChoiceField, self.fields["item_codes"]).choices = items


class PackageOfferForm(PackageVersionForm):
    code = forms.CharField(max_length=20, help_text="The clinic's own code, e.g. PKG-KNEE-3.")

    field_order = ["code", "description", "price", "tax_rate", "uses", "validity_days", "protocol_id", "item_codes"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].label = "Active from"


class SellPackageForm(forms.Form):
    """Sell a package on a new draft invoice, for one of the patient's open courses or none yet."""

    offer = forms.ChoiceField(label="Package")
    course = forms.ChoiceField(label="For the course", required=False)

    def __init__(self, *args: Any, offers: list[tuple[Any, Any, Any]], courses: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers = {str(item.uuid): item for item, _version, _terms in offers}
        self.courses = {str(course.uuid): course for course in courses}
        cast(forms.ChoiceField, self.fields["offer"]).choices = [
            (str(item.uuid), f"{item.code}: {v.description}, {t.uses} sessions, {v.price:.2f}, {t.validity_days} days")
            for item, v, t in offers
        ]
        cast(forms.ChoiceField, self.fields["course"]).choices = [("", "Not linked yet")] + [
            (str(c.uuid), str(c)) for c in courses
        ]

    def chosen(self) -> tuple[Any, Any]:
        course = self.cleaned_data.get("course")
        return self.offers[self.cleaned_data["offer"]], self.courses.get(course) if course else None


class LinkCourseForm(forms.Form):
    course = forms.ChoiceField(label="Course")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, courses: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.courses = {str(course.uuid): course for course in courses}
        cast(forms.ChoiceField, self.fields["course"]).choices = [(str(c.uuid), str(c)) for c in courses]

    def chosen(self) -> Any:
        return self.courses[self.cleaned_data["course"]]
