"""Where the server's CPU goes under the load test (issue 17, "Serving"): py-spy samples every gunicorn worker while
bench/load.py runs, and the samples are sorted into what a request spends its time on.

    .venv/bin/python bench/profile_server.py [--seconds 45] [--rate 100] [--wall] [-- <bench/load.py options>]
    DATABASE_URL=postgresql://... .venv/bin/python bench/profile_server.py

1. bench/load.py runs as usual (its own figures are printed as it prints them).
2. When its server is up and the users have started, `py-spy record --subprocesses --gil` samples the gunicorn master
   and its workers for --seconds: only threads holding Python's GIL are sampled, so the samples are Python's CPU time
   (SQLite's and psycopg's C code run with the GIL released, so time inside the database driver shows up only with
   --wall, which samples every thread that is not idle, waiting for a lock or an fsync included).
3. The samples are put in groups (the first rule that matches the stack, innermost frames first):
   database driver, audit write, template rendering, ORM, API layer, logging, other Django and app code, and
   gunicorn outside Django; then split by middleware and view, and the ORM's share by the app function that asked.

Writes bench/results/server-profile.txt (the tables) and server-profile.raw (py-spy's stacks, for a flame graph).
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
Stack = list[str]

GROUPS: list[tuple[str, re.Pattern[str]]] = [
    ("database driver (execute, commit; C code: with --wall only)",
     re.compile(r"\((sqlite3/|psycopg)|(execute|executemany|_commit) \(django/db/backends/")),
]  # fmt: skip
OUTER_GROUPS: list[tuple[str, re.Pattern[str]]] = [
    ("audit write (hash chain, event row; not its SQL)", re.compile(r"\(prolotrack/audit/services\.py")),
    ("template rendering", re.compile(r"\(django/template/")),
    ("ORM (building SQL, rows to model instances)", re.compile(r"\(django/db/models/")),
    ("API layer (django-ninja, pydantic)", re.compile(r"\((ninja|pydantic)")),
    ("logging (JSON access and app lines)", re.compile(r"\((logging/|pythonjsonlogger|prolotrack/ops/log)")),
]


def group(stack: Stack) -> str:
    """The group one sample belongs to."""
    joined = ";".join(stack)
    if "WSGIHandler.__call__" not in joined:
        return "gunicorn outside Django (accept, parse, write, threads)"
    for frame in reversed(stack):
        for name, pattern in GROUPS:
            if pattern.search(frame):
                return name
    for name, pattern in OUTER_GROUPS:
        if pattern.search(joined):
            return name
    return "other Django and app code (middleware, URL resolving, views' own code)"


def layer(stack: Stack) -> str:
    """Which middleware, the URL resolver or the view a sample is in (the innermost of them)."""
    joined = ";".join(stack)
    if "WSGIHandler.__call__" not in joined:
        return "gunicorn outside Django"
    if "_get_response (django/core/handlers/base.py" in joined:
        below = joined.split("_get_response (django/core/handlers/base.py", 1)[1].split(";")
        return "URL resolving" if len(below) > 1 and "resolve" in below[1] else "the view"
    middleware = [f for f in stack if "Middleware" in f and "MiddlewareMixin" not in f and "convert_exception" not in f]
    return re.sub(r" \(.*", "", middleware[-1]) if middleware else "Django's handler"


def orm_caller(stack: Stack) -> str | None:
    """The app (or library) function that asked the ORM, when the sample is inside the ORM."""
    first = next((i for i, f in enumerate(stack) if re.search(r"\(django/db/(models|backends|transaction)", f)), None)
    if first is None:
        return None
    for frame in reversed(stack[:first]):
        if re.search(r"\((prolotrack|django_otp|django/contrib|axes|ninja|django/template)", frame):
            return re.sub(r":\d+\)", ")", frame)
    return "?"


def view(stack: Stack) -> str | None:
    for frame in stack:
        found = re.match(r"(\w+) \(prolotrack/\w+/(views[\w/]*|api)\.?\w*:\d+\)", frame)
        if found:
            return found.group(1)
    return None


def read_samples(path: Path) -> list[tuple[Stack, int]]:
    samples = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        stack_text, count = line.rsplit(" ", 1)
        stack = [f for f in stack_text.split(";") if not f.startswith("process ")] or ["(process)"]
        samples.append((stack, int(count)))
    return samples


def report(samples: list[tuple[Stack, int]], header: str) -> str:
    total = sum(n for _, n in samples) or 1
    tables = {
        "Group": collections.Counter(),
        "Layer (innermost middleware, URL resolving or the view)": collections.Counter(),
        "View or endpoint": collections.Counter(),
        "ORM time by the function that asked": collections.Counter(),
    }  # type: dict[str, collections.Counter[str]]
    for stack, n in samples:
        tables["Group"][group(stack)] += n
        tables["Layer (innermost middleware, URL resolving or the view)"][layer(stack)] += n
        tables["View or endpoint"][view(stack) or "(outside a view: middleware, gunicorn)"] += n
        caller = orm_caller(stack)
        if caller:
            tables["ORM time by the function that asked"][caller] += n
    lines = [header, f"samples: {total}", ""]
    for title, counter in tables.items():
        lines += [f"| {title} | share of samples |", "|---|---|"]
        lines += [f"| {name} | {100 * n / total:.1f} % |" for name, n in counter.most_common(20) if n / total >= 0.003]
        lines.append("")
    return "\n".join(lines)


def gunicorn_master(port: str) -> int:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "gunicorn" in text and f"127.0.0.1:{port}" in text:
            return int(cmdline.parent.name)
    raise SystemExit(f"no gunicorn on port {port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=45, help="How long py-spy samples (inside the measured run).")
    parser.add_argument("--wall", action="store_true", help="Sample every busy thread, not only the GIL holder.")
    parser.add_argument("load_args", nargs="*", help="Passed to bench/load.py (after --).")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "server-profile.raw"
    load = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "load.py"), "--label", "profiled by py-spy", *args.load_args],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert load.stdout is not None
    spy = None
    for line in load.stdout:
        if not line.startswith('{"time"'):
            print(line, end="", flush=True)
        found = re.search(r"at http://127\.0\.0\.1:(\d+);", line)
        if found and spy is None:
            time.sleep(12)  # the ramp (10 s) and a little more
            command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                       str(gunicorn_master(found.group(1))), "--subprocesses", "--duration", str(args.seconds),
                       "--rate", "100", "--format", "raw", "--nonblocking", "-o", str(raw)]  # fmt: skip
            if not args.wall:
                command.append("--gil")
            spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load.wait()
    if spy is None or spy.wait() != 0:
        raise SystemExit("py-spy did not record (is the server up? py-spy needs ptrace: run as the server's user)")
    kind = "every busy thread (--wall)" if args.wall else "threads holding the GIL (Python CPU time)"
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    text = report(read_samples(raw), f"py-spy, {database}, {args.seconds} s of the load run, {kind}")
    (RESULTS / "server-profile.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
