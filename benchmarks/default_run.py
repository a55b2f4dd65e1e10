"""Summarize a build of the embedded default: where its time went, and its calibration.

    python benchmarks/default_run.py [WORKDIR]          (default: the current directory)

Reads WORKDIR/results (the per-job Snakemake benchmark TSVs and the tables) and prints
Markdown: per rule, the number of jobs, their summed wall and CPU seconds; the CPU
seconds over 2 cores (what a quiet 2-core machine needs at least, whatever else ran);
the accuracy of the trained models (Table XII); the ST surrogate's PGD ASR per budget
(mean over targets and seeds, Table II), the issue-13 calibration targets; and the
verdict of every claim (results/claims.csv).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

WORKER_CPU = re.compile(r"worker CPU user ([0-9.]+) s, system ([0-9.]+) s")


def worker_cpu_s(log: Path) -> float:
    """CPU seconds of a job's forked worker (warm_interpreter), from the last line the client
    writes to the job's log; 0 for a job run directly. Snakemake's benchmark samples only
    the client's process tree, which does not hold the worker."""
    if not log.exists():
        return 0.0
    found = WORKER_CPU.findall(log.read_text(errors="replace"))
    return sum(float(user) + float(system) for user, system in found)


def job_costs(results: Path) -> pd.DataFrame:
    """One row per job: rule (first folder under results/benchmarks), wall s, CPU s (the
    benchmark's, plus the forked worker's when the job ran through the warm interpreter)."""
    rows = []
    for path in sorted((results / "benchmarks").rglob("*.tsv")):
        relative = path.relative_to(results / "benchmarks")
        rule = relative.parts[0].removesuffix(".tsv")
        frame = pd.read_csv(path, sep="\t")
        worker = worker_cpu_s((results / "logs" / relative).with_suffix(".log"))
        rows.append(
            {
                "rule": rule,
                "wall_s": frame["s"].iloc[-1],
                "cpu_s": frame["cpu_time"].iloc[-1] + worker,
            }
        )
    return pd.DataFrame(rows)


def main(workdir: Path) -> None:
    results = workdir / "results"
    costs = job_costs(results)
    per_rule = (
        costs.groupby("rule")
        .agg(jobs=("wall_s", "size"), wall_s=("wall_s", "sum"), cpu_s=("cpu_s", "sum"))
        .sort_values("cpu_s", ascending=False)
    )
    print("## Jobs by rule (Snakemake benchmark files)\n")
    print(per_rule.round(1).to_markdown())
    total_cpu = float(costs["cpu_s"].sum())
    print(
        f"\n{len(costs)} jobs; summed CPU {total_cpu / 60:.1f} min "
        f"= at least {total_cpu / 120:.1f} min of wall time on 2 cores; summed job wall "
        f"{costs['wall_s'].sum() / 60:.1f} min.\n"
    )
    if not (results / "tables/table12.csv").exists():
        return
    table12 = pd.read_csv(results / "tables/table12.csv")
    accuracy = table12["test_acc_mean"]
    worst = table12.loc[accuracy.idxmin()]
    print(
        f"Test accuracy (Table XII rows, mean over seeds): mean {accuracy.mean():.1f} %, "
        f"lowest {worst['model']} ({worst['role']}) {accuracy.min():.1f} %.\n"
    )
    if not (results / "tables/table2.csv").exists():
        return
    table2 = pd.read_csv(results / "tables/table2.csv")
    st = table2[(table2["surrogate"] == "ST") & (table2["attack"] == "PGD")]
    calibration = st.groupby(["mode", "eps"], sort=False)["asr_mean"].mean().unstack("eps")
    print("ST surrogate, PGD transfer ASR (%) per budget, mean over targets:\n")
    print(calibration.round(1).to_markdown() + "\n")
    claims = results / "claims.csv"
    if claims.exists():
        frame = pd.read_csv(claims)
        print("Claims:\n")
        columns = ["claim", "dataset", "value", "ci_low", "ci_high", "verdict"]
        print(frame[columns].round(3).to_markdown(index=False))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
