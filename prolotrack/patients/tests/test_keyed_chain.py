"""The keyed audit chain (HMAC-SHA256 under a key outside the database) and signed checkpoints of its head (issue 13):
what the database owner can do without the keys (rewrite events and every later hash, cut the tail and reset the
head, drop the keys, edit a checkpoint) is detected; rotation and rows written before keys keep verifying."""

import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from prolotrack.audit import checkpoints, keys
from prolotrack.audit.models import AuditChain, AuditEvent
from prolotrack.audit.queries import verify, verify_chains
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services


@pytest.fixture(autouse=True)
def key_files(settings, tmp_path):
    settings.AUDIT_KEY_FILE = str(tmp_path / "keys" / "chain.json")
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "keys" / "signing.pem")
    settings.AUDIT_VERIFY_KEY_FILE = ""
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "checkpoints")
    settings.AUDIT_CHECKPOINT_MINUTES = 60
    return tmp_path


@pytest.fixture
def history(clinician, colleague, make_patient, clinic):
    first = make_patient(mrn="A-1")
    make_patient(mrn="A-2", given_name="Bob")
    with transaction.atomic():
        services.update_patient(actor_of(colleague), first, {"phone": "1"}, expected_version=1)
    return f"clinic:{clinic.pk}"


def _rewrite(chain_key: str, from_seq: int, *, key: bytes | None, unkeyed: bool = False, action: str = "x.forged"):
    """What the database owner can do: change event `from_seq`, recompute it and every later hash (with `key`, a
    guess, since the real one is not in the database), and move the head to match."""
    events = list(AuditEvent.objects.filter(chain_key=chain_key).order_by("seq"))
    previous = "0" * 64
    with connection.cursor() as cursor:
        for event in events:
            if event.seq < from_seq:
                previous = event.hash
                continue
            if event.seq == from_seq:
                event.action = action
            if unkeyed:
                event.key_id = ""
            event.prev_hash = previous
            event.hash = event.compute_hash(None if unkeyed else key)
            cursor.execute(
                "UPDATE audit_auditevent SET action = %s, key_id = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [event.action, event.key_id, event.prev_hash, event.hash, event.pk],
            )
            previous = event.hash
        cursor.execute("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [previous, chain_key])


def _truncate(chain_key: str, keep: int) -> None:
    """Delete every event after `keep` and reset the head to it: the chain itself is consistent again."""
    kept = AuditEvent.objects.get(chain_key=chain_key, seq=keep)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE chain_key = %s AND seq > %s", [chain_key, keep])
        cursor.execute(
            "UPDATE audit_auditchain SET seq = %s, last_hash = %s WHERE key = %s", [keep, kept.hash, chain_key]
        )


def test_every_new_event_is_keyed_with_the_current_key_held_outside_the_database(history, key_files):
    event = AuditEvent.objects.filter(chain_key=history).order_by("seq").last()
    stored = json.loads((key_files / "keys" / "chain.json").read_text())
    assert event.key_id == stored["current"] == "k1"
    key = bytes.fromhex(stored["keys"]["k1"])
    assert event.hash == hmac.new(key, event.canonical(), hashlib.sha256).hexdigest()
    assert event.hash != hashlib.sha256(event.canonical()).hexdigest()  # not recomputable without the key
    assert b'"key_id":"k1"' in event.canonical()
    assert oct((key_files / "keys" / "chain.json").stat().st_mode & 0o777) == "0o600"
    assert verify_chains() == ([], AuditEvent.objects.count())


def test_rewriting_an_event_and_every_later_hash_is_detected(history):
    _rewrite(history, 2, key=b"a guess, the real key is not in the database" * 2)
    problems, _ = verify_chains()
    assert any("event 2 was altered" in p for p in problems), problems
    with pytest.raises(CommandError, match="Audit trail damaged"):
        call_command("verify_audit_chain")


def test_rewriting_from_an_event_without_the_key_is_detected(history):
    # Dropping the key from event 2 onwards, with plain SHA-256 hashes: event 1 is keyed, so a later unkeyed event
    # is a rewrite.
    _rewrite(history, 2, key=None, unkeyed=True)
    problems, _ = verify_chains()
    assert any("event 2 has no key although event 1 before it has" in p for p in problems), problems


def test_rewriting_the_whole_chain_without_keys_is_caught_by_the_checkpoint(history):
    checkpoints.write_checkpoint()
    _rewrite(history, 1, key=None, unkeyed=True)
    # The chain alone is consistent again (as a chain written before keys would be)...
    assert verify_chains()[0] == []
    # ... but the signed checkpoint written before the rewrite is not.
    problems = verify().problems
    assert any("does not have the hash recorded in checkpoint" in p for p in problems), problems
    assert any("lost their key" in p for p in problems), problems


def test_truncating_the_tail_and_resetting_the_head_is_detected_against_the_checkpoint(history, make_patient):
    make_patient(mrn="A-3", given_name="Cy")
    checkpoints.write_checkpoint()
    head = AuditChain.objects.get(key=history)
    _truncate(history, head.seq - 2)
    # The weakness of a chain whose head is in the same database: without a checkpoint it still verifies.
    assert verify_chains()[0] == []
    problems = verify().problems
    assert any(f"records {head.seq} events; the chain head now says {head.seq - 2}" in p for p in problems), problems
    assert any(f"event {head.seq}, recorded in checkpoint" in p and "missing" in p for p in problems), problems
    with pytest.raises(CommandError, match="Audit trail damaged"):
        call_command("verify_audit_chain")


def test_events_after_the_checkpoint_verify_and_the_command_names_the_checkpoint(history, make_patient, capsys):
    path = checkpoints.write_checkpoint()
    make_patient(mrn="A-4", given_name="Di")  # written after the checkpoint: the head moved on, nothing was lost
    result = verify()
    assert result.problems == [] and result.checkpoint.path == path
    call_command("verify_audit_chain")
    assert f"matches checkpoint {path.name}" in capsys.readouterr().out


def test_an_edited_checkpoint_fails_its_signature(history):
    path = checkpoints.write_checkpoint()
    document = json.loads(path.read_text())
    document["payload"]["chains"][history]["seq"] -= 1  # the owner "fixes" the checkpoint to match a truncation
    path.write_text(json.dumps(document))
    problems = verify().problems
    assert any("signature does not verify" in p for p in problems), problems


def test_a_checkpoint_is_signed_with_ed25519_and_verifies_with_the_public_key_alone(history, key_files, settings):
    path = checkpoints.write_checkpoint()
    public = key_files / "public.pem"
    public.write_bytes(keys.public_pem(keys.signing_key().public_key()))
    settings.AUDIT_VERIFY_KEY_FILE = str(public)
    found = checkpoints.read_checkpoint(path)
    assert found.chains[history]["seq"] == AuditChain.objects.get(key=history).seq
    assert found.chains[history]["legacy_until"] == 0
    # Written once: a second checkpoint never overwrites the first.
    again = checkpoints.write_checkpoint(now=found.at)
    assert again != path and path.exists()


def test_rotation_keeps_old_events_verifying_and_a_missing_old_key_is_reported(history, make_patient, key_files):
    assert keys.rotate_chain_key() == "k2"
    make_patient(mrn="A-5", given_name="Ed")
    ids = list(AuditEvent.objects.filter(chain_key=history).order_by("seq").values_list("key_id", flat=True))
    assert ids[0] == "k1" and ids[-1] == "k2"
    assert verify_chains()[0] == []
    stored = json.loads((key_files / "keys" / "chain.json").read_text())
    del stored["keys"]["k1"]
    (key_files / "keys" / "chain.json").write_text(json.dumps(stored))
    problems, _ = verify_chains()
    assert any("keyed with 'k1', which the key file does not hold" in p for p in problems), problems


def test_events_written_before_keyed_chains_keep_verifying(clinic, make_patient):
    """A database from before the upgrade: its rows have no key id and plain SHA-256 hashes."""
    key = f"clinic:{clinic.pk}"
    previous = "0" * 64
    rows = []
    for seq in (1, 2, 3):
        event = AuditEvent(chain_key=key, seq=seq, clinic=clinic, action="old.event", prev_hash=previous)
        event.hash = hashlib.sha256(event.canonical()).hexdigest()
        previous = event.hash
        rows.append(event)
    AuditEvent.objects.bulk_create(rows)
    AuditChain.objects.create(key=key, seq=3, last_hash=previous)
    assert b"key_id" not in rows[0].canonical()  # the bytes of an old row are what they always were
    make_patient(mrn="NEW-1")  # appended after them, keyed
    assert AuditEvent.objects.get(chain_key=key, seq=4).key_id == "k1"
    assert verify_chains()[0] == []
    path = checkpoints.write_checkpoint()
    assert checkpoints.read_checkpoint(path).chains[key]["legacy_until"] == 3
    assert verify().problems == []


def test_the_checkpoint_is_written_when_due_by_command_and_by_the_scheduler(history, settings, capsys, monkeypatch):
    call_command("audit_checkpoint", "--if-due")
    assert "Checkpoint written" in capsys.readouterr().out
    call_command("audit_checkpoint", "--if-due")
    assert "not due yet" in capsys.readouterr().out
    assert len(checkpoints.checkpoint_files()) == 1
    settings.AUDIT_CHECKPOINT_MINUTES = 0
    # The scheduler's own loop (its reminder pass is tested in the messaging app; connections stay open in a test).
    command = "prolotrack.messaging.management.commands.run_scheduler"
    monkeypatch.setattr(f"{command}.close_old_connections", lambda: None)
    monkeypatch.setattr(f"{command}.run_pass", lambda: type("Report", (), {"errors": [], "planned": 0, "sent": 0,
                        "failed": 0, "skipped": 0, "cancelled": 0})())  # fmt: skip
    call_command("run_scheduler", "--passes", "1", "--interval", "1")
    assert "audit checkpoint" in capsys.readouterr().out
    assert len(checkpoints.checkpoint_files()) == 2


def test_the_keys_command_shows_no_secret(history, key_files, capsys):
    call_command("audit_keys", "show")
    out = capsys.readouterr().out
    secret = json.loads((key_files / "keys" / "chain.json").read_text())["keys"]["k1"]
    assert "current k1" in out and secret not in out and "PRIVATE" not in out
    call_command("audit_keys", "public")
    assert "BEGIN PUBLIC KEY" in capsys.readouterr().out
