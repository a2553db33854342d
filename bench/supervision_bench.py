"""Supervision pages at 1x and 10x the length of history, served by the production WSGI server.

Two databases share the same county (60,000 households), the same open cases spread over every step, and
closed cases with full history: one year of it, then ten. Read paths are SQL over query rows, so a page
should cost the same whatever lies in the past; the ratio column says whether it does.

    .venv/bin/python -m bench.supervision_bench [--households 60000] [--closed-per-year 3000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, insert, select

from bench.stats import Timing

ROOT = Path(__file__).resolve().parent.parent
VILLAGES = 161
PASSWORD = "Bench-2026"


def make_app(database: Path) -> Any:
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "bench",
                       "DEMO_PASSWORD": PASSWORD})


def build(database: Path, households: int, closed_per_year: int, years: int, seed: int = 7) -> dict[str, int]:
    from flask_migrate import upgrade

    from app.clock import china_today, utcnow
    from app.demo import load_demo
    from app.extensions import db
    from app.models import Case, ElementVisit, Event, Household, Measure, WorkflowInstance
    from app.processes import deploy_directory
    from bench.scenario import ALL_STEPS, advance, as_dicts, open_cases

    app = make_app(database)
    rng = random.Random(seed)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        deploy_directory(app.config["PROCESSES_DIR"])
        load_demo(PASSWORD, households_per_village=math.ceil(households / VILLAGES))
        db.session.commit()
        # Open cases, two per village, spread over every step of the case diagram.
        case_ids = open_cases(china_today().strftime("%Y-%m"), per_village=2)
        template_id = case_ids.pop()
        advance(template_id, len(ALL_STEPS))
        template = db.session.get(Case, template_id)
        assert template is not None and template.status == "closed", "the template case did not close"
        for index, case_id in enumerate(case_ids):
            advance(case_id, index % len(ALL_STEPS))
        # Closed history: copies of the template's rows, spread over `years` years before today.
        instance = db.session.get(WorkflowInstance, template.instance_id)
        visits = as_dicts(list(db.session.scalars(select(ElementVisit).where(ElementVisit.case_id == template_id))))
        events = as_dicts(list(db.session.scalars(select(Event).where(Event.case_id == template_id))))
        measures = as_dicts(list(db.session.scalars(select(Measure).where(Measure.case_id == template_id))))
        base = template.opened_at
        household_ids = db.session.scalars(select(Household.id)).all()
        total = closed_per_year * years
        now = utcnow()
        for start in range(0, total, 2000):
            batch = range(start, min(start + 2000, total))
            first_instance = (db.session.scalar(select(func.max(WorkflowInstance.id))) or 0) + 1
            db.session.execute(insert(WorkflowInstance), [
                {"process_version_id": instance.process_version_id, "kind": "case", "state": instance.state,
                 "completed": True, "end_event": "End_Closed", "revision": 20} for _ in batch])
            first_case = (db.session.scalar(select(func.max(Case.id))) or 0) + 1
            shifts, rows = [], []
            for offset, _ in enumerate(batch):
                household = db.session.get(Household, rng.choice(household_ids))
                assert household is not None
                opened = now - timedelta(days=rng.uniform(200, 365 * years))
                shifts.append(opened - base)
                rows.append({"household_id": household.id, "village_code": household.village_code,
                             "town_code": household.town_code, "instance_id": first_instance + offset,
                             "risk_type": rng.choice(["major_illness", "accident", "unstable_employment"]),
                             "reason": "患重大疾病", "status": "closed", "current_step": "已销号",
                             "risk_level": rng.choice(["at_risk", "at_risk", "returned"]),
                             "cadre_id": template.cadre_id,
                             "opened_at": opened, "updated_at": opened + timedelta(days=180),
                             "closed_at": opened + timedelta(days=180)})
            db.session.execute(insert(Case), rows)
            for table, template_rows, moments in ((ElementVisit, visits, ("ready_at", "completed_at")),
                                                  (Event, events, ("at",)), (Measure, measures, ())):
                copies = []
                for offset, shift in enumerate(shifts):
                    for row in template_rows:
                        copy = {k: v for k, v in row.items() if k != "id"}
                        copy["case_id"] = first_case + offset
                        if "instance_id" in copy:
                            copy["instance_id"] = first_instance + offset
                        for key in moments:
                            if copy.get(key) is not None:
                                copy[key] = copy[key] + shift
                        copies.append(copy)
                db.session.execute(insert(table), copies)
            db.session.commit()
        counts = {"open_cases": len(case_ids), "closed_cases": total + 1,
                  "element_visits": db.session.scalar(select(func.count()).select_from(ElementVisit)) or 0,
                  "events": db.session.scalar(select(func.count()).select_from(Event)) or 0}
        db.engine.dispose()
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    """A keep-alive HTTP client holding one logged-in session."""

    def __init__(self, port: int, username: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        status, _ = self.request("POST", "/login", urlencode({"username": username, "password": PASSWORD,
                                                              "csrf_token": token}))
        assert status == 302, f"login failed for {username}"

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response.status, text

    def get(self, path: str) -> str:
        status, text = self.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        return text


PAGES = [
    ("supervisor", "case list, open cases", "/cases/?status=open"),
    ("supervisor", "case list, one town, overdue", "/cases/?town=610922100&overdue=1"),
    ("supervisor", "case list, closed, page 1", "/cases/?status=closed"),
    ("supervisor", "heatmap (90 days)", "/supervision/heatmap"),
    ("supervisor", "scoreboard", "/supervision/scoreboard"),
    ("supervisor", "annual review (this year)", "/supervision/annual-review"),
    ("chengguan_certifier", "town case list", "/cases/"),
]


def measure_pages(database: Path, repeat: int) -> dict[str, Timing]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEMO_PASSWORD": PASSWORD, "SECRET_KEY": "bench"}
    log = database.with_suffix(".server.log")
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4",
                                   "--call", "app:create_app"], cwd=ROOT, env=env, stdout=sink, stderr=sink)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        clients = {name: Client(port, name) for name in {user for user, _, _ in PAGES}}
        timings = {}
        for user, label, path in PAGES:
            clients[user].get(path)  # warm caches
            seconds = []
            for _ in range(repeat):
                started = time.perf_counter()
                clients[user].get(path)
                seconds.append(time.perf_counter() - started)
            timings[label] = Timing(label, seconds)
        return timings
    except (OSError, http.client.HTTPException) as exc:
        raise SystemExit(f"the server failed: {exc}\n{log.read_text(errors='replace')[-4000:]}") from exc
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=60_000)
    parser.add_argument("--closed-per-year", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, default=ROOT / "instance" / "bench-supervision.json")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-supervision-") as folder:
        runs = {}
        for years in (1, 10):
            database = Path(folder) / f"history-{years}y.sqlite3"
            started = time.perf_counter()
            counts = build(database, args.households, args.closed_per_year, years)
            print(f"{years:>2} year(s) of history: {counts} (built in {time.perf_counter() - started:.0f} s)",
                  flush=True)
            runs[years] = measure_pages(database, args.repeat)
            results[f"{years}y"] = {"counts": counts, "pages": [t.as_dict() for t in runs[years].values()]}
    print(f"\n{'page (ms)':34} {'1x median':>10} {'p95':>8} {'max':>8}   {'10x median':>10} {'p95':>8} {'max':>8}"
          f" {'10x/1x':>7}")
    for label, one in runs[1].items():
        ten = runs[10][label]
        print(f"{label:34} {one.median * 1000:10.1f} {one.p95 * 1000:8.1f} {one.max * 1000:8.1f}   "
              f"{ten.median * 1000:10.1f} {ten.p95 * 1000:8.1f} {ten.max * 1000:8.1f} {ten.median / one.median:7.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
