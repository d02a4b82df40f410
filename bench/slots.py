"""Free-slot computation (prolotrack/domain/availability.py) for a month of 10 clinicians (issue 16: <= 50 ms).

A clinic in America/Chicago, the month around the November change of clocks: 10 clinicians working Monday to Friday
08:00-12:00 and 13:00-18:00 (two of them also Saturday 09:00-13:00), a 15-minute break each afternoon, one clinician
a week off and one clinic holiday. Existing appointments (30, 45 and 60 minutes with 0-15 minute buffers, seeded)
are placed at each free quarter hour with probability --fill; the script prints the share of working time they take.
Times `free_slots` for a 30-minute type with a 10-minute buffer on a 15-minute grid over 31 days, all clinicians at
once ("first available"), and for one clinician: wall time and this process's CPU time (the CPU time shows the
work when other processes share the cores).
The domain function alone: there are no models yet, so the database read of hours and appointments is not included.

    .venv/bin/python bench/slots.py [--runs 50] [--clinicians 10] [--days 31] [--fill 0.7]
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prolotrack.domain.availability import (  # noqa: E402
    AppointmentType,
    Booked,
    BookingRules,
    ClinicianAvailability,
    DayRange,
    WeeklyPeriod,
    free_slots,
)

ZONE = ZoneInfo("America/Chicago")
FIRST = date(2026, 10, 19)  # a Monday; Chicago falls back on 1 November 2026
NOW = datetime(2026, 10, 19, 7, 30, tzinfo=ZONE)


def clinic(clinicians: int, days: int, fill: float, seed: int = 16) -> tuple[list[ClinicianAvailability], int, float]:
    rng = random.Random(seed)
    out = []
    booked = busy_minutes = work_minutes = 0
    for n in range(clinicians):
        hours = [WeeklyPeriod(d, clock(8), clock(12)) for d in range(5)]
        hours += [WeeklyPeriod(d, clock(13), clock(18)) for d in range(5)]
        if n < 2:
            hours.append(WeeklyPeriod(5, clock(9), clock(13)))
        breaks = tuple(WeeklyPeriod(d, clock(15), clock(15, 15)) for d in range(5))
        off_start = FIRST + timedelta(days=7 * (n % 4) + 2)
        time_off = (DayRange(off_start, off_start + timedelta(days=6)),) if n % 3 == 0 else ()
        held = []
        for offset in range(days):
            day = FIRST + timedelta(days=offset)
            for period in hours:
                if period.weekday != day.weekday():
                    continue
                cursor = datetime.combine(day, period.start, ZONE)
                end = datetime.combine(day, period.end, ZONE)
                while cursor < end:
                    length = timedelta(minutes=rng.choice([30, 30, 45, 60]))
                    if cursor + length <= end and rng.random() < fill:
                        after = timedelta(minutes=rng.choice([0, 5, 10, 15]))
                        held.append(Booked(cursor.astimezone(UTC), length, buffer_after=after))
                        cursor += length + after
                    else:
                        cursor += timedelta(minutes=15)
        booked += len(held)
        busy_minutes += sum((h.duration + h.buffer_after) // timedelta(minutes=1) for h in held)
        for offset in range(days):
            day = FIRST + timedelta(days=offset)
            if not any(day in r for r in time_off):
                work_minutes += sum(
                    (datetime.combine(day, p.end) - datetime.combine(day, p.start)) // timedelta(minutes=1)
                    for p in hours
                    if p.weekday == day.weekday()
                )
        out.append(ClinicianAvailability(f"clinician-{n:02d}", tuple(hours), breaks, time_off, tuple(held)))
    return out, booked, busy_minutes / max(work_minutes, 1)


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return round(statistics.median(times), 2), round(times[max(0, int(len(times) * 0.95) - 1)], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--clinicians", type=int, default=10)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--fill", type=float, default=0.7)
    args = parser.parse_args()
    clinicians, booked, occupied = clinic(args.clinicians, args.days, args.fill)
    kind = AppointmentType(timedelta(minutes=30), buffer_after=timedelta(minutes=10))
    rules = BookingRules(min_notice=timedelta(hours=2), max_days_ahead=60, step=timedelta(minutes=15))
    last = FIRST + timedelta(days=args.days - 1)
    targets = {
        f"all {args.clinicians} clinicians, {args.days} days": clinicians,
        f"one clinician, {args.days} days": clinicians[:1],
    }
    results = []
    for name, who in targets.items():
        for _ in range(3):  # warm-up
            free_slots(who, kind, ZONE, NOW, rules, FIRST, last)
        times, cpu = [], []
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            slots = free_slots(
                who, kind, ZONE, NOW, rules, FIRST, last, (DayRange(date(2026, 11, 26), date(2026, 11, 26)),)
            )
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        median, p95 = _stats(times)
        cpu_median, cpu_p95 = _stats(cpu)
        results.append(
            {
                "target": name,
                "median_ms": median,
                "p95_ms": p95,
                "cpu_median_ms": cpu_median,
                "cpu_p95_ms": cpu_p95,
                "slots": len(slots),
            }
        )
    print(
        f"{args.clinicians} clinicians, {booked} existing appointments over {args.days} days from {FIRST} (with their "
        f"buffers they fill {occupied:.0%} of working time), {args.runs} runs"
    )
    for r in results:
        print(
            f"{r['target']:<32} wall median {r['median_ms']:>6} ms p95 {r['p95_ms']:>6} ms; "
            f"CPU median {r['cpu_median_ms']:>6} ms p95 {r['cpu_p95_ms']:>6} ms; {r['slots']} slots"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "slots.json").write_text(
        json.dumps({"appointments": booked, "occupied": occupied, "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
