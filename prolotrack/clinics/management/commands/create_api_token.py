from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from prolotrack.clinics.management.acting import acting_membership
from prolotrack.clinics.services import create_api_token


class Command(BaseCommand):
    help = "Create a bearer token that acts as USERNAME (with that user's clinic and role) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--clinic", help="Clinic name, when the user belongs to more than one.")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args: Any, username: str, clinic: str | None, name: str, **options: Any) -> None:
        self.stdout.write(create_api_token(acting_membership(username, clinic), name=name))
