"""Save a cohort (a FHIR Group) of patients by record number, for Group/[id]/$export."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.clinics.models import Membership
from prolotrack.clinics.services import actor_for_membership
from prolotrack.fhir.services import create_cohort


class Command(BaseCommand):
    help = "Save a cohort of patients (by record number) as USERNAME; prints its Group id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="A clinician or administrator of the clinic (cohort.manage).")
        parser.add_argument("name")
        parser.add_argument("mrns", nargs="+", help="Record numbers of the members.")

    def handle(self, *args: Any, **options: Any) -> None:
        membership = (
            Membership.objects.select_related("clinic", "user")
            .filter(user__username=options["username"], is_active=True)
            .first()
        )
        if membership is None:
            raise CommandError(f"No active member with username {options['username']!r}.")
        actor = actor_for_membership(membership, channel="system")
        try:
            cohort = create_cohort(actor, name=options["name"], mrns=options["mrns"])
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
        self.stdout.write(f"Group/{cohort.uuid} ({len(cohort.patient_uuids)} patients)")
