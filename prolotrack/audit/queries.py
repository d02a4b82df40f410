"""Reads of the audit trail."""

from prolotrack.audit.models import AuditChain, AuditEvent


def verify_chains(batch: int = 5000) -> tuple[list[str], int]:
    """Walk each chain in order, recomputing hashes; return the problems found and the rows checked."""
    problems: list[str] = []
    checked = 0
    for chain in AuditChain.objects.order_by("key"):
        previous = "0" * 64
        expected_seq = 1
        last_seq = 0
        while True:
            rows = list(AuditEvent.objects.filter(chain_key=chain.key, seq__gt=last_seq).order_by("seq")[:batch])
            if not rows:
                break
            for event in rows:
                checked += 1
                if event.seq != expected_seq:
                    problems.append(f"{chain.key}: event {expected_seq} is missing (next is {event.seq}).")
                if event.prev_hash != previous:
                    problems.append(f"{chain.key}: event {event.seq} does not follow the event before it.")
                if event.compute_hash() != event.hash:
                    problems.append(f"{chain.key}: event {event.seq} was altered after it was written.")
                previous = event.hash
                expected_seq = event.seq + 1
                last_seq = event.seq
        if last_seq != chain.seq or previous != chain.last_hash:
            problems.append(f"{chain.key}: the chain head says {chain.seq} events, the table ends at {last_seq}.")
    return problems, checked
