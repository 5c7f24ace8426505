"""Benchmarks drop, recreate and clear databases: only ones named as benchmark databases."""

from __future__ import annotations

import pytest

from devtools.benchmarking import BenchmarkError, benchmark_database_name


def test_a_benchmark_database_is_recognised_by_its_name() -> None:
    url = "postgres://postgres@127.0.0.1:5432/loopmonitor_bench_cluster"

    assert benchmark_database_name(url, doing="drop") == "loopmonitor_bench_cluster"


@pytest.mark.parametrize("name", ["loopmonitor", "production", "loopmonitor_bnch"])
def test_any_other_database_is_refused_with_the_reason(name: str) -> None:
    with pytest.raises(BenchmarkError, match=f"refusing to drop database '{name}'.*must contain 'bench'"):
        benchmark_database_name(f"postgres://postgres@127.0.0.1:5432/{name}", doing="drop")
