"""Planning one outbox row: the one way every planner (session and questionnaire reminders, intake links,
appointment messages, waitlist offers, course links and their sessions' confirmations) writes a message to send.

Planning is idempotent (docs/MESSAGING.md): a message's key (patient, kind, channel, target) is unique in the outbox
(the `outbox_once_per_target` constraint), so planning it again, from a second pass, a pass running at the same time
or an after-commit event that finds it planned already, writes nothing and logs nothing.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from prolotrack.audit.services import Actor, create_record
from prolotrack.messaging.models import OutboxMessage


def plan(actor: Actor, message: OutboxMessage) -> bool:
    """Create the unsaved `message` with its audit row; False when the same message exists already (planned earlier,
    or by a pass running now). create_record checks the outbox's key (ValidationError) and the database refuses an
    insert that raced past the check (IntegrityError): either is "exists" only when the row is there."""
    key = {"patient": message.patient, "kind": message.kind, "channel": message.channel, "target": message.target}
    if OutboxMessage.objects.filter(**key).exists():
        return False
    try:
        with transaction.atomic():
            create_record(actor, message, "messaging.message.planned", detail={"kind": message.kind})
    except (IntegrityError, ValidationError):
        if OutboxMessage.objects.filter(**key).exists():
            return False
        raise
    return True
