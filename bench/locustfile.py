"""The users of bench/load.py (locust, headless): staff reading charts and sessions and writing to the registry.

80 % reads, 20 % writes, by task weight:

- reads: the chart page and the session record page (a signed-in staff session), the patient and session API, the
  patient search API (an API token); every chart and session read writes its audit row, as in production;
- writes: a patient registered (`POST /api/patients`), a weight added to a chart (`POST /api/patients/{id}/weights`).

Every acknowledged write (a 201 with its id) is kept and written to `$LOAD_ACKS` when the run stops, for load.py to
read each one back through the API and compare. The users and ids come from `$LOAD_FIXTURE` (written by load.py).
"""

import itertools
import json
import os
import random
from decimal import Decimal
from typing import Any

from locust import FastHttpUser, between, constant_throughput, events, task

FIXTURE = json.loads(open(os.environ["LOAD_FIXTURE"]).read())  # noqa: SIM115 - read once at import
ACKNOWLEDGED: list[dict[str, Any]] = []
SESSIONS = itertools.cycle(FIXTURE["session_cookies"])
NUMBERS = itertools.count(1)
# load.py --rate: the whole crowd's requests per second, shared evenly (open-ish loop); 0 = no think time.
RATE = float(os.environ.get("LOAD_RATE") or 0)
USERS = int(os.environ.get("LOAD_USERS") or 1)


@events.test_stop.add_listener
def _write_acknowledged(**_: Any) -> None:
    with open(os.environ["LOAD_ACKS"], "w") as out:
        json.dump(ACKNOWLEDGED, out)


class Staff(FastHttpUser):
    # No think time by default: 32 users keep the server as busy as it can be (closed loop), as the 68
    # requests/s did. With --rate each user paces itself to its share of the rate (locust's constant_throughput).
    wait_time = constant_throughput(RATE / USERS) if RATE else between(0, 0)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.api = {"Authorization": f"Bearer {FIXTURE['token']}"}
        self.page = {"Cookie": f"{FIXTURE['cookie_name']}={next(SESSIONS)}"}

    def _patient(self) -> str:
        return str(self.rng.choice(FIXTURE["patients"]))

    def _session(self) -> str:
        return str(self.rng.choice(FIXTURE["sessions"]))

    # Reads: 80 of 100.
    @task(20)
    def chart_page(self) -> None:
        self.client.get(f"/patients/{self._patient()}/", headers=self.page, name="GET chart page")

    @task(15)
    def session_page(self) -> None:
        self.client.get(f"/sessions/{self._session()}/", headers=self.page, name="GET session page")

    @task(20)
    def patient_api(self) -> None:
        self.client.get(f"/api/patients/{self._patient()}", headers=self.api, name="GET /api/patients/{id}")

    @task(15)
    def session_api(self) -> None:
        self.client.get(f"/api/sessions/{self._session()}", headers=self.api, name="GET /api/sessions/{id}")

    @task(10)
    def search_api(self) -> None:
        term = self.rng.choice(FIXTURE["search_terms"])
        self.client.get(f"/api/patients?search={term}", headers=self.api, name="GET /api/patients?search=")

    # Writes: 20 of 100.
    @task(10)
    def register(self) -> None:
        number = next(NUMBERS)
        body = {"given_name": f"Load{number}", "family_name": f"Bench{os.getpid()}", "sex": "female",
                "date_of_birth": f"19{self.rng.randint(40, 99)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}"}  # fmt: skip
        with self.client.post("/api/patients", json=body, headers=self.api, name="POST /api/patients",
                              catch_response=True) as answer:  # fmt: skip
            if answer.status_code == 201:
                ACKNOWLEDGED.append({"kind": "patient", "id": answer.json()["id"], "sent": body})
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")

    @task(10)
    def add_weight(self) -> None:
        patient = self._patient()
        body = {"measured_on": f"2026-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}",
                "weight_kg": str(Decimal(self.rng.randint(450, 1100)) / 10), "note": "load bench"}  # fmt: skip
        with self.client.post(f"/api/patients/{patient}/weights", json=body, headers=self.api,
                              name="POST /api/patients/{id}/weights", catch_response=True) as answer:  # fmt: skip
            if answer.status_code == 201:
                ACKNOWLEDGED.append({"kind": "weight", "id": answer.json()["id"], "patient": patient, "sent": body})
                answer.success()
            else:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
