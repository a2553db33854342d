"""Uploads are parsed in a child process with a memory and a time budget, never in the process that received them.

`open_upload(path, limits, budget)` starts `python -m app.excel.bounded` on the file. The parent watches the
child's resident memory against `budget.memory_bytes` and the deadline; the child sets an address-space limit
(resource.setrlimit: what it uses at start plus twice the budget) and a CPU-time limit as backstops,
runs every check of `app.excel.reading` and streams the first sheet's rows back as plain values (numbers, text,
dates; a formula as its text, marked), a thousand rows a message. The parent hands them to the importers as rows
of cells (`.value`, `.data_type`), while the child reads ahead, so the two work side by side.

A file that gets past the checks still cannot take more than the budget: a child that runs out of memory, dies or
is still reading at the deadline is ended, and the upload is refused with "文件过大或结构异常，已拒绝：…". The
parent's own memory holds only a batch of plain rows at a time, and a web worker keeps serving throughout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from app.excel.reading import BOMB, CORRUPT, Limits, PlainRow, RowValues, SpreadsheetRefused, merged_in_rows

BATCH_ROWS = 1000
WATCH_SECONDS = 0.1
STARTUP_ALLOWANCE = 64 * 1024 * 1024  # the reader's own interpreter and libraries (about 32 MB resident)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
OUT_OF_MEMORY = 75  # the child's exit status when its allocation failed within the budget


@dataclass(frozen=True)
class Budget:
    """What reading one upload may take beyond the reader's start-up: memory (address space) and wall time."""

    memory_bytes: int = 1024 * 1024 * 1024
    seconds: float = 600.0

    @classmethod
    def from_config(cls, config: Any) -> Budget:
        return cls(memory_bytes=int(config.get("EXCEL_READ_MEMORY_BYTES", cls.memory_bytes)),
                   seconds=float(config.get("EXCEL_READ_SECONDS", cls.seconds)))

    @property
    def memory_label(self) -> str:
        return f"{self.memory_bytes / (1024 * 1024):.0f} MB"

    @property
    def seconds_label(self) -> str:
        return f"{self.seconds:g} 秒"


@dataclass
class UploadSheet:
    """The first worksheet of an upload, as `app.excel.reading.Sheet` offers it, read by the child."""

    title: str
    max_row: int | None
    max_column: int | None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    _reader: _Child | None = None

    def rows(self) -> Iterator[tuple[int, PlainRow]]:
        """(row number, cells) for every row, blank ones included: may be iterated once."""
        reader = self._reader
        if reader is None:
            return
        while True:
            message = reader.receive()
            if message[0] == "end":
                reader.finish()
                return
            for number, values, formulas in message[1]:
                yield number, PlainRow(values, formulas)

    def merged_in_rows(self, first_row: int, last_row: int | None = None) -> tuple[int, int, int, int] | None:
        return merged_in_rows(self.merged, first_row, last_row)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()
            self._reader = None

    def __enter__(self) -> UploadSheet:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _Child:
    """The reading process and its end of the pipe, with the deadline."""

    def __init__(self, path: Path, limits: Limits, budget: Budget) -> None:
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        read_end, write_end = os.pipe()
        self.connection = Connection(read_end, writable=False)
        request = json.dumps({"path": str(path), "limits": asdict(limits), "budget": asdict(budget)})
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.excel.bounded", str(write_end), request],
                pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            self.connection.close()
            raise
        finally:
            os.close(write_end)

    def receive(self) -> tuple[Any, ...]:
        """The child's next message, while watching its deadline and its resident memory (every 0.1 s while it is
        silent, and at each message): a process at its address-space limit can spend minutes failing to allocate
        rather than end, so the memory budget is kept here, and the limit the child sets itself is the backstop."""
        try:
            while True:
                if self._resident() > self.budget.memory_bytes + STARTUP_ALLOWANCE:
                    self.stop()
                    raise SpreadsheetRefused(f"{BOMB}读取所需内存超过 {self.budget.memory_label}")
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    raise SpreadsheetRefused(f"{BOMB}读取用时超过 {self.budget.seconds_label}")
                if self.connection.poll(min(remaining, WATCH_SECONDS)):
                    break
            message: tuple[Any, ...] = self.connection.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if message[0] == "refused":
            self.finish()
            raise SpreadsheetRefused(message[1])
        return message

    def _resident(self) -> int:
        try:
            with open(f"/proc/{self.process.pid}/statm") as statm:
                return int(statm.read().split()[1]) * PAGE_SIZE
        except (OSError, ValueError, IndexError):  # gone already, or not Linux: its own limit still holds
            return 0

    def _died(self) -> SpreadsheetRefused:
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self.stop()
        if status == OUT_OF_MEMORY or status == -9:
            return SpreadsheetRefused(f"{BOMB}读取所需内存超过 {self.budget.memory_label}")
        if status is not None and status < 0:  # another signal: the CPU limit, a crash in the parser
            return SpreadsheetRefused(f"{BOMB}读取时解析程序异常退出")
        return SpreadsheetRefused(CORRUPT)

    def finish(self) -> None:
        """The child said all it had to: let it exit."""
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.connection.closed:
            self.connection.close()


def open_upload(path: Path, limits: Limits, budget: Budget) -> UploadSheet:
    """Check and open an uploaded workbook's first sheet in a budgeted child process (see the module's text).
    Raises SpreadsheetRefused with the user's message for anything refused, in the checks or by the budget."""
    reader = _Child(path, limits, budget)
    try:
        message = reader.receive()
    except BaseException:
        reader.stop()
        raise
    _kind, title, max_row, max_column, merged = message
    return UploadSheet(title=title, max_row=max_row, max_column=max_column, merged=merged, _reader=reader)


# ---- the child -----------------------------------------------------------------------------------------------

def _limit_resources(budget: Budget) -> None:
    """Address space: what this process already uses plus twice the budget, a hard backstop behind the parent's
    watch of its resident memory (address space runs ahead of what is resident). CPU time: the deadline. And the
    reader ends with the process that started it (Linux), however that one ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/statm") as statm:
            in_use = int(statm.read().split()[0]) * PAGE_SIZE
    except (OSError, ValueError):
        in_use = 512 * 1024 * 1024
    limit = in_use + 2 * budget.memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    seconds = int(budget.seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _read(connection: Connection, path: Path, limits: Limits) -> None:
    from app.excel.reading import open_sheet

    with open_sheet(path, limits) as sheet:
        connection.send(("sheet", sheet.title, sheet.max_row, sheet.max_column, sheet.merged))
        batch: list[RowValues] = []
        for row in sheet.values():
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                connection.send(("rows", batch))
                batch = []
        connection.send(("rows", batch))
    connection.send(("end",))


def main(argv: list[str]) -> int:
    connection = Connection(int(argv[1]), readable=False)
    request = json.loads(argv[2])
    budget = Budget(**request["budget"])
    limits = Limits(**request["limits"])
    _limit_resources(budget)
    try:
        _read(connection, Path(request["path"]), limits)
    except SpreadsheetRefused as exc:
        connection.send(("refused", exc.message))
    except MemoryError:
        os._exit(OUT_OF_MEMORY)  # nothing more can be allocated safely, not even the message
    except (BrokenPipeError, ConnectionResetError):
        return 1  # the parent stopped reading (a refusal further on, or its own deadline)
    except Exception:
        connection.send(("refused", CORRUPT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
