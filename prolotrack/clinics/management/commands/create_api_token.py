from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolotrack.audit.services import ServiceError
from prolotrack.clinics.management.acting import acting_membership
from prolotrack.clinics.models import TOKEN_SCOPES
from prolotrack.clinics.services import create_api_token


class Command(BaseCommand):
    help = "Create a bearer token that acts as USERNAME (with that user's clinic and role) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--clinic", help="Clinic name, when the user belongs to more than one.")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=[code for code, _label in TOKEN_SCOPES],
            help="What the token may do: read, write or export; repeat for several (--scope read --scope write). "
            "Without it: read only.",
        )
        parser.add_argument("--days", type=int, default=90, help="Days until the token expires (1-365, default 90).")

    def handle(
        self,
        *args: Any,
        username: str,
        clinic: str | None,
        name: str,
        scope: list[str] | None,
        days: int,
        **options: Any,
    ) -> None:
        membership = acting_membership(username, clinic)
        try:
            self.stdout.write(create_api_token(membership, name=name, scopes=scope or ["read"], days=days))
        except ServiceError as error:
            raise CommandError(str(error)) from None
