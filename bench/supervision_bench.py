"""Supervision pages at 1x and 10x the length of history, served as in production (gunicorn).

Two databases share the same county (60,000 households), the same open cases spread over every step, and
closed cases with full history: one year of it, then ten. Read paths are SQL over query rows, so a page
should cost the same whatever lies in the past; the ratio column says whether it does.

    .venv/bin/python -m bench.supervision_bench [--households 60000] [--closed-per-year 3000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bench.server import PASSWORD, Server, WebClient
from bench.stats import Timing

ROOT = Path(__file__).resolve().parent.parent
VILLAGES = 161


def make_app(database: Path | str) -> Any:
    """The app on a SQLite file, or on a database URL (PostgreSQL)."""
    from app import create_app

    url = database if isinstance(database, str) else f"sqlite:///{database}"
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "DEMO_PASSWORD": PASSWORD})


def build(database: Path, households: int, closed_per_year: int, years: int, seed: int = 7) -> dict[str, int]:
    """The county with its open cases, then `years` years of closed history."""
    counts = build_base(database, households, seed=seed)
    counts.update(add_history(database, closed_per_year * years, 200, 365 * years, seed=seed))
    return counts


def build_base(database: Path, households: int, open_per_village: int = 2, idle_per_village: int = 0,
               seed: int = 7) -> dict[str, int]:
    """Migrate, deploy, load the county with `households` households; open cases through the real services,
    `open_per_village` per village spread over every step of the case diagram and `idle_per_village` left at
    its first step (town certification); one case taken all the way to 销号, the template of the history."""
    from flask_migrate import upgrade

    from app.clock import china_today
    from app.demo import load_demo
    from app.extensions import db
    from app.models import Case
    from app.processes import deploy_directory
    from bench.scenario import ALL_STEPS, advance, open_cases

    app = make_app(database)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        deploy_directory(app.config["PROCESSES_DIR"])
        load_demo(PASSWORD, households_per_village=math.ceil(households / VILLAGES), seed=610922 + seed - 7)
        db.session.commit()
        per_village = open_per_village + idle_per_village
        case_ids = open_cases(china_today().strftime("%Y-%m"), per_village=per_village)
        spread = [c for i, c in enumerate(case_ids) if i % per_village < open_per_village]
        template_id = spread.pop()
        advance(template_id, len(ALL_STEPS))
        template = db.session.get(Case, template_id)
        assert template is not None and template.status == "closed", "the template case did not close"
        for index, case_id in enumerate(spread):
            advance(case_id, index % len(ALL_STEPS))
        db.engine.dispose()
    return {"open_cases": len(case_ids) - 1}


def add_history(database: Path, total: int, min_days: int, max_days: int, seed: int = 7) -> dict[str, int]:
    """`total` closed cases with full history (copies of the template case's rows: instance, visits, events,
    measures), opened between `min_days` and `max_days` days ago."""
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Case, ElementVisit, Event, Household, Measure, WorkflowInstance
    from bench.scenario import as_dicts

    app = make_app(database)
    rng = random.Random(seed * 1000 + max_days)
    with app.app_context():
        template = db.session.scalar(select(Case).where(Case.status == "closed").order_by(Case.id).limit(1))
        assert template is not None, "no template case: run build_base first"
        template_id = template.id
        instance = db.session.get(WorkflowInstance, template.instance_id)
        assert instance is not None
        visits = as_dicts(list(db.session.scalars(select(ElementVisit).where(ElementVisit.about("case", template_id)))))
        events = as_dicts(list(db.session.scalars(select(Event).where(Event.about("case", template_id)))))
        measures = as_dicts(list(db.session.scalars(select(Measure).where(Measure.case_id == template_id))))
        base = template.opened_at
        household_rows = db.session.execute(select(Household.id, Household.village_code,
                                                   Household.town_code)).all()
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
                household_id, village_code, town_code = rng.choice(household_rows)
                opened = now - timedelta(days=rng.uniform(min_days, max_days))
                shifts.append(opened - base)
                rows.append({"household_id": household_id, "village_code": village_code,
                             "town_code": town_code, "instance_id": first_instance + offset,
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
                        copy["subject_id" if table is not Measure else "case_id"] = first_case + offset
                        if "instance_id" in copy:
                            copy["instance_id"] = first_instance + offset
                        for key in moments:
                            if copy.get(key) is not None:
                                copy[key] = copy[key] + shift
                        copies.append(copy)
                db.session.execute(insert(table), copies)
            db.session.commit()
        counts = {"closed_cases": db.session.scalar(select(func.count()).select_from(Case)
                                                    .where(Case.status == "closed")) or 0,
                  "element_visits": db.session.scalar(select(func.count()).select_from(ElementVisit)) or 0,
                  "events": db.session.scalar(select(func.count()).select_from(Event)) or 0}
        db.engine.dispose()
    return counts


PAGES = [
    ("supervisor", "case list, open cases", "/cases/?status=open"),
    ("supervisor", "case list, one town, overdue", "/cases/?town=610922100&overdue=1"),
    ("supervisor", "case list, closed, page 1", "/cases/?status=closed"),
    ("supervisor", "heatmap (90 days)", "/supervision/heatmap"),
    ("supervisor", "scoreboard", "/supervision/scoreboard"),
    ("supervisor", "annual review (this year)", "/supervision/annual-review"),
    ("chengguan_certifier", "town case list", "/cases/"),
    # this month's screening of 城关镇's first village (the first screening started): its ~370 households
    ("supervisor", "screening household list, one village", "/screenings/1/households"),
]


def measure_pages(port: int, repeat: int) -> dict[str, Timing]:
    """Each page `repeat` times after one warm-up, by a logged-in keep-alive session of its user."""
    clients = {name: WebClient(port, name) for name in sorted({user for user, _, _ in PAGES})}
    timings = {}
    for user, label, path in PAGES:
        for _ in range(4):  # warm every worker's caches
            clients[user].get(path)
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            clients[user].get(path)
            seconds.append(time.perf_counter() - started)
        timings[label] = Timing(label, seconds)
    return timings


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
            with Server(database, timers=False) as server:
                runs[years] = measure_pages(server.port, args.repeat)
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
