"""SMS backends: a class with `send(message)` chosen by the PROLOTRACK_SMS_BACKEND setting (a dotted path).

No SMS vendor is built in. A clinic's integration is a small class like these that calls its provider's API and
raises on failure (the outbox records the error and retries). The shipped ones write where a person can read them.
"""

import json
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SMSError(Exception):
    """The backend could not hand the message over."""


class BaseSMSBackend:
    """Send one text message. Raise on failure; return a provider reference (or "") on success."""

    def send(self, message: Any) -> str:
        raise NotImplementedError


class FileSMSBackend(BaseSMSBackend):
    """Append each message as a JSON line to DATA_DIR/outbox/sms.jsonl (the demo's "phone")."""

    def send(self, message: Any) -> str:
        folder = Path(settings.DATA_DIR) / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        line = {
            "at": timezone.now().isoformat(),
            "message": str(message.uuid),
            "to": message.to_address,
            "body": message.body,
        }
        with (folder / "sms.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        return f"file:{message.uuid}"


class LocmemSMSBackend(BaseSMSBackend):
    """Keep sent messages in memory (tests): `LocmemSMSBackend.outbox`."""

    outbox: ClassVar[list[dict[str, str]]] = []

    def send(self, message: Any) -> str:
        type(self).outbox.append({"to": message.to_address, "body": message.body, "uuid": str(message.uuid)})
        return f"locmem:{len(type(self).outbox)}"


class FailingSMSBackend(BaseSMSBackend):
    """Always fail, as a provider that is down would (tests and drills)."""

    def send(self, message: Any) -> str:
        raise SMSError("SMS provider unavailable (FailingSMSBackend).")


def sms_backend() -> BaseSMSBackend:
    """An instance of the configured backend."""
    return import_string(settings.PROLOTRACK_SMS_BACKEND)()
