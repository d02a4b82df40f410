from typing import Any

from django.core.management.base import BaseCommand

from prolotrack.audit.keys import chain_keys, fingerprint, public_pem, rotate_chain_key, signing_key


class Command(BaseCommand):
    help = (
        "Audit trail keys (docs/OPERATIONS.md): 'show' names the key files, the current chain key id and the checkpoint "
        "key's fingerprint (never a secret); 'rotate' adds a new chain key and makes it current (old ones stay to "
        "verify old events); 'public' prints the checkpoint verification key (PEM) to ship with the checkpoints."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["show", "rotate", "public"])

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        if options["action"] == "rotate":
            self.stdout.write(f"New current chain key: {rotate_chain_key()} (older keys kept for verification).")
            return
        key = signing_key().public_key()
        if options["action"] == "public":
            self.stdout.write(public_pem(key).decode())
            return
        keys = chain_keys()
        self.stdout.write(
            f"Chain keys: {settings.AUDIT_KEY_FILE} (current {keys.current}; ids {', '.join(sorted(keys.keys))})"
        )
        self.stdout.write(f"Checkpoint signing key: {settings.AUDIT_SIGNING_KEY_FILE} (fingerprint {fingerprint(key)})")
        self.stdout.write(f"Checkpoints: {settings.AUDIT_CHECKPOINT_DIR}")
