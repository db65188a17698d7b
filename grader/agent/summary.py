"""Batch statistics over run records: pass rate, pass@k, reasons, tokens and cost.

Works on the plain dicts written to ``runs.jsonl`` (see ``grader.agent.runlog``), so a
live batch and ``streamdrift-grader report`` print the same summary from the same data.
Runs whose status is ``api_error``, ``error`` or ``cancelled`` ended for reasons that are
not the model's: they are counted and shown, but left out of every rate. Verdicts come
from the last record of each run; tokens and cost from every record, since a run retried
on resume spent its first attempt's tokens too.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

Z_95 = 1.959963984540054

GRADED = ("passed", "failed")
NOT_GRADED = ("api_error", "error", "cancelled")


@dataclass(frozen=True)
class Price:
    """USD per million tokens; ``long`` applies to a whole request whose prompt exceeds ``threshold``."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    long: "Price | None" = None
    threshold: int = 100_000


# Public list prices (platform.claude.com, November 2026). Keys match model ids by prefix,
# so dated ids such as "claude-haiku-4-5-20251001" find their family.
PRICES: dict[str, Price] = {
    "claude-haiku-5-5": Price(0.10, 0.50, 0.125, 0.01, long=Price(0.50, 2.50, 0.625, 0.05)),
    "claude-haiku-4-5": Price(1.00, 5.00, 1.25, 0.10),
    "claude-sonnet-5-5": Price(2.00, 10.00, 2.50, 0.10),
    "claude-sonnet-5": Price(2.00, 10.00, 2.50, 0.20),
    "claude-sonnet-4-6": Price(3.00, 15.00, 3.75, 0.30),
    "claude-sonnet-4-5": Price(3.00, 15.00, 3.75, 0.30),
    "claude-opus-5-5": Price(4.00, 20.00, 5.00, 0.20),
    "claude-opus-5": Price(5.00, 25.00, 6.25, 0.50),
    "claude-opus-4-8": Price(5.00, 25.00, 6.25, 0.50),
    "claude-opus-4-7": Price(5.00, 25.00, 6.25, 0.50),
    "claude-opus-4-6": Price(5.00, 25.00, 6.25, 0.50),
    "claude-opus-4-5": Price(5.00, 25.00, 6.25, 0.50),
    "claude-fable-5-1": Price(10.00, 50.00, 12.50, 1.00),
}


