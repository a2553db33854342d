"""Where a task submit's time goes: the app in-process (Flask's test client, no WSGI server, no network),
driving idle cases through every user task of the happy path over the JSON API, as the benchmark's drivers do.

    .venv/bin/python -m bench.profile_submit                   # statements and CPU per submit, by task
    .venv/bin/python -m bench.profile_submit --profile out.html  # and a pyinstrument profile of the submits
    .venv/bin/python -m bench.profile_submit --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/rpm_bench_profile
                                                   # the same cases copied to PostgreSQL (dropped and rebuilt)

Reports, per submit: SQL statements (and which), CPU time (process_time) and wall time, median by task and
overall. The engine floor of the same database is measured beside it (bench/engine_floor.py).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.county_bench import ROOT, Driver, idle_case_ids, prepare
from bench.supervision_bench import build_base, make_app


class InProcessApi:
    """ApiClient's `call`, answered by the app in this process."""

    def __init__(self, client: Any, recorder: Recorder) -> None:
        self.client, self.recorder = client, recorder

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        submit = method == "POST"
        if submit:
            self.recorder.begin(path)
        response = self.client.open(path, method=method, headers=headers, json=body)
        if submit:
            self.recorder.end()
        return response.status_code, response.get_json(silent=True)


class Recorder:
    """Statements, CPU and wall time of each submit, and the time spent in the driver (a statement's execution:
    the round trip and the server's work), by statement."""

    def __init__(self) -> None:
        self.active = False
        self.statements: list[str] = []
        self.engine_ms = 0.0
        self.engine_samples: list[float] = []
        self.samples: list[tuple[int, float, float]] = []
        self.kinds: Counter[str] = Counter()
        self.shown: list[list[str]] = []
        self._started = (0.0, 0.0)
        self.driver_ms = 0.0
        self.driver_samples: list[float] = []
        self.driver_by_shape: defaultdict[str, list[float]] = defaultdict(list)
        self._statement_started = 0.0

    def on_execute(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.active:
            self.statements.append(statement)
            self._statement_started = time.perf_counter()

    def on_executed(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.active:
            elapsed = (time.perf_counter() - self._statement_started) * 1000
            self.driver_ms += elapsed
            self.driver_by_shape[" ".join(statement.split())[:110]].append(elapsed)

    def timed_engine(self, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.engine_ms += (time.process_time() - started) * 1000

        return wrapper

    def begin(self, _path: str) -> None:
        self.statements = []
        self.engine_ms = 0.0
        self.driver_ms = 0.0
        self.active = True
        self._started = (time.process_time(), time.perf_counter())

    def end(self) -> None:
        cpu, wall = time.process_time() - self._started[0], time.perf_counter() - self._started[1]
        self.active = False
        self.samples.append((len(self.statements), cpu * 1000, wall * 1000))
        self.engine_samples.append(self.engine_ms)
        self.driver_samples.append(self.driver_ms)
        self.shown.append(self.statements)
        for statement in self.statements:
            self.kinds[" ".join(statement.split())[:110]] += 1


def print_by_package(stats: pstats.Stats) -> None:
    """Own time of every function, summed by the package (or, for ours, the app package) it lives in."""
    totals: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, _calls, own, _cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = filename
        if "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/")[0]
        elif str(ROOT) in filename:
            key = "/".join(Path(filename).relative_to(ROOT).parts[:2])
        elif "/lib/python3" in filename:
            key = "stdlib " + filename.rsplit("/lib/python3", 1)[1].split("/", 2)[1]
        totals[key] += own
    everything = sum(totals.values())
    print("own CPU time by package (cProfile):")
    for key, seconds in totals.most_common(25):
        print(f"  {seconds:7.2f} s {100 * seconds / everything:5.1f} %  {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=3_000)
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--profile", type=Path, default=None, help="write a pyinstrument HTML profile here")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--by-package", action="store_true", help="own CPU time (cProfile) summed by package")
    parser.add_argument("--callees", nargs="*", default=[], help="with --by-package: callees of these functions")
    parser.add_argument("--show", type=int, default=0, help="print the statements of the first N submits")
    parser.add_argument("--postgres-url", default=None,
                        help="submit on PostgreSQL: a database named rpm_bench*, dropped and rebuilt from the county")
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="bench-profile-"))
    pristine, database = folder / "county.sqlite3", folder / "run.sqlite3"
    if not pristine.exists():
        build_base(pristine, args.households, open_per_village=1, idle_per_village=1)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, database)
    args.idle_case_ids = idle_case_ids(database)
    people = prepare(database, args)

    from sqlalchemy import event

    from app.extensions import db
    from app.workflow import runtime

    served: Path | str = database
    if args.postgres_url:
        from bench.postgres import copy_from_sqlite, fresh_database

        served = fresh_database(args.postgres_url)
        copy_from_sqlite(database, served)
    app = make_app(served)
    recorder = Recorder()
    runtime.engine.complete_task = recorder.timed_engine(runtime.engine.complete_task)  # type: ignore[method-assign]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", recorder.on_execute)
        event.listen(db.engine, "after_cursor_execute", recorder.on_executed)
    driver = Driver(0, people)
    driver.api = InProcessApi(app.test_client(), recorder)  # type: ignore[assignment]
    warm, measured = people["idle"][:2], people["idle"][2:2 + args.cases]
    driver.run(warm)
    recorder.samples.clear()
    recorder.kinds.clear()
    recorder.shown.clear()
    recorder.engine_samples.clear()
    recorder.driver_samples.clear()
    recorder.driver_by_shape.clear()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    by_package = cProfile.Profile() if args.by_package else None
    if by_package:
        by_package.enable()
    driver.run(measured)
    if by_package:
        by_package.disable()
        stats = pstats.Stats(by_package)
        print_by_package(stats)
        print("our functions by cumulative time (cProfile):")
        stats.sort_stats("cumulative").print_stats(r"/work/main/app/|/app/", 30)
        for name in args.callees:
            stats.print_callees(name)
    if profiler:
        profiler.stop()
        args.profile.write_text(profiler.output_html())
        print(profiler.output_text(unicode=True, color=False, show_all=False)[:12000])
    assert not driver.errors, driver.errors[:3]
    submits = len(recorder.samples)
    by_count: dict[str, list[float]] = defaultdict(list)
    for count, cpu, wall in recorder.samples:
        by_count["statements"].append(count)
        by_count["cpu_ms"].append(cpu)
        by_count["wall_ms"].append(wall)
    by_count["engine_cpu_ms (adapter.complete_task)"] = recorder.engine_samples
    by_count["driver_ms (statements executing: round trips and the server's work; not the commit)"] = \
        recorder.driver_samples
    from bench.engine_floor import measure_floor, measure_schema_floor

    floor, _info = measure_floor(database, folder / "floor.sqlite3", 10)
    schema_floor = measure_schema_floor(pristine, folder / "schema-floor.sqlite3", 10)
    print(f"{submits} submits over {len(measured)} cases; engine floor (wall) median {floor.median * 1000:.2f} ms; "
          f"schema floor {schema_floor.median * 1000:.2f} ms")
    for key, values in by_count.items():
        print(f"  {key}: median {statistics.median(values):.2f}, mean {statistics.fmean(values):.2f}, "
              f"max {max(values):.2f}")
    for number, statements in enumerate(recorder.shown[:args.show]):
        print(f"submit {number}:")
        for statement in statements:
            print("    " + " ".join(statement.split())[:160])
    print("statements per submit, by shape (and each one's median time in the driver):")
    for shape, count in recorder.kinds.most_common(40):
        print(f"  {count / submits:5.2f}  {statistics.median(recorder.driver_by_shape[shape]):6.3f} ms  {shape}")


if __name__ == "__main__":
    main()
