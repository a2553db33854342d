"""The benchmark on PostgreSQL, production's database: a county, then 10 and 100 counties (a city, a province).

    make bench BENCH_ARGS="--db postgresql --scale 100"    # measures at 1, 10 and 100 counties, in one run

1. One county (石泉县, 60,000 households) is built on SQLite by the real services, as `make bench` builds it (open
   cases over every step, idle ones at town certification for the drivers, 12 months of screenings with every
   household's check, a year of closed cases with their history), then copied into PostgreSQL with COPY
   (bench/postgres.py), the province and city above it.
2. At one county, beside yardsticks measured in the same run on PostgreSQL: the engine floor with its write on
   PostgreSQL, the schema floor (a copy of the database), the stack floor (served), the web floor; task submit;
   throughput with 4 and 16 clients, and the same on the SQLite county (its own server, as the README runs SQLite);
   pages; the monthly screening start.
3. Then the county is cloned in SQL to 10 counties and to 100 (6 million households, a million closed cases with
   their history, 16,100 villages) and the pages and the screening start are measured again at each scale, so each
   page's time at scale 1 is its yardstick, measured in the same run on the same server.
The app runs under gunicorn with 2 × cores sync workers and two timer workers. Results:
bench/results/<date>-postgresql.json, latest-postgresql.json and latest-postgresql.md.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import psutil

from bench import bulk
from bench import postgres as pg
from bench.county_bench import drive, idle_case_ids, machine, ms, prepare
from bench.server import ApiClient, Server, WebClient
from bench.stats import Timing
from bench.supervision_bench import PAGES, build_base

SCALES = (1, 10, 100)
VILLAGES_PER_COUNTY = 161
# Pages about work in hand (their time at a larger scale is held to 1.3× their time at one county), and the
# supervision above the county (the province's and the city's overviews grow with their counties by design).
WORK_IN_HAND = [
    *PAGES,
    ("{village_user}", "inbox, village team", "/"),
    ("chengguan_certifier", "inbox, town certifier", "/"),
    ("county_office", "inbox, county office", "/"),
]
ABOVE_COUNTY = [
    ("province_supervisor", "province overview (scoreboard, counties side by side)", "/supervision/scoreboard"),
    ("province_supervisor", "province drill-down to 石泉县", "/supervision/scoreboard?area=610922"),
    ("province_supervisor", "province drill-down to a town", "/supervision/scoreboard?area=610922100"),
    ("province_supervisor", "province case list, open cases", "/cases/?status=open"),
    ("province_supervisor", "province heatmap", "/supervision/heatmap"),
    ("city_supervisor", "city overview (安康市)", "/supervision/scoreboard"),
]


def city_url(server_url: str | None) -> str:
    """The province's database on the server `--postgres-url` names: its own name, so that the county benchmark's
    PostgreSQL department list (database rpm_bench) never drops it."""
    base = (server_url or "postgresql+psycopg://postgres@127.0.0.1:5432/rpm_bench").rsplit("/", 1)[0]
    return f"{base}/rpm_bench_city"


def server_settings(url: str) -> dict[str, str]:
    with pg.connect(url) as connection:
        names = ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "max_wal_size",
                 "synchronous_commit", "random_page_cost", "max_connections")
        return {name: str(connection.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # noqa: S608


def measure_pages(port: int, pages: list[tuple[str, str, str]], repeat: int, village_user: str) -> dict[str, Timing]:
    clients: dict[str, WebClient] = {}
    timings = {}
    for user, label, path in pages:
        user = user.format(village_user=village_user)
        client = clients.get(user) or clients.setdefault(user, WebClient(port, user))
        for _ in range(4):  # warm every worker's caches
            client.get(path)
        seconds = []
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(path)
            seconds.append(time.perf_counter() - started)
        timings[label] = Timing(label, seconds)
    return timings


def screening_start(port: int, people: dict[str, Any], counties: list[str], month: str,
                    clients: int) -> dict[str, Any]:
    """Every county's office starts `month`'s screening of its villages, `clients` offices at a time."""
    work: queue.Queue[str] = queue.Queue()
    for code in counties:
        work.put(code)
    seconds: list[float] = []
    created: list[int] = []
    errors: list[str] = []

    def office() -> None:
        api = ApiClient(port)
        while True:
            try:
                code = work.get_nowait()
            except queue.Empty:
                return
            token = people["tokens"][people["by_area"][("county_office", code)]]
            started = time.perf_counter()
            status, body = api.call("POST", "/api/v1/screenings", token, {"month": month})
            seconds.append(time.perf_counter() - started)
            if status == 201:
                created.append(int(body["created"]))
            else:
                errors.append(f"{code}: {status} {json.dumps(body, ensure_ascii=False)[:200]}")

    threads = [threading.Thread(target=office) for _ in range(min(clients, len(counties)))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    return {"counties": len(counties), "villages": sum(created), "errors": len(errors), "error_samples": errors[:3],
            "clients": len(threads), "seconds": round(total, 2),
            "per_county": ms(Timing("screening start, one county", seconds or [0.0]))}


def run(args: argparse.Namespace) -> None:  # noqa: C901, PLR0915 (one straight run, step by step)
    scales = [s for s in SCALES if s <= args.scale] or [1]
    if args.scale not in scales:
        scales.append(int(args.scale))
    if args.quick:
        scales = [1, 3]
    url = city_url(args.postgres_url)
    if not pg.reachable(url):
        raise SystemExit(f"PostgreSQL does not answer at {url}")
    workers = args.workers if args.workers_given else 2 * (os.cpu_count() or 1)
    run_started = time.perf_counter()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-city-"))
    folder.mkdir(parents=True, exist_ok=True)
    template = folder / "county.sqlite3"
    for path in folder.glob("county.sqlite3*"):
        path.unlink()
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    results: dict[str, Any] = {"date": date.today().isoformat(), "quick": args.quick, "database": "postgresql",
                               "scales": scales, "machine": machine(), "postgresql": server_settings(admin_url),
                               "server": f"gunicorn -w {workers} (sync) and 2 timer workers"}
    built: dict[str, Any] = {}

    def step(text: str) -> None:
        load = os.getloadavg()[0]
        print(f"[{time.perf_counter() - run_started:6.0f} s, load {load:.1f}] {text}", flush=True)

    loads: list[float] = []

    def sample_load() -> None:
        while not done.is_set():
            loads.append(os.getloadavg()[0])
            done.wait(10)

    done = threading.Event()
    threading.Thread(target=sample_load, daemon=True).start()
    try:
        # 1. One county on SQLite, by the real services; then on PostgreSQL.
        step(f"building the county on SQLite: {args.households:,} households")
        started = time.perf_counter()
        counts = {"households": args.households, **build_base(
            template, args.households, open_per_village=args.open_per_village,
            idle_per_village=args.idle_per_village)}
        counts.update(bulk.add_screening_history(template, 12))
        counts["history"] = bulk.add_history(template, args.closed_per_year, 200, 365)
        built["sqlite_county_seconds"] = round(time.perf_counter() - started, 1)
        step(f"county: {json.dumps(counts, ensure_ascii=False)}")
        args.idle_case_ids = idle_case_ids(template)
        started = time.perf_counter()
        pg.fresh_database(url)
        built["copied_rows"] = pg.copy_from_sqlite(template, url)
        pg.stage_template(template, url)
        pg.clone_counties(url, 1)
        built["copy_seconds"] = round(time.perf_counter() - started, 1)
        step(f"copied into PostgreSQL in {built['copy_seconds']} s")

        # 2. The yardsticks on PostgreSQL.
        from bench.engine_floor import measure_floor, measure_schema_floor
        from bench.stack_floor import grant_token, measure_stack_floor
        from bench.web_floor import measure_web_floor

        floor_url = url.rsplit("/", 1)[0] + "/rpm_bench_floor"
        schema_url = url.rsplit("/", 1)[0] + "/rpm_bench_schema"
        step("engine floor, its write on PostgreSQL")
        pg.fresh_database(floor_url)
        floor, floor_info = measure_floor(url, floor_url, args.floor_instances)
        pg.drop_database(floor_url)
        results["engine_floor"] = {**ms(floor), **floor_info}
        step("schema floor on a copy of the database")
        schema_floor = measure_schema_floor(url, schema_url, args.floor_instances)
        results["schema_floor"] = {**ms(schema_floor),
                                   "ratio_p50_to_floor": round(schema_floor.median / floor.median, 2)}
        token = grant_token(schema_url)
        with Server(schema_url, workers=workers, timers=False, log_dir=folder,
                    wsgi_app="bench.stack_floor:create_app()") as lean:
            step("stack floor: the schema floor served")
            stack_floor = measure_stack_floor(lean.port, schema_url, token, args.submit_cases)
        pg.drop_database(schema_url)
        results["stack_floor"] = {**ms(stack_floor), "ratio_p50_to_floor": round(stack_floor.median / floor.median,
                                                                                  2)}
        with Server(url, workers=workers, timers=False, log_dir=folder,
                    wsgi_app="bench.web_floor:create_app()") as bare:
            step("web floor")
            results["web_floor"] = ms(measure_web_floor(bare.port, 50))

        # 3. The app on PostgreSQL at one county.
        people = prepare(url, args)
        idle = people["idle"]
        submit_ids = idle[:args.submit_cases]
        four_ids = idle[args.submit_cases:args.submit_cases + 4 * args.throughput_cases]
        sixteen_ids = idle[args.submit_cases + 4 * args.throughput_cases:
                           args.submit_cases + 20 * args.throughput_cases]
        scale_results: dict[str, Any] = {}
        step("the city's and the province's overviews computed (flask overviews refresh)")
        refreshed = refresh_overviews(url)
        with Server(url, workers=workers, timers=2, log_dir=folder) as server:
            step(f"server up: {' '.join(server.command()[:5])} and 2 timer workers")
            pages = measure_pages(server.port, WORK_IN_HAND + ABOVE_COUNTY, args.repeat, people["village_user"])
            step(f"task submit, one client, {len(submit_ids)} cases")
            single = drive(server.port, people, submit_ids, 1)
            step(f"throughput, 4 clients, {len(four_ids)} cases")
            tp4 = drive(server.port, people, four_ids, 4)
            step(f"throughput, 16 clients, {len(sixteen_ids)} cases")
            tp16 = drive(server.port, people, sixteen_ids, 16)
            step("monthly screening start, one county")
            starts = [screening_start(server.port, people, ["610922"], f"2090-{m:02d}", 1) for m in (1, 2, 3)]
            scale_results["1"] = {
                "pages": {label: ms(t) for label, t in pages.items()}, "overview_refresh": refreshed,
                "screening_start": {"counties": 1, "villages": starts[0]["villages"],
                                    "per_county": ms(Timing("start", [s["per_county"]["p50_ms"] / 1000
                                                                      for s in starts]))},
                "peak_rss_mb": server.peak_rss_mb, "largest_worker_mb": server.peak_worker_rss_mb}
        submit = single["submit"]
        results["submit"] = {**ms(submit), "ratio_p50_to_floor": round(submit.median / floor.median, 2),
                             "ratio_p50_to_schema_floor": round(submit.median / schema_floor.median, 2),
                             "ratio_p50_to_stack_floor": round(submit.median / stack_floor.median, 2),
                             "tasks": single["tasks"], "errors": single["errors"]}
        results["throughput"] = {"postgresql": {}, "sqlite": {}}
        for clients, run_ in ((4, tp4), (16, tp16)):
            results["throughput"]["postgresql"][str(clients)] = {
                k: v for k, v in run_.items() if k != "submit"} | {"submit": ms(run_["submit"])}

        # The same throughput on the SQLite county, served as the README serves SQLite.
        sqlite_people = prepare(template, args)
        with Server(template, workers=args.workers if args.workers_given else 2, log_dir=folder) as server:
            for clients, ids in ((4, four_ids), (16, sixteen_ids)):
                step(f"throughput on SQLite, {clients} clients")
                run_ = drive(server.port, sqlite_people, ids, clients)
                results["throughput"]["sqlite"][str(clients)] = {
                    k: v for k, v in run_.items() if k != "submit"} | {"submit": ms(run_["submit"])}
            results["throughput"]["sqlite_server"] = " ".join(server.command()[:5])

        # 4. Ten counties, a hundred.
        for scale in scales[1:]:
            step(f"cloning to {scale} counties")
            built[f"clone_to_{scale}"] = pg.clone_counties(url, scale, log=lambda text: step(text.strip()))
            built[f"counts_at_{scale}"] = pg.table_counts(url)
            step(f"dataset at {scale}: {json.dumps(built[f'counts_at_{scale}'], ensure_ascii=False)}")
            people = prepare(url, args)
            step(f"the city's and the province's overviews computed at {scale} counties")
            refreshed_at_scale = refresh_overviews(url)
            with Server(url, workers=workers, timers=2, log_dir=folder) as server:
                pages = measure_pages(server.port, WORK_IN_HAND + ABOVE_COUNTY, args.repeat, people["village_user"])
                step(f"monthly screening start, all {scale} counties")
                counties = sorted(code for role, code in people["by_area"] if role == "county_office")
                start_all = screening_start(server.port, people, counties, f"2091-{scales.index(scale):02d}",
                                            workers)
                scale_results[str(scale)] = {
                    "pages": {label: ms(t) for label, t in pages.items()}, "screening_start": start_all,
                    "overview_refresh": refreshed_at_scale,
                    "peak_rss_mb": server.peak_rss_mb, "largest_worker_mb": server.peak_worker_rss_mb}
        results["scales_measured"] = scale_results
        results["dataset"] = {"county": counts, **built}
        # Written now and again after the import, which takes long: a run stopped during it keeps the rest.
        finish(results, loads, run_started, args)
        if not args.skip_excel:
            step(f"registry import of {args.import_households:,} households on PostgreSQL beside openpyxl")
            results["excel"] = registry_import(args, folder, url)
            finish(results, loads, run_started, args)
    finally:
        done.set()
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


def refresh_overviews(url: str) -> dict[str, Any]:
    """`flask overviews refresh` on the database, as an operator runs it after a deployment (the timer workers then
    refresh every OVERVIEW_REFRESH_MINUTES): the city's and the province's scoreboard and heatmap, computed."""
    import re
    import subprocess
    import sys

    from bench.county_bench import ROOT

    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "overviews", "refresh"], cwd=ROOT,
                            env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True)
    found = re.search(r"refreshed (\d+) overview snapshot\(s\) in ([\d.]+) s", result.stdout)
    if result.returncode != 0 or not found:
        raise SystemExit(f"overviews refresh failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return {"snapshots": int(found.group(1)), "seconds": float(found.group(2))}


def pages_only(args: argparse.Namespace) -> None:
    """The pages measured again on the province database a full run left (rpm_bench_city, at whatever scale it was
    cloned to), after a change to them: written beside the run's results as <date>-postgresql-pages.json."""
    url = city_url(args.postgres_url)
    with pg.connect(url) as connection:
        counties = int(connection.execute("SELECT count(*) FROM area WHERE level = 'county'").fetchone()[0])
    workers = args.workers if args.workers_given else 2 * (os.cpu_count() or 1)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-pages-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        from flask_migrate import upgrade

        from bench.county_bench import ROOT, make_app

        app = make_app(url)
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        migrated = round(time.perf_counter() - started, 1)
        args.idle_case_ids = []
        people = prepare(url, args)
        refreshed = refresh_overviews(url)
        loads = [os.getloadavg()[0]]
        with Server(url, workers=workers, timers=2, log_dir=folder) as server:
            pages = measure_pages(server.port, WORK_IN_HAND + ABOVE_COUNTY, args.repeat, people["village_user"])
            loads.append(os.getloadavg()[0])
            memory = {"peak_rss_mb": server.peak_rss_mb, "largest_worker_mb": server.peak_worker_rss_mb}
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    measured = {"date": date.today().isoformat(), "database": "postgresql", "counties": counties,
                "machine": machine(), "server": f"gunicorn -w {workers} (sync) and 2 timer workers",
                "migrated_seconds": migrated, "overview_refresh": refreshed, **memory,
                "load_average_1min": loads, "pages": {label: ms(t) for label, t in pages.items()},
                "seconds": round(time.perf_counter() - started)}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{date.today().isoformat()}-postgresql-pages-{counties}.json").write_text(
        json.dumps(measured, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(measured, ensure_ascii=False, indent=1))