def price_for(model: str) -> Price | None:
    """The price of ``model`` (longest matching prefix), or None when unknown."""
    matches = [key for key in PRICES if model == key or model.startswith(key + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def request_cost(price: Price, usage: Mapping[str, int | None]) -> float:
    """Cost in USD of one request from its ``usage`` block."""
    fresh = usage.get("input_tokens") or 0
    written = usage.get("cache_creation_input_tokens") or 0
    read = usage.get("cache_read_input_tokens") or 0
    if price.long is not None and fresh + written + read > price.threshold:
        price = price.long
    total = (
        fresh * price.input
        + written * price.cache_write
        + read * price.cache_read
        + (usage.get("output_tokens") or 0) * price.output
    )
    return total / 1e6


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k)."""
    if not 0 < k <= n or not 0 <= c <= n:
        raise ValueError(f"pass@k needs 0 < k <= n and 0 <= c <= n; got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    fail_all = 1.0
    for i in range(n - c + 1, n + 1):
        fail_all *= 1.0 - k / i
    return 1.0 - fail_all


@dataclass
class Summary:
    """What a batch of runs amounts to."""

    runs: int = 0
    passed: int = 0
    failed: int = 0
    api_errors: int = 0
    errors: int = 0
    cancelled: int = 0
    score_sum: float = 0.0
    reasons: Counter = field(default_factory=Counter)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_by_model: dict[str, float | None] = field(default_factory=dict)

    @property
    def graded(self) -> int:
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.passed, self.graded)

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.graded if self.graded else None

    @property
    def pass_at(self) -> dict[int, float]:
        return {k: pass_at_k(self.graded, self.passed, k) for k in range(1, self.graded + 1)}

    @property
    def cost_usd(self) -> float | None:
        """Total estimated cost, None when any model used has no known price."""
        costs = list(self.cost_by_model.values())
        return None if any(c is None for c in costs) else sum(costs)

    def to_dict(self) -> dict:
        low, high = self.interval
        return {
            "runs": self.runs,
            "graded": self.graded,
            "passed": self.passed,
            "failed": self.failed,
            "api_errors": self.api_errors,
            "errors": self.errors,
            "cancelled": self.cancelled,
            "pass_rate": self.pass_rate,
            "pass_rate_95ci": [low, high] if self.graded else None,
            "pass_at_k": {str(k): v for k, v in self.pass_at.items()},
            "mean_score": self.mean_score,
            "reasons": dict(self.reasons.most_common()),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd_by_model": self.cost_by_model,
            "cost_usd": self.cost_usd,
        }


def latest_by_run(records: Iterable[Mapping]) -> dict[int, Mapping]:
    """The last record of each run id, in run id order."""
    latest = {}
    for rec in records:
        latest[rec["run_id"]] = rec
    return dict(sorted(latest.items()))


def summarize(records: Iterable[Mapping]) -> Summary:
    """Fold the records of a log into a Summary: the verdict of each run from its last record,
    the tokens and cost of every record."""
    records = list(records)
    s = Summary()
    for rec in latest_by_run(records).values():
        s.runs += 1
        status = rec.get("status")
        if status == "passed":
            s.passed += 1
        elif status == "failed":
            s.failed += 1
            s.reasons.update(rec.get("reasons") or ["unknown"])
        elif status == "api_error":
            s.api_errors += 1
        elif status == "cancelled":
            s.cancelled += 1
        else:
            s.errors += 1
        if status in GRADED:
            s.score_sum += float(rec.get("score") or 0.0)
    for rec in records:
        _spend(s, rec)
    return s


def _spend(s: Summary, rec: Mapping) -> None:
    """Add one record's tokens and cost to ``s``."""
    usage = rec.get("usage") or {}
    s.input_tokens += int(usage.get("input_tokens") or 0)
    s.output_tokens += int(usage.get("output_tokens") or 0)
    model = rec.get("model") or "unknown"
    price = price_for(model)
    if price is None:
        s.cost_by_model[model] = None
    else:
        spent = sum(request_cost(price, u) for u in usage.get("requests") or [])
        s.cost_by_model[model] = (s.cost_by_model.get(model) or 0.0) + spent


def _ks(n: int) -> list[int]:
    """Every k up to 10, then a 1-2-5 ladder and n itself, to keep the line short."""
    if n <= 10:
        return list(range(1, n + 1))
    ks = list(range(1, 6)) + [10]
    step = 20
    while step < n:
        ks.append(step)
        step = step * 5 // 2 if str(step).startswith("2") else step * 2
    return ks + [n]


def format_summary(s: Summary) -> str:
    """The text summary printed after a batch and by ``report``."""
    lines = [
        f"runs: {s.runs}  passed: {s.passed}  failed: {s.failed}"
        f"  api errors: {s.api_errors}" + (f"  harness errors: {s.errors}" if s.errors else "")
        + (f"  cancelled: {s.cancelled}" if s.cancelled else ""),
    ]
    if s.graded:
        low, high = s.interval
        lines.append(
            f"pass rate: {s.pass_rate:.1%} ({s.passed}/{s.graded}), 95% CI {low:.1%}-{high:.1%}"
            + (" (api/harness errors excluded)" if s.api_errors or s.errors or s.cancelled else "")
        )
        at = s.pass_at
        lines.append("pass@k: " + "  ".join(f"@{k} {at[k]:.3f}" for k in _ks(s.graded)))
        lines.append(f"mean score: {s.mean_score:.3f}")
    else:
        lines.append("pass rate: n/a (no run was graded)")
    if s.reasons:
        lines.append("reasons: " + ", ".join(f"{code} {n}" for code, n in s.reasons.most_common()))
    lines.append(f"tokens: {s.input_tokens:,} in, {s.output_tokens:,} out")
    for model, cost in s.cost_by_model.items():
        lines.append(
            f"estimated cost ({model}): " + ("unknown (no price on file)" if cost is None else f"${cost:.4f}")
        )
    return "\n".join(lines)
