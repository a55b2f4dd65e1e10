"""claims.md: the claims table of ``check_claims`` and the definitions of every claim."""

from __future__ import annotations

import math

import pandas as pd

from transferlab.explain.claims.catalogue import CLAIMS
from transferlab.explain.claims.verdicts import CLAIMS_COLUMNS


def _claimed_side(direction: str) -> str:
    """The comparison the paper claims for the statistic against the null: ">" or "<"."""
    return ">" if direction == "greater" else "<"


def describe_claims() -> str:
    """Markdown definitions of every claim: statistic, null, direction, data needed."""
    lines = ["## Definitions", ""]
    for claim in CLAIMS:
        lines.append(
            f"- **{claim.id}** ({claim.source}): {claim.text} Statistic: `{claim.statistic}`; "
            f"claimed: statistic {_claimed_side(claim.direction)} {claim.null:g}. "
            f"{claim.describe} Needs: {claim.needs}."
        )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    """A value for the table: 3 significant digits, – for NaN or missing, ±∞."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.3g}"


def render_claims_markdown(frame: pd.DataFrame) -> str:
    """The claims table (one row per claim × data set) and the claims' definitions."""
    missing = [c for c in CLAIMS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"render_claims_markdown: frame lacks column(s) {missing}")
    resamples = sorted(set(int(n) for n in frame["n_resamples"])) if len(frame) else []
    lines = [
        "# Which of the paper's claims does this run support?",
        "",
        "Verdict: *supported* when the 95 % bootstrap interval (percentile; surrogate seeds and "
        "evaluation images resampled, paired across models; "
        f"{', '.join(map(str, resamples)) or 0} resamples) lies entirely on the claimed side of "
        "the null, *contradicted* when entirely on the other side, *inconclusive* when it "
        "contains the null.",
        "",
        "| claim | data set | claim text | statistic | value | 95 % interval | claimed | verdict "
        "| source | note |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in frame.itertuples(index=False):
        interval = f"[{_number(row.ci_low)}, {_number(row.ci_high)}]"
        cells = [
            str(row.claim),
            str(row.dataset),
            str(row.text),
            f"`{row.statistic}`",
            _number(row.value),
            interval,
            f"{_claimed_side(row.direction)} {row.null:g}",
            f"**{row.verdict}**",
            str(row.source),
            "" if pd.isna(row.note) else str(row.note),
        ]
        # a literal | would end the cell (report.pages splits rows on every |)
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines) + "\n\n" + describe_claims()
