"""Kill -9 durability check: the web server is killed mid-write, again and again, and every write it acknowledged
must be there afterwards, with the database intact and the audit chains unbroken (issue 17, docs/PERFORMANCE.md).

Each round starts the real server (gunicorn with the project's settings, as `make run` does: 2 x cores + 1 worker
processes of 2 threads, or PROLOTRACK_WEB_WORKERS) on loopback, lets several client threads register patients through
`POST /api/patients` (one audited transaction each), and after a random moment sends the master and every worker
SIGKILL while requests are in flight. A write counts as acknowledged when its 201 answer arrived. After the last round
the script checks: every acknowledged patient is in the database (by the id in its answer), `PRAGMA integrity_check`
(SQLite), every audit chain recomputed (`verify_chains`), and a backup taken and restored into a scratch folder
verifies against its manifest. (Runs before 2026-12-07 07:00 UTC used Waitress with 8 threads in one process.)

    .venv/bin/python bench/durability.py [--rounds 20] [--clients 6] [--data-dir bench/results/durability]

On SQLite by default (a fresh database in --data-dir); with DATABASE_URL set, on that PostgreSQL database instead
(it must be empty or hold an earlier run of this script; integrity_check is SQLite's only).
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"the server at {base} did not answer /healthz in {timeout} s")


class Client(threading.Thread):
    def __init__(self, base: str, token: str, name: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.name_, self.stop = base, token, name, stop
        self.acknowledged: list[str] = []
        self.failed = 0
        self.refused: dict[str, int] = {}
        self.latencies: list[float] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            body = {"given_name": f"{self.name_}-{n}", "family_name": "Durability", "date_of_birth": "1970-01-01"}
            body["sex"] = "female"
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{self.base}/api/patients",
                data=json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
                method="POST",
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
                    data = json.loads(answer.read())
                    if answer.status == 201:
                        self.acknowledged.append(data["id"])
                        self.latencies.append(time.perf_counter() - started)
            except urllib.error.HTTPError as error:  # an answer, but not 201: counted by status
                self.refused[str(error.code)] = self.refused.get(str(error.code), 0) + 1
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
                self.failed += 1  # in flight when the server died: neither acknowledged nor required
                time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--min-seconds", type=float, default=1.0, help="Shortest time before the kill in a round.")
    parser.add_argument("--max-seconds", type=float, default=4.0, help="Longest time before the kill in a round.")
    parser.add_argument("--data-dir", default=str(ROOT / "bench" / "results" / "durability"))
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists() and not os.environ.get("DATABASE_URL"):
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROLOTRACK_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prolotrack.settings")
    os.environ["PROLOTRACK_TASKS_IMMEDIATE"] = "1"

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from prolotrack.audit.queries import verify_chains
    from prolotrack.clinics.models import Clinic, Membership, User
    from prolotrack.clinics.roles import Role
    from prolotrack.clinics.services import create_api_token
    from prolotrack.patients.models import Patient

    clinic, _ = Clinic.objects.get_or_create(name="Durability Clinic", defaults={"timezone": "America/Chicago"})
    user, _ = User.objects.get_or_create(username="durability")
    membership, _ = Membership.objects.get_or_create(user=user, clinic=clinic, defaults={"role": Role.CLINICIAN})
    token = create_api_token(membership, "durability bench")
    connections.close_all()

    acknowledged: list[str] = []
    failed = 0
    refused: dict[str, int] = {}
    latencies: list[float] = []
    rounds = []
    started_all = time.perf_counter()
    for number in range(1, args.rounds + 1):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # The server as `make run` starts it (gunicorn with the project's settings, prolotrack/ops/gunicorn_conf.py),
        # in its own process group so the kill reaches the master and every worker at once.
        from prolotrack.messaging.run_all import gunicorn_command

        server = subprocess.Popen(
            gunicorn_command("127.0.0.1", port),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_ready(base)
        stop = threading.Event()
        clients = [Client(base, token, f"r{number}c{n}", stop) for n in range(args.clients)]
        for client in clients:
            client.start()
        wait = rng.uniform(args.min_seconds, args.max_seconds)
        time.sleep(wait)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        stop.set()
        for client in clients:
            client.join(40)
        got = [uuid for client in clients for uuid in client.acknowledged]
        lost_in_flight = sum(client.failed for client in clients)
        for client in clients:
            for code, count in client.refused.items():
                refused[code] = refused.get(code, 0) + count
        acknowledged += got
        failed += lost_in_flight
        latencies += [value for client in clients for value in client.latencies]
        rounds.append({"round": number, "killed_after_s": round(wait, 2), "acknowledged": len(got)})
        print(f"round {number:2}: killed after {wait:.2f} s, {len(got)} acknowledged, {lost_in_flight} cut off")

    present = set()
    for start in range(0, len(acknowledged), 500):
        chunk = acknowledged[start : start + 500]
        present |= {str(u) for u in Patient.objects.filter(uuid__in=chunk).values_list("uuid", flat=True)}
    missing = [uuid for uuid in acknowledged if uuid not in present]
    integrity = "n/a (PostgreSQL)"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA integrity_check")
            integrity = cursor.fetchone()[0]
    problems, events = verify_chains()

    from prolotrack.ops.backup import create_backup

    archive = data_dir / "backups" / f"durability-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    manifest = create_backup(archive)
    restored = {"archive_bytes": archive.stat().st_size, "tables": len(manifest.tables)}
    if connection.vendor == "sqlite":
        target = data_dir / "restore-drill"
        shutil.rmtree(target, ignore_errors=True)
        env = dict(os.environ, PROLOTRACK_DATA_DIR=str(target))
        keys = target / "keys"
        shutil.copytree(data_dir / "keys", keys)
        done = subprocess.run(
            [sys.executable, "manage.py", "restore", str(archive)], cwd=ROOT, env=env, capture_output=True, text=True
        )
        restored["restore_exit"] = done.returncode
        restored["restore_says"] = (done.stdout + done.stderr).strip()

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "rounds": args.rounds,
        "clients": args.clients,
        "acknowledged": len(acknowledged),
        "cut_off_in_flight": failed,
        "answered_not_201": refused,
        "missing_after_restart": len(missing),
        "integrity_check": integrity,
        "audit_events_verified": events,
        "audit_problems": problems[:5],
        "write_latency_p50_ms": round(1000 * sorted(latencies)[len(latencies) // 2], 1) if latencies else None,
        "wall_seconds": round(time.perf_counter() - started_all, 1),
        "load_average": os.getloadavg(),
        "backup_restore": restored,
        "per_round": rounds,
    }
    out = ROOT / "bench" / "results" / "durability.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "per_round"}, indent=2))
    ok = not missing and integrity in {"ok", "n/a (PostgreSQL)"} and not problems
    ok = ok and restored.get("restore_exit", 0) == 0
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
