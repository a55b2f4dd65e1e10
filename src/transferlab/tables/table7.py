"""Table VII: gradient similarity of each surrogate training to targets of another
architecture, as increments over the ST row, with the paper's per-training scores (SPEC §6).

Pure pandas on the similarity job's per-model-pair means (``metrics/similarity/<dataset>/
table7.csv``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transferlab.frames import ordered_unique, require_columns


def table7(df: pd.DataFrame, reference: str = "ST") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table VII: cross-architecture similarity, reference row absolute, others as increments.

    ``df`` columns: ``source_method`` (surrogate training), ``target_method``
    (target training), ``similarity_mean`` (S̃ of one surrogate–target pair);
    several rows per cell (seeds/pairs) are averaged first. With m(s, t) the
    cell mean:
      value(reference, t) = m(reference, t)                (is_increment False)
      value(s, t)         = m(s, t) − m(reference, t)      (is_increment True)
      score(s)            = Σ_t sign(value(s, t)) for s ≠ reference; 0 for it.
    Returns (long, scores): ``long`` has columns ``surrogate, target_training,
    value, is_increment`` (the layout of paper/table7_cifar10_similarity.csv),
    reference rows first, then surrogates in order of appearance; ``scores``
    has ``surrogate, score`` (int).
    """
    require_columns(df, ["source_method", "target_method", "similarity_mean"], name="df")
    cell = (
        df.groupby(["source_method", "target_method"], sort=False)["similarity_mean"]
        .mean()
        .unstack("target_method")
    )
    if reference not in cell.index:
        raise ValueError(
            f"reference {reference!r} is not a source_method in df "
            f"(have {ordered_unique(df['source_method'])})"
        )
    targets = ordered_unique(df["target_method"])
    surrogates = [reference] + [s for s in ordered_unique(df["source_method"]) if s != reference]
    cell = cell.reindex(index=surrogates, columns=targets)
    missing = [t for t in targets if pd.isna(cell.loc[reference, t])]
    if missing:
        raise ValueError(f"reference {reference!r} has no similarity for target(s) {missing}")
    increments = cell - cell.loc[reference]
    records = []
    scores = []
    for surrogate in surrogates:
        is_increment = surrogate != reference
        row = increments.loc[surrogate] if is_increment else cell.loc[surrogate]
        for target in targets:
            records.append(
                {
                    "surrogate": surrogate,
                    "target_training": target,
                    "value": float(row[target]),
                    "is_increment": is_increment,
                }
            )
        score = int(np.nansum(np.sign(row.to_numpy(dtype=float)))) if is_increment else 0
        scores.append({"surrogate": surrogate, "score": score})
    return pd.DataFrame.from_records(records), pd.DataFrame.from_records(scores)


def table7_long(
    pairs: pd.DataFrame, dataset: str, reference: str = "ST"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``table7`` of the similarity job's pair table (rows and columns named by the models'
    labels), with each row's score and the data set label: (long, scores)."""
    frame = pairs.drop(columns=["source_method", "target_method"]).rename(
        columns={"source_label": "source_method", "target_label": "target_method"}
    )
    long, scores = table7(frame, reference=reference)
    long = long.merge(scores, on="surrogate", how="left")
    long.insert(0, "dataset", dataset)
    return long, scores


def render_table7_markdown(
    long: pd.DataFrame, scores: pd.DataFrame, dataset: str, reference: str = "ST"
) -> str:
    """Table VII's Markdown: surrogate rows × target-training columns, plus the score."""
    wide = long.pivot(index="surrogate", columns="target_training", values="value")
    wide = wide.reindex(index=pd.unique(long["surrogate"]))
    wide = wide[list(pd.unique(long["target_training"]))]
    wide["score"] = scores.set_index("surrogate")["score"]
    text = (
        f"# Table VII: cross-architecture gradient similarity ({dataset})\n\n"
        f"Rows: surrogate training; columns: target training. The {reference} row is "
        "the mean cosine similarity S̃; other rows are the difference to it. "
        "Score = number of positive minus negative differences.\n\n"
    )
    return text + wide.round(3).to_markdown() + "\n"
