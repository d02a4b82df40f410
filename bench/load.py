"""Load benchmark (issue 17): 32 staff users against the real server, 80 % reads and 20 % writes, headless locust.

    .venv/bin/python bench/load.py [--users 32] [--ramp 10] [--duration 60] [--workers N] [--threads T] [--rate R]
    DATABASE_URL=postgresql://... .venv/bin/python bench/load.py --cluster [--workers N]

1. A fresh copy of the demo database (SQLite: the demo clinic seeded once into `bench/results/load-template`, then
   copied for every run, keys included), or the PostgreSQL database of DATABASE_URL (migrated and seeded with the
   demo when it has none; every run adds its writes to it).
2. One API token of the demo clinician and one signed-in, second-factor-verified staff session per user.
3. gunicorn with the project's settings (prolotrack/ops/gunicorn_conf.py; --workers / --threads override them) on a
   free loopback port, production settings (DEBUG off, collected static files), JSON logs to a file. With --cluster
   (PostgreSQL only): `make run-cluster`'s processes instead (prolotrack/ops/cluster.py: two gunicorn web processes of
   --workers workers each on :8001 and :8002, the task worker, the scheduler) and the load sent to HAProxy's one port.
4. locust (bench/locustfile.py: chart and session pages, patient and session API, search; registrations and weights)
   for `--ramp` seconds of ramp-up and then `--duration` seconds measured (statistics reset when all users run).
5. Every acknowledged write read back through the API and compared with what was sent; the server log searched for
   "database is locked" and 5xx answers.

Prints requests/s, p50/p95/p99, errors, the re-read result and the load average before and after (other work on the
machine shares its cores: note it next to every figure). Writes `bench/results/load.json`.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-password-1"  # noqa: S105 - the demo staff's password in the bench's own database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PROLOTRACK_DATA_DIR=str(data_dir),
        PROLOTRACK_DEBUG="0",
        PROLOTRACK_SECRET_KEY="load-bench-" + "x" * 50,
        PROLOTRACK_ALLOWED_HOSTS="127.0.0.1,localhost",
        PROLOTRACK_SSL_REDIRECT="0",
        PROLOTRACK_SECURE_COOKIES="0",
        PROLOTRACK_HSTS_SECONDS="0",
        PROLOTRACK_HSTS_PRELOAD="0",
        PROLOTRACK_DEMO_PASSWORD=PASSWORD,
        PROLOTRACK_LOG_FORMAT="json",
        DJANGO_SETTINGS_MODULE="prolotrack.settings",
    )
    return env


def prepare_sqlite(data_dir: Path) -> None:
    """A fresh copy of the seeded demo: the template is seeded once (30-90 s), each run starts from a copy of it."""
    template = RESULTS / "load-template"
    if not (template / "prolotrack.sqlite3").exists():
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir(parents=True)
        env = server_env(template)
        for command in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["seed_demo"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(template, data_dir, ignore=shutil.ignore_patterns("prolotrack.sqlite3*"))
    source = sqlite3.connect(template / "prolotrack.sqlite3")
    target = sqlite3.connect(data_dir / "prolotrack.sqlite3")
    source.backup(target)  # SQLite's online backup API, never a file copy (docs/OPERATIONS.md)
    source.close()
    target.close()
    # Migrations added since the template was seeded.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=server_env(data_dir), check=True
    )


def prepare_postgres(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir)
    for command in (["migrate", "--noinput", "-v0"], ["createcachetable"], ["seed_demo"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)


def fixture(users: int) -> dict[str, object]:
    """The token, one staff session per user and the ids the users pick from (in this process, against the same
    database the server uses)."""
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from prolotrack.accounts.testing import mark_verified
    from prolotrack.clinics.models import Clinic, User
    from prolotrack.clinics.services import create_api_token
    from prolotrack.demo.seed import DEMO_CLINIC
    from prolotrack.patients.models import Patient
    from prolotrack.treatment.models import TreatmentSession

    clinic = Clinic.objects.get(name=DEMO_CLINIC)
    user = User.objects.get(username="clinician")
    token = create_api_token(user.memberships.get(clinic=clinic), "load bench")
    cookies = []
    for _ in range(users):
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        mark_verified(client, user)
        cookies.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    patients = list(
        Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True, mrn__startswith="PT-")
        .order_by("id")
        .values_list("uuid", flat=True)[:250]
    )
    sessions = list(
        TreatmentSession.objects.filter(clinic=clinic, signed_at__isnull=False)
        .order_by("id")
        .values_list("uuid", flat=True)
    )
    from django.db import connections

    connections.close_all()
    return {
        "token": token,
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "session_cookies": cookies,
        "patients": [str(u) for u in patients],
        "sessions": [str(u) for u in sessions],
        "search_terms": ["an", "mar", "son", "PT-00", "jo", "el"],
    }


def descendants(pid: int) -> list[int]:
    """The process and every process below it (gunicorn's master and workers; the cluster's whole tree)."""
    found = [pid]
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return found
    for child in children:
        found += descendants(child)
    return found


def server_cpu_seconds(master: int) -> float:
    """CPU seconds (user + system) used so far by the server's processes (gunicorn's master and its workers, or with
    --cluster every process of the cluster, proxy included; Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in descendants(master):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every PostgreSQL server process on this machine (the backends serving the app's
    connections are what grows during a run; Linux /proc). 0 when none runs."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        if name == "postgres":
            parts = fields.split()
            total += (int(parts[11]) + int(parts[12])) / tick
    return total