def finish(results: dict[str, Any], loads: list[float], run_started: float, args: argparse.Namespace) -> None:
    results["load_average"] = {"median": sorted(loads)[len(loads) // 2] if loads else None,
                               "max": max(loads, default=None), "cpus": psutil.cpu_count()}
    results["seconds"] = round(time.perf_counter() - run_started)
    write_results(results, args)


def registry_import(args: argparse.Namespace, folder: Path, url: str) -> dict[str, Any]:
    """The national registry's export of `--import-households` households (one county, one row a person) imported
    into PostgreSQL by the CLI, beside openpyxl's read of the same file, in turns."""
    import math

    from bench import excel_bench

    per_village = math.ceil(args.import_households / VILLAGES_PER_COUNTY)
    full, empty = folder / "import-county.sqlite3", folder / "import-areas.sqlite3"
    for path in (full, empty):
        path.unlink(missing_ok=True)
    started = time.perf_counter()
    excel_bench.build_database(full, per_village)
    excel_bench.empty_copy(full, empty)
    registry = folder / "registry.xlsx"
    people = excel_bench.write_registry_file(full, registry)
    full.unlink()
    prepared = round(time.perf_counter() - started, 1)
    limits = raised_limits(registry, people)
    first, again, floor = excel_bench.bench_import(empty, registry, args.import_repeat, folder,
                                                   postgres_url=url.rsplit("/", 1)[0] + "/rpm_bench_import",
                                                   limits=limits)

    def s(t: Timing) -> dict[str, float | int]:
        return {"p50_s": round(t.median, 3), "p95_s": round(t.p95, 3), "max_s": round(t.max, 3),
                "runs": len(t.seconds)}

    return {"households": per_village * VILLAGES_PER_COUNTY, "person_rows": people,
            "file_mb": round(registry.stat().st_size / 1e6, 1), "prepared_seconds": prepared,
            "import": s(first), "reimport": s(again), "import_floor": s(floor),
            "import_ratio": round(first.median / floor.median, 2), "limits_raised": limits}


def raised_limits(registry: Path, person_rows: int) -> dict[str, int]:
    """The upload limits a county sets (in the environment) for a registry of this size: the defaults suit one of
    about 220,000 person rows; these leave a quarter's headroom over this file's own rows, parts and reading."""
    import zipfile

    with zipfile.ZipFile(registry) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    sheet = max(size for name, size in sizes.items() if name.startswith("xl/worksheets/"))
    strings = sizes.get("xl/sharedStrings.xml", 0)
    limits = {"EXCEL_MAX_ROWS": person_rows * 5 // 4 + 10, "EXCEL_MAX_SHEET_BYTES": sheet * 5 // 4,
              "EXCEL_MAX_UNCOMPRESSED": sum(sizes.values()) * 5 // 4,
              "EXCEL_MAX_SHARED_STRINGS_BYTES": max(strings * 5 // 4, 64 * 1024 * 1024),
              "EXCEL_MAX_SHARED_STRINGS": max(person_rows * 3, 1_000_000),
              # Reading the county's 219,043 rows takes about 230 MB and 30-70 s (app/config.py).
              "EXCEL_READ_MEMORY_BYTES": max(1024 ** 3, person_rows * 2 * 1024 * 5 // 4),
              "EXCEL_READ_SECONDS": max(600, person_rows // 200)}
    return limits


def excel_only(args: argparse.Namespace) -> None:
    """The registry import alone, added to the latest PostgreSQL results (the rest of the run is long)."""
    url = city_url(args.postgres_url)
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        measured = registry_import(args, folder, url)
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)
    measured["measured"] = {"date": date.today().isoformat(), "seconds": round(time.perf_counter() - started),
                            "load_average_1min_at_end": round(os.getloadavg()[0], 1)}
    # Kept on its own, then added to the latest results if there are any (read after the import, which takes long:
    # a run at the scales may have written them meanwhile).
    args.results.mkdir(parents=True, exist_ok=True)
    prefix = "quick-" if args.quick else f"{date.today().isoformat()}-"
    (args.results / f"{prefix}postgresql-import.json").write_text(
        json.dumps(measured, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    latest = args.results / ("quick-latest-postgresql.json" if args.quick else "latest-postgresql.json")
    if latest.exists():
        results = json.loads(latest.read_text(encoding="utf-8"))
        results["excel"] = measured
        write_results(results, args)
    print(json.dumps(measured, ensure_ascii=False, indent=1))


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Each page at each scale beside its time at one county, by p50."""
    scales = results["scales_measured"]
    base = scales["1"]["pages"]
    return {scale: {label: round(t["p50_ms"] / base[label]["p50_ms"], 2) for label, t in point["pages"].items()}
            for scale, point in scales.items() if scale != "1"}


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"# Benchmark on PostgreSQL {results['date']}{' (quick)' if results['quick'] else ''}", "",
             f"Machine: {m['cpus']} CPUs, {m['memory_gb']} GB, Python {m['python']}, SpiffWorkflow "
             f"{m['spiffworkflow']}, gunicorn {m['gunicorn']}; PostgreSQL "
             f"{json.dumps(results['postgresql'], ensure_ascii=False)}; server: {results['server']}. "
             f"Load average during the run: median {results['load_average']['median']}, max "
             f"{results['load_average']['max']} on {results['load_average']['cpus']} CPUs. "
             f"Run: {results['seconds']} s.",
             "", "## At one county, beside the yardsticks measured in the same run", "",
             "| measurement | p50 | p95 | max | yardstick | ratio | target |", "|---|---|---|---|---|---|---|"]

    def row(name: str, t: dict[str, Any], yard: str = "", ratio: str = "", target: str = "") -> None:
        lines.append(f"| {name} | {t['p50_ms']} ms | {t['p95_ms']} ms | {t['max_ms']} ms | {yard} | {ratio} | "
                     f"{target} |")

    floor, stack = results["engine_floor"], results["stack_floor"]
    row("task submit, 1 client", results["submit"], f"stack floor p50 {stack['p50_ms']} ms",
        f"{results['submit']['ratio_p50_to_stack_floor']}×", "≤ 1.5× the stack floor")
    row("engine floor, its write on PostgreSQL", floor, "", "", "the yardstick")
    row("schema floor (the engine floor and this schema's rows, hand-written, on a copy)", results["schema_floor"],
        f"engine floor p50 {floor['p50_ms']} ms", f"{results['schema_floor']['ratio_p50_to_floor']}×")
    row("stack floor (the schema floor served by Flask and Flask-SQLAlchemy)", stack,
        f"engine floor p50 {floor['p50_ms']} ms", f"{stack['ratio_p50_to_floor']}×")
    row("web floor (a bare Flask app on the same server)", results["web_floor"])
    for database in ("postgresql", "sqlite"):
        for clients, t in results["throughput"][database].items():
            lines.append(f"| throughput on {database}, {clients} clients | {t['tasks_per_min']} tasks/min "
                         f"({t['case_instances_per_min']} whole cases/min, {t['tasks']} tasks) | submit p95 "
                         f"{t['submit']['p95_ms']} ms | max {t['submit']['max_ms']} ms | | | {t['errors']} errors "
                         "(target 0) |")
    scales = results["scales_measured"]
    by_ratio = ratios(results)
    names = list(scales)
    lines += ["", "## Pages at each scale (p50 / p95 ms; ratio: p50 beside the same page at one county)", "",
              "| page | " + " | ".join(f"{s} count{'y' if s == '1' else 'ies'}" for s in names) + " | target |",
              "|---|" + "---|" * (len(names) + 1)]
    work = {label for _u, label, _p in WORK_IN_HAND}
    for label in scales["1"]["pages"]:
        cells = []
        for scale in names:
            t = scales[scale]["pages"][label]
            ratio = f", {by_ratio[scale][label]}×" if scale != "1" else ""
            cells.append(f"{t['p50_ms']} / {t['p95_ms']}{ratio}")
        target = "p95 ≤ 100 ms, ≤ 1.3× one county" if label in work else "p95 ≤ 100 ms"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    for scale in names:
        s = scales[scale]["screening_start"]
        lines.append(f"| monthly screening start at {scale}: {s['counties']} counties, {s['villages']:,} villages "
                     f"| per county p50 {s['per_county']['p50_ms']} ms, p95 {s['per_county']['p95_ms']} ms"
                     + (f"; all in {s['seconds']} s with {s['clients']} offices at a time, {s['errors']} errors"
                        if "seconds" in s else "") + " | |")
        lines.append(f"| server memory at {scale} | all processes {scales[scale]['peak_rss_mb']} MB, largest worker "
                     f"{scales[scale]['largest_worker_mb']} MB | |")
        if "overview_refresh" in scales[scale]:
            r = scales[scale]["overview_refresh"]
            lines.append(f"| overviews above the county computed at {scale} (timer workers, every 10 min) | "
                         f"{r['snapshots']} snapshots in {r['seconds']} s | |")
    if "excel" in results:
        e = results["excel"]
        lines += ["", "## The registry import on PostgreSQL", "",
                  "| measurement | p50 | p95 | max | yardstick (in turns) | ratio | target |",
                  "|---|---|---|---|---|---|---|",
                  f"| import {e['households']:,} households ({e['person_rows']:,} rows, {e['file_mb']} MB) into "
                  f"PostgreSQL | {e['import']['p50_s']} s | {e['import']['p95_s']} s | {e['import']['max_s']} s | "
                  f"openpyxl read-only {e['import_floor']['p50_s']} s | {e['import_ratio']}× | ≤ 1.5× |",
                  f"| re-import, no changes | {e['reimport']['p50_s']} s | {e['reimport']['p95_s']} s | "
                  f"{e['reimport']['max_s']} s | | | |"]
    lines += ["", "## The dataset", "", "```", json.dumps(results["dataset"], ensure_ascii=False, indent=1), "```"]
    return "\n".join(lines) + "\n"


def write_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    results["page_ratios_to_one_county"] = ratios(results)
    args.results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, ensure_ascii=False, indent=2, default=str)
    table = markdown(results)
    names = ["quick-latest-postgresql"] if args.quick else [f"{results['date']}-postgresql", "latest-postgresql"]
    for name in names:
        (args.results / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    (args.results / f"{names[-1]}.md").write_text(table, encoding="utf-8")
    print("\n" + table)
