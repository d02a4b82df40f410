from django.core.management.base import BaseCommand, CommandError

from prolotrack.clinics.models import Membership, User
from prolotrack.clinics.services import create_api_token


class Command(BaseCommand):
    help = "Create a bearer token that acts as USERNAME (with that user's clinic and role) and print it."

    def add_arguments(self, parser) -> None:  # type: ignore[no-untyped-def]
        parser.add_argument("username")
        parser.add_argument("--clinic", help="Clinic name, when the user belongs to more than one.")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args, username: str, clinic: str | None, name: str, **options) -> None:  # type: ignore[no-untyped-def]
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user called {username!r}.") from None
        memberships = Membership.objects.filter(user=user, is_active=True).select_related("clinic")
        if clinic:
            memberships = memberships.filter(clinic__name=clinic)
        found = list(memberships[:2])
        if not found:
            raise CommandError(f"{username} has no active clinic membership{' in ' + clinic if clinic else ''}.")
        if len(found) > 1:
            raise CommandError(f"{username} belongs to several clinics: choose one with --clinic NAME.")
        self.stdout.write(create_api_token(found[0], name=name))
