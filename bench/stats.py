"""Percentiles and medians, the way the report quotes them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; ``inf`` values (lost messages) count as the slowest."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    finite = [value for value in values if not math.isnan(value)]
    return statistics.median(finite) if finite else math.nan


@dataclass(frozen=True)
class Latency:
    """Latencies in milliseconds of one run; ``lost`` counts messages never seen."""

    count: int
    lost: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples_ms: Sequence[float], *, lost: int = 0) -> Latency:
        values = [*samples_ms, *([math.inf] * lost)]
        return cls(
            count=len(samples_ms),
            lost=lost,
            p50=percentile(values, 0.50),
            p95=percentile(values, 0.95),
            p99=percentile(values, 0.99),
            max=max(values) if values else math.nan,
        )

    @classmethod
    def median_of(cls, runs: Sequence[Latency]) -> Latency:
        """Per-field medians over repeated runs."""
        return cls(
            count=int(median([run.count for run in runs])),
            lost=int(median([run.lost for run in runs])),
            p50=median([run.p50 for run in runs]),
            p95=median([run.p95 for run in runs]),
            p99=median([run.p99 for run in runs]),
            max=median([run.max for run in runs]),
        )


def fmt_ms(value: float) -> str:
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "lost"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def fmt_rate(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f}"


def fmt_ratio(value: float, baseline: float) -> str:
    if math.isnan(value) or math.isnan(baseline) or baseline <= 0:
        return "–"
    return f"{value / baseline:.2f}×"


def spread(values: Sequence[float]) -> str:
    """``median (min–max, n runs)``, for tables of repeated throughput runs."""
    finite = [value for value in values if not math.isnan(value)]
    if not finite:
        return "–"
    if len(finite) == 1:
        return fmt_rate(finite[0])
    return f"{fmt_rate(median(finite))} ({fmt_rate(min(finite))}–{fmt_rate(max(finite))})"
