"""The argument parser of ``python -m transferlab``: one subcommand per ``cmd_*`` function."""

from __future__ import annotations

import argparse

from transferlab.cli.commands import (
    cmd_asr_figure,
    cmd_asr_table,
    cmd_attack,
    cmd_claims,
    cmd_compare,
    cmd_compare_summary,
    cmd_figures,
    cmd_lgv,
    cmd_measure,
    cmd_prepare_data,
    cmd_report_pages,
    cmd_similarity,
    cmd_surrogates,
    cmd_table6,
    cmd_table7,
    cmd_table8,
    cmd_table12,
    cmd_train,
    cmd_transfer,
)

DESCRIPTION = "transferlab: the pipeline's stages, one subcommand per Snakemake rule."


def add_execution_flags(parser: argparse.ArgumentParser) -> None:
    """--device and --threads, shared by every command that runs a model."""
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")


def add_rendering_flags(parser: argparse.ArgumentParser) -> None:
    """--markdown and its --html report page, for the commands writing both."""
    parser.add_argument("--markdown")
    parser.add_argument("--html", help="the Markdown as an HTML page for the report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transferlab", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("prepare-data", help="check (and optionally download) a data set")
    p.add_argument("--dataset", required=True)
    p.add_argument("--options", default="{}", help="data set options as JSON")
    p.add_argument("--out", required=True, help="JSON summary written when the data is ready")
    p.set_defaults(func=cmd_prepare_data)

    p = sub.add_parser("train", help="train one model (resumes from its epoch checkpoint)")
    p.add_argument("--spec", required=True, help="training spec as JSON (see training.py)")
    p.add_argument("--model", required=True, help="model file to write (.pt)")
    p.add_argument("--record", help="JSON provenance + metrics to write beside it")
    p.add_argument("--checkpoint", help="epoch checkpoint path (default: <model>.epoch.pt)")
    add_execution_flags(p)
    p.add_argument("--stop-after-epoch", type=int, help=argparse.SUPPRESS)
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the model (an execution option, not part of the spec)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("lgv", help="fine-tune a surrogate into an LGV collection (resumable)")
    p.add_argument("--spec", required=True, help="JSON: base, dataset, lgv, seed (see lgv.py)")
    p.add_argument("--out", required=True, help="collection file to write (.pt)")
    add_execution_flags(p)
    p.add_argument("--stop-after-epoch", type=int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_lgv)

    p = sub.add_parser("table8", help="Table VIII: stored PGD AEs on targets trained off D")
    p.add_argument("--spec", required=True, help="JSON: entries, targets, dataset, evaluation")
    p.add_argument("--out", required=True, help="table CSV")
    p.add_argument("--markdown", required=True)
    add_execution_flags(p)
    p.set_defaults(func=cmd_table8)

    p = sub.add_parser("table12", help="Table XII from model records")
    p.add_argument("--models", required=True, help="JSON list of {record, model, role, arch}")
    p.add_argument("--out", required=True)
    p.add_argument("--markdown")
    p.set_defaults(func=cmd_table12)

    p = sub.add_parser("attack", help="craft and store one surrogate's AEs (and evaluate transfer)")
    p.add_argument("--model", required=True)
    p.add_argument(
        "--spec", required=True, help="JSON: dataset, evaluation, attack, batch_size, seed"
    )
    p.add_argument("--outputs", required=True, help="JSON list of {path, mode, eps}")
    p.add_argument("--targets", help="JSON {label: model path}: also evaluate transfer")
    p.add_argument("--out", help="transfer summary CSV (with --targets)")
    p.add_argument("--samples", help="per-sample transfer outcomes, .csv.gz (with --targets)")
    p.add_argument(
        "--collection",
        action="store_true",
        help="--model is an LGV collection, attacked as an ensemble (spec: members_per_step)",
    )
    add_execution_flags(p)
    p.set_defaults(func=cmd_attack)

    p = sub.add_parser("transfer", help="evaluate stored adversarial examples on targets")
    p.add_argument("--adversarial", nargs="+", required=True, help="HDF5 files")
    p.add_argument(
        "--surrogate", required=True, help="the model file the AEs were crafted from (checked)"
    )
    p.add_argument("--targets", required=True, help="JSON {label: model path}")
    p.add_argument("--spec", required=True, help="JSON: dataset, evaluation, batch_size")
    p.add_argument("--out", required=True, help="summary CSV")
    p.add_argument("--samples", required=True, help="per-sample outcomes (.csv.gz)")
    add_execution_flags(p)
    p.set_defaults(func=cmd_transfer)

    p = sub.add_parser("asr-table", help="Tables II-IV from transfer summaries")
    p.add_argument("--spec", required=True, help="JSON: title, dataset, attacks, budgets, inputs")
    p.add_argument("--out", required=True)
    p.add_argument("--markdown")
    p.set_defaults(func=cmd_asr_table)

    p = sub.add_parser("measure", help="smoothness and input gradients of one model")
    p.add_argument("--model", required=True)
    p.add_argument("--spec", required=True, help="JSON: dataset, metrics")
    p.add_argument("--smoothness", required=True, help="per-sample CSV")
    p.add_argument("--summary", required=True, help="summary JSON")
    p.add_argument("--gradients", required=True, help="input gradients (.pt)")
    add_execution_flags(p)
    p.set_defaults(func=cmd_measure)

    p = sub.add_parser("similarity", help="gradient similarity of model pairs")
    p.add_argument("--sources", required=True, help="JSON list of {gradients, label, ...}")
    p.add_argument("--targets", required=True, help="JSON list of {gradients, label, ...}")
    p.add_argument(
        "--seed-pairs",
        choices=["all", "shifted"],
        default="all",
        help="all source x target pairs, or Fig. 11's: source seed s, target seed s+1 mod n",
    )
    p.add_argument("--out", required=True)
    p.add_argument("--samples", required=True)
    p.set_defaults(func=cmd_similarity)

    p = sub.add_parser("table7", help="Table VII from cross-architecture similarities")
    p.add_argument("--similarity", required=True)
    p.add_argument("--dataset", required=True)
    p.add_argument("--reference", default="ST")
    p.add_argument("--out", required=True)
    p.add_argument("--markdown")
    p.set_defaults(func=cmd_table7)

    p = sub.add_parser("surrogates", help="joined per-surrogate table (Acc, FP, MS, GS, ASR)")
    p.add_argument("--spec", required=True, help="JSON: entries, similarity")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_surrogates)

    p = sub.add_parser("table6", help="Table VI statistics from the surrogate table")
    p.add_argument("--surrogates", required=True)
    p.add_argument("--mode", default="untargeted")
    p.add_argument("--out", required=True)
    p.add_argument("--markdown")
    p.set_defaults(func=cmd_table6)

    p = sub.add_parser("asr-figure", help="Fig. 2: transfer ASR vs AT epsilon")
    p.add_argument("--surrogates", required=True)
    p.add_argument("--dataset", required=True, help="data set label, e.g. Digits")
    p.add_argument("--mode", default="untargeted")
    p.add_argument("--eps", required=True, help="budget label, e.g. 8/255")
    p.add_argument("--out-stem", required=True)
    p.set_defaults(func=cmd_asr_figure)

    p = sub.add_parser("figures", help="Figures 3-11 of one data set")
    p.add_argument("--spec", required=True)
    p.set_defaults(func=cmd_figures)

    p = sub.add_parser("compare", help="one of our tables next to the paper's published numbers")
    p.add_argument("--table", required=True, help="table2, table3, table4, table6, table7, table12")
    p.add_argument("--ours", required=True, help="our tidy table CSV")
    p.add_argument("--rows", help="JSON {dataset label: {our row label: paper row label}}")
    p.add_argument("--budgets", help="JSON {dataset label: {our eps label: paper eps label}}")
    p.add_argument("--out", required=True, help="cells CSV")
    p.add_argument("--columns", required=True, help="per-column Spearman CSV")
    add_rendering_flags(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("compare-summary", help="one summary line per compared table")
    p.add_argument("--columns", nargs="+", required=True, help="per-column CSVs of compare")
    p.add_argument("--out", required=True)
    add_rendering_flags(p)
    p.set_defaults(func=cmd_compare_summary)

    p = sub.add_parser("claims", help="the paper's claims: statistic, bootstrap interval, verdict")
    p.add_argument("--spec", required=True, help="JSON: entries (per surrogate) and similarity")
    p.add_argument("--settings", required=True, help="JSON: resamples, seed, mode, budget_position")
    p.add_argument("--out", required=True, help="claims CSV")
    add_rendering_flags(p)
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("report-pages", help="HTML pages of tables' Markdown for the report")
    p.add_argument("--markdown", nargs="+", required=True)
    p.add_argument("--csv", nargs="+", required=True, help="tidy CSVs, embedded as downloads")
    p.add_argument("--out", nargs="+", required=True, help="one HTML page per --markdown")
    p.set_defaults(func=cmd_report_pages)
    return parser
