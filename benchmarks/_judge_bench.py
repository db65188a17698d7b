"""The grading process's own work per submission (issue 9 item 3): CPU seconds of judging one
submission's report, for an honest report and for forged worst cases.

    python benchmarks/_judge_bench.py

Judging is fed synthetic result-channel events (what a child could send, up to the channel's
cap), so only the parent's work is timed: decoding, reading printed lines, checks, diagnosis.
Best of 5, ``time.process_time``. The baseline is the honest report in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader.grading.grade import judge  # noqa: E402
from grader.task.reference import expected_for_seed  # noqa: E402
from grader.sandbox import RawRun  # noqa: E402

LIMIT = 64_000


def _result(values: dict) -> dict:
    return {"kind": "dict", "type": "dict",
            "items": [[{"t": "str", "v": c}, {"t": "float", "v": repr(float(v))}] for c, v in values.items()]}


def _events(stdout_of, values_of) -> list[dict]:
    events = [{"event": "isolation"}]
    for case, expected in expected_for_seed(0):
        events.append({"event": "case_start", "name": case.name})
        events.append({"event": "case", "name": case.name, "modified": False, "error": None, "memory": False,
                       "result": _result(values_of(expected)), "stdout": stdout_of(case, expected),
                       "stdout_truncated": False})
    return events + [{"event": "done"}]


def honest(case, expected):
    return "".join(f"Drifted: {c} (KL={v:.4f})\n" for c, v in expected.items() if v > case.threshold)


SCENARIOS = {
    "honest report (baseline)": (honest, dict),
    "3000 spaces after Drifted:, 8 MB a case": (lambda c, e: ("Drifted:" + " " * 3000 + "x\n") * 2700, dict),
    "one 8 MB line of '('": (lambda c, e: "Drifted: " + "(" * 8_000_000, dict),
    "8 MB of well-formed lines, unknown columns": (
        lambda c, e: "".join(f"Drifted: c{i} (KL=1E+400)\n" for i in range(400_000)), dict),
    "all zeros (diagnosis runs on every case)": (honest, lambda e: {c: 0.0 for c in e}),
}


def main() -> None:
    selected = list(expected_for_seed(0))
    rows = []
    for name, (stdout_of, values_of) in SCENARIOS.items():
        raw = RawRun(b"", b"", _events(stdout_of, values_of), False, 0, 0.0, False)
        samples = []
        for _ in range(5):
            t = time.process_time()
            result = judge(raw, "x = 1", selected, 1e-6, LIMIT, time.monotonic())
            samples.append(time.process_time() - t)
        rows.append((name, min(samples), statistics.median(samples), result.reasons))
    base = rows[0][1]
    print("| report | best CPU s | median | x honest | reasons |\n| --- | --- | --- | --- | --- |")
    for name, best, median, reasons in rows:
        print(f"| {name} | {best:.3f} | {median:.3f} | {best / base:.1f}x | {', '.join(reasons) or '-'} |")


if __name__ == "__main__":
    main()