def access_lines(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines() if '"prolotrack.access"' in line)


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/livez", timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise SystemExit(f"the server at {base} did not answer /livez in {timeout} s")


def wait_both_web_processes(timeout: float = 120) -> None:
    """With --cluster: both web processes answer on their own ports (the proxy answers once the first does)."""
    deadline = time.monotonic() + timeout
    for port in (8001, 8002):
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the web process on :{port} did not answer /livez in {timeout} s")
            time.sleep(0.2)


def get_json(url: str, token: str) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def reread(base: str, token: str, acknowledged: list[dict[str, object]]) -> dict[str, object]:
    """Each acknowledged write fetched again by the id its answer gave, and compared with what was sent."""
    missing, different = [], []
    weights_of: dict[str, list[dict[str, object]]] = {}
    for write in acknowledged:
        sent = write["sent"]
        assert isinstance(sent, dict)
        try:
            if write["kind"] == "patient":
                got = get_json(f"{base}/api/patients/{write['id']}", token)
                assert isinstance(got, dict)
                same = all(got.get(k) == sent[k] for k in ("given_name", "family_name", "date_of_birth", "sex"))
            else:
                patient = str(write["patient"])
                if patient not in weights_of:
                    listed = get_json(f"{base}/api/patients/{patient}/weights", token)
                    assert isinstance(listed, list)
                    weights_of[patient] = listed
                found = [w for w in weights_of[patient] if w["id"] == write["id"]]
                if not found:
                    missing.append(write["id"])
                    continue
                got = found[0]
                same = got["measured_on"] == sent["measured_on"] and Decimal(str(got["weight_kg"])) == Decimal(
                    str(sent["weight_kg"])
                )
        except urllib.error.HTTPError as error:
            if error.code == 404:
                missing.append(write["id"])
                continue
            raise
        if not same:
            different.append({"id": write["id"], "sent": sent, "got": got})
    return {"reread": len(acknowledged), "missing": len(missing), "different": len(different),
            "examples": (missing + different)[:5]}  # fmt: skip


