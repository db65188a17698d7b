"""The run log ``DIR/runs.jsonl``: one JSON object per finished run, appended as it finishes.

The log is the batch's only state: ``--resume`` reads it to skip finished runs and
``streamdrift-grader report DIR`` re-prints the summary from it. A run may appear more
than once (an ``api_error``, ``error`` or ``cancelled`` run is retried on resume); the last
record of a run id is its verdict.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader.agent.summary import Summary, latest_by_run, summarize

LOG_NAME = "runs.jsonl"
RETRIED_ON_RESUME = ("api_error", "error", "cancelled")


class LogError(Exception):
    """A run log that cannot be used as asked; the message is one line for the user."""


class RunLog:
    """Appends run records to, and reads them from, ``directory/runs.jsonl``."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self.path = self.directory / LOG_NAME

    def append(self, record: dict) -> None:
        """Write one record as one line and flush it to disk, so a crash loses at most this run.

        ASCII-only JSON: a model's U+2028 or U+0085 stays escaped, never a line break. A
        line torn by an earlier crash is cut off first, so the new record starts its own line.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=True, default=str) + "\n"
        with open(self.path, "ab") as fh:
            end = fh.seek(0, os.SEEK_END)
            if end:
                with open(self.path, "rb") as rd:
                    data = rd.read()
                if not data.endswith(b"\n"):
                    fh.truncate(data.rfind(b"\n") + 1)
            fh.write(line.encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())

    def read(self) -> list[dict]:
        """All records in file order; a torn last line (a crash mid-write) is ignored."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").split("\n")  # only \n ends a record
        while lines and not lines[-1].strip():
            lines.pop()
        records = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                if number == len(lines):
                    break
                raise LogError(f"{self.path}:{number} is not valid JSON; fix or remove that line") from None
            if not isinstance(rec, dict) or "run_id" not in rec:
                raise LogError(f"{self.path}:{number} is not a run record (no run_id)")
            records.append(rec)
        return records


def finished_ids(records: list[dict]) -> set[int]:
    """Run ids that --resume skips: those whose last record is a verdict, not an API failure."""
    return {rid for rid, rec in latest_by_run(records).items() if rec.get("status") not in RETRIED_ON_RESUME}


def check_resumable(records: list[dict], *, model: str, mode: str, seed: int | None = None,
                    tolerance: float | None = None) -> None:
    """Refuse to mix runs of another model or mode, or graded otherwise, into one batch."""
    for rec in records:
        if rec.get("model") != model or rec.get("mode") != mode:
            raise LogError(
                f"the log holds {rec.get('mode')} runs of {rec.get('model')}, not {mode} runs of {model}; "
                "resume with the same --model and --mode, or use another --log-dir"
            )
        logged = (rec.get("params") or {}).get("tolerance")
        for flag, was, now in (("--seed", rec.get("seed"), seed), ("--tolerance", logged, tolerance)):
            if was is not None and now is not None and was != now:
                raise LogError(
                    f"the log's runs were graded with {flag} {was}, not {now}; resume with {flag} {was}, "
                    "or use another --log-dir"
                )


def report(directory: str | os.PathLike) -> Summary:
    """The summary of the batch logged in ``directory`` (the last record of each run)."""
    log = RunLog(directory)
    if not log.path.exists():
        raise LogError(f"no run log at {log.path}; pass the --log-dir of a `streamdrift-grader run`")
    return summarize(log.read())