def locust_stats(prefix: Path) -> dict[str, dict[str, object]]:
    rows = {}
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            rows[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "max_ms": round(float(row["Max Response Time"]), 1),
            }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--ramp", type=int, default=10, help="Seconds to start every user (not measured).")
    parser.add_argument("--duration", type=int, default=60, help="Seconds measured after the ramp.")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: 2 x cores + 1, gunicorn_conf.py).")
    parser.add_argument("--threads", type=int, help="Threads per worker (default 2).")
    parser.add_argument("--data-dir", default=str(RESULTS / "load"))
    parser.add_argument("--label", default="", help="A note kept with the result (e.g. what changed).")
    parser.add_argument(
        "--rate", type=float, default=0,
        help="Pace the users to this many requests/s in all (0: no think time, as fast as the server answers).",
    )  # fmt: skip
    parser.add_argument(
        "--cluster", action="store_true", help="Two web processes behind HAProxy, worker and scheduler (PostgreSQL)."
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    postgres = bool(os.environ.get("DATABASE_URL"))
    if args.cluster and not postgres:
        raise SystemExit("--cluster runs against PostgreSQL: set DATABASE_URL (make run-cluster refuses SQLite too).")
    data_dir = Path(args.data_dir).resolve()
    started = time.perf_counter()
    (prepare_postgres if postgres else prepare_sqlite)(data_dir)
    env = server_env(data_dir)
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    data = fixture(args.users)
    run_dir = RESULTS / "load-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "fixture.json").write_text(json.dumps(data))
    if args.workers:
        env["PROLOTRACK_WEB_WORKERS"] = str(args.workers)
    if args.threads:
        env["PROLOTRACK_WEB_THREADS"] = str(args.threads)
    from prolotrack.messaging.run_all import gunicorn_command
    from prolotrack.ops import gunicorn_conf

    workers, threads = gunicorn_conf.web_workers(env), gunicorn_conf.web_threads(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = run_dir / "server.log"
    command = gunicorn_command("127.0.0.1", port)
    if args.cluster:
        command = [sys.executable, "-m", "prolotrack.ops.cluster", f"--port={port}"]
    with log.open("w") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(base, server)
        if args.cluster:
            wait_both_web_processes()
        print(f"{'cluster: 2 web processes of ' if args.cluster else 'gunicorn: '}{workers} workers x {threads} threads at {base}; prepared in "
              f"{time.perf_counter() - started:.0f} s; load average {load_before[0]:.2f}", flush=True)  # fmt: skip
        load_start = os.getloadavg()
        cpu_start, served_start = server_cpu_seconds(server.pid), access_lines(log)
        database_cpu_start = postgres_cpu_seconds()
        import resource

        client_cpu_start = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_env = dict(
            env, LOAD_FIXTURE=str(run_dir / "fixture.json"), LOAD_ACKS=str(run_dir / "acks.json"),
            LOAD_RATE=str(args.rate), LOAD_USERS=str(args.users),
        )  # fmt: skip
        spawn_rate = max(args.users / max(args.ramp, 1), 1)
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--host", base, "-u", str(args.users), "-r", f"{spawn_rate:g}", "-t", f"{args.ramp + args.duration}s",
             "--reset-stats", "--only-summary", "--csv", str(run_dir / "locust"), "--loglevel", "WARNING",
             "--stop-timeout", "10", "--exit-code-on-error", "0"],
            cwd=ROOT, env=locust_env, check=True, stdout=(run_dir / "locust.out").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        load_end = os.getloadavg()
        cpu_end, served_end = server_cpu_seconds(server.pid), access_lines(log)
        database_cpu_end = postgres_cpu_seconds()
        client_cpu_end = resource.getrusage(resource.RUSAGE_CHILDREN)
        served = max(served_end - served_start, 1)
        cpu = {
            "server_ms_per_request": round(1000 * (cpu_end - cpu_start) / served, 2),
            "locust_ms_per_request": round(1000 * (client_cpu_end.ru_utime + client_cpu_end.ru_stime
                                                    - client_cpu_start.ru_utime - client_cpu_start.ru_stime) / served, 2),
            "database_server_ms_per_request": round(1000 * (database_cpu_end - database_cpu_start) / served, 2),
            "requests_served_incl_ramp": served,
        }  # fmt: skip
        acknowledged = json.loads((run_dir / "acks.json").read_text())
        checked = reread(base, str(data["token"]), acknowledged)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    text = log.read_text()
    locked = text.count("database is locked")
    server_errors = sum(1 for line in text.splitlines() if '"status": 5' in line)
    stats = locust_stats(run_dir / "locust")
    total = stats.pop("Aggregated")
    from django.db import connection

    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "rate": args.rate,
        "database": connection.vendor,
        "users": args.users,
        "ramp_s": args.ramp,
        "measured_s": args.duration,
        "gunicorn": {"workers": workers, "threads": threads},
        "cluster": "2 web processes behind HAProxy, worker, scheduler" if args.cluster else "",
        "command": " ".join(sys.argv),
        "cores": gunicorn_conf.cores(),
        "total": total,
        "per_request": stats,
        "cpu": cpu,
        "acknowledged_writes": len(acknowledged),
        "reread": checked,
        "database_is_locked_in_log": locked,
        "server_5xx_in_log": server_errors,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_at_start": [round(x, 2) for x in load_start],
        "load_average_after": [round(x, 2) for x in load_end],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(result, indent=2))
    history = RESULTS / "load-history.jsonl"
    with history.open("a") as out:
        out.write(json.dumps(result) + "\n")
    width = max(len(name) for name in [*stats, "all"])
    print(f"\n{connection.vendor}, {args.users} users, {args.duration} s measured after a {args.ramp} s ramp, "
          f"{'2 web processes behind HAProxy, each ' if args.cluster else ''}gunicorn {workers} x {threads}"
          f"{f', paced to {args.rate:g} requests/s' if args.rate else ', no think time'}")  # fmt: skip
    print(f"{'request':<{width}}  {'count':>6}  {'fail':>4}  {'req/s':>6}  {'p50':>5}  {'p95':>5}  {'p99':>5}")
    for name, row in [*stats.items(), ("all", total)]:
        print(f"{name:<{width}}  {row['requests']:>6}  {row['failures']:>4}  {row['rps']:>6}  {row['p50_ms']:>5.0f}  "
              f"{row['p95_ms']:>5.0f}  {row['p99_ms']:>5.0f}")  # fmt: skip
    print(f"acknowledged writes {len(acknowledged)}, re-read {checked['reread']}: missing {checked['missing']}, "
          f"different {checked['different']}")  # fmt: skip
    print(f'"database is locked" in the server log: {locked}; 5xx answers logged: {server_errors}')
    per_request = cpu["server_ms_per_request"] + cpu["locust_ms_per_request"] + cpu["database_server_ms_per_request"]
    database_cpu = f"PostgreSQL server {cpu['database_server_ms_per_request']} ms, " if postgres else ""
    print(f"CPU per request (ramp included): server {cpu['server_ms_per_request']} ms, {database_cpu}"
          f"locust {cpu['locust_ms_per_request']} ms; at most about "
          f"{1000 * gunicorn_conf.cores() / per_request:.0f} requests/s on {gunicorn_conf.cores()} idle cores")  # fmt: skip
    print(f"load average (1, 5, 15 min): before {load_before}, at start {load_start}, after {load_end}")
    ok = total["failures"] == 0 and checked["missing"] == 0 and checked["different"] == 0 and locked == 0
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
