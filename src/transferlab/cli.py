"""``python -m transferlab <command>``: the thin entry points Snakemake rules call.

Each command parses its arguments, sets up threads and logging, and calls one
library function; no science lives here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path


def _log(message: str) -> None:
    print(message, flush=True)


def _resolve_device(name: str) -> str:
    import torch

    from transferlab.gpu_assignment import assigned_device

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return assigned_device(name)


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def cmd_prepare_data(args: argparse.Namespace) -> None:
    from transferlab import data
    from transferlab.atomic_files import atomic_write_text

    options = json.loads(args.options)
    data.ensure_dataset(args.dataset, **options)
    info = data.dataset_info(args.dataset, **options)
    summary = {
        "name": args.dataset,
        "label": info.label,
        "num_classes": info.num_classes,
        "options": options,
    }
    _log(f"data set {args.dataset} ready: {summary}")
    atomic_write_text(args.out, json.dumps(summary, indent=2) + "\n")


def cmd_train(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.training import train_model

    _set_threads(args.threads)
    spec = json.loads(args.spec)
    record = train_model(
        spec,
        args.model,
        checkpoint_path=args.checkpoint,
        device=_resolve_device(args.device),
        log=_log,
        stop_after_epoch=args.stop_after_epoch,
        compile_model=args.compile,
    )
    if args.record and record:
        atomic_write_text(args.record, json.dumps(record, indent=2, default=str) + "\n")


def cmd_lgv(args: argparse.Namespace) -> None:
    from transferlab.lgv import build_collection

    _set_threads(args.threads)
    build_collection(
        json.loads(args.spec),
        args.out,
        device=_resolve_device(args.device),
        log=_log,
        stop_after_epoch=args.stop_after_epoch,
    )


def cmd_table12(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.tables import read_table12_rows, render_table12_markdown, table12

    table = table12(read_table12_rows(json.loads(args.models)))
    atomic_write_text(args.out, table.to_csv(index=False))
    if args.markdown:
        atomic_write_text(args.markdown, render_table12_markdown(table))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_attack(args: argparse.Namespace) -> None:
    from transferlab.crafting import craft_adversarial_sets, craft_collection_sets
    from transferlab.data import held_out_set

    transfer_args = (args.targets, args.out, args.samples)
    if any(transfer_args) and not all(transfer_args):
        raise SystemExit("attack: give --targets, --out and --samples together, or none of them")
    _set_threads(args.threads)
    spec = json.loads(args.spec)
    outputs = json.loads(args.outputs)
    if args.targets:
        from transferlab.checkpoints import check_model_dataset, load_model_record

        # A bad target must fail the job before the AEs are crafted and left behind.
        for path in json.loads(args.targets).values():
            check_model_dataset(load_model_record(path), path, spec["dataset"])
    # loaded once for crafting and transfer (ImageNette decodes every image)
    images = held_out_set(spec["dataset"], spec["evaluation"])
    settings = {
        "dataset": spec["dataset"],
        "evaluation": spec["evaluation"],
        "attack": spec["attack"],
        "batch_size": spec["batch_size"],
        "seed": spec["seed"],
        "device": _resolve_device(args.device),
        "log": _log,
        "images": images,
        "precision": spec.get("precision", "fp32"),
    }
    if args.collection:
        # an LGV collection attacked as an ensemble (SPEC §7 "LGV")
        craft_collection_sets(
            args.model, outputs, members_per_step=spec["members_per_step"], **settings
        )
    else:
        craft_adversarial_sets(args.model, outputs, **settings)
    if args.targets:
        # In the same process: a separate job would pay torch's import (~3 s) again.
        _evaluate_and_write(args, args.model, [out["path"] for out in outputs], spec, images=images)


def cmd_transfer(args: argparse.Namespace) -> None:
    _set_threads(args.threads)
    _evaluate_and_write(args, args.surrogate, args.adversarial, json.loads(args.spec))


def _evaluate_and_write(
    args: argparse.Namespace,
    surrogate: str,
    files: list[str],
    spec: dict,
    images: tuple | None = None,
) -> None:
    """Transfer of stored AE files to the targets: summary CSV and per-sample outcomes."""
    from transferlab.atomic_files import atomic_write_gzip_text, atomic_write_text
    from transferlab.crafting import evaluate_adversarial_sets

    summary, samples = evaluate_adversarial_sets(
        files,
        json.loads(args.targets),
        surrogate=surrogate,
        dataset=spec["dataset"],
        evaluation=spec["evaluation"],
        batch_size=spec["batch_size"],
        device=_resolve_device(args.device),
        log=_log,
        images=images,
    )
    atomic_write_text(args.out, summary.to_csv(index=False))
    atomic_write_gzip_text(args.samples, samples.to_csv(index=False))


def cmd_asr_table(args: argparse.Namespace) -> None:
    from transferlab.asr_tables import asr_table_parts, build_asr_table, render_asr_markdown
    from transferlab.atomic_files import atomic_write_text

    spec = json.loads(args.spec)
    built = asr_table_parts(spec)
    if args.markdown:
        atomic_write_text(args.markdown, render_asr_markdown(spec, built))
    table = build_asr_table(spec, built)
    atomic_write_text(args.out, table.round(4).to_csv(index=False))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_table8(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.table8 import render_table8_markdown, table8, transfer_rows

    _set_threads(args.threads)
    spec = json.loads(args.spec)
    per_seed = transfer_rows(
        spec["entries"],
        spec["targets"],
        dataset=spec["dataset"],
        evaluation=spec["evaluation"],
        batch_size=spec["batch_size"],
        device=_resolve_device(args.device),
        log=_log,
    )
    table = table8(per_seed, spec["label"], list(spec["targets"]))
    atomic_write_text(args.out, table.to_csv(index=False))
    title = f"Table VIII: transfer to targets trained off D ({spec['label']})"
    atomic_write_text(args.markdown, render_table8_markdown(table, title))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_measure(args: argparse.Namespace) -> None:
    from transferlab.measurements import measure_model

    _set_threads(args.threads)
    spec = json.loads(args.spec)
    measure_model(
        args.model,
        dataset=spec["dataset"],
        metrics=spec["metrics"],
        smoothness_csv=args.smoothness,
        smoothness_json=args.summary,
        gradients_path=args.gradients,
        device=_resolve_device(args.device),
        log=_log,
    )


PATH_KEYS = ("gradients", "summary")


def cmd_similarity(args: argparse.Namespace) -> None:
    from transferlab.measurements import pairwise_similarities
    from transferlab.similarity import shifted_seed_pairs

    sources, targets = json.loads(args.sources), json.loads(args.targets)
    allowed = None
    if args.seed_pairs == "shifted":
        # Fig. 11: source seed s against target seed s+1 mod n only (similarity.shifted_seed_pairs)
        allowed = set(shifted_seed_pairs([m["seed"] for m in [*sources, *targets]]))
    pairs = []
    for src in sources:
        for tgt in targets:
            if allowed is not None and (src["seed"], tgt["seed"]) not in allowed:
                continue
            pairs.append(
                {
                    "source": src["gradients"],
                    "target": tgt["gradients"],
                    **{f"source_{k}": v for k, v in src.items() if k not in PATH_KEYS},
                    **{f"target_{k}": v for k, v in tgt.items() if k not in PATH_KEYS},
                }
            )
    summary = pairwise_similarities(pairs, summary_csv=args.out, samples_csv=args.samples)
    _log(f"wrote {args.out} ({len(summary)} pairs)")


def cmd_table7(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.similarity import render_table7_markdown, table7_long

    long, scores = table7_long(pd.read_csv(args.similarity), args.dataset, args.reference)
    atomic_write_text(args.out, long.round(6).to_csv(index=False))
    if args.markdown:
        text = render_table7_markdown(long, scores, args.dataset, args.reference)
        atomic_write_text(args.markdown, text)
    _log(f"wrote {args.out}")


def cmd_figures(args: argparse.Namespace) -> None:
    from transferlab.figures import metric_figures

    metric_figures(json.loads(args.spec), log=_log)


def cmd_surrogates(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.explanation import gather_surrogates

    spec = json.loads(args.spec)
    table = gather_surrogates(spec["entries"], spec["similarity"])
    atomic_write_text(args.out, table.to_csv(index=False))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_table6(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.analysis import render_table6_markdown, table6
    from transferlab.atomic_files import atomic_write_text

    table = table6(pd.read_csv(args.surrogates), mode=args.mode)
    atomic_write_text(args.out, table.to_csv(index=False))
    if args.markdown:
        atomic_write_text(args.markdown, render_table6_markdown(table, args.mode))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_asr_figure(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.figures import asr_vs_at_eps_frame
    from transferlab.plots import plot_vs_at_eps

    frame = asr_vs_at_eps_frame(pd.read_csv(args.surrogates), args.dataset, args.mode, args.eps)
    for path in plot_vs_at_eps(frame, "asr", args.out_stem):
        _log(f"wrote {path}")


def cmd_compare(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.compare import compare_table, render_comparison_markdown

    ours = pd.read_csv(args.ours, keep_default_na=True)
    rows = json.loads(args.rows) if args.rows else None
    budgets = json.loads(args.budgets) if args.budgets else None
    try:
        comparison = compare_table(args.table, ours, rows, budgets)
    except ValueError as err:
        raise SystemExit(f"error: comparing {args.ours} with the paper: {err}") from None
    atomic_write_text(args.out, comparison.cells.to_csv(index=False))
    atomic_write_text(args.columns, comparison.columns.to_csv(index=False))
    _write_renderings(render_comparison_markdown(args.table, comparison), args)
    _log(f"wrote {args.out} ({len(comparison.cells)} cells)")


def _write_renderings(markdown_text: str, args: argparse.Namespace) -> None:
    """Write the Markdown rendering and its HTML report page (linking the CSV args.out),
    each only where its option was given."""
    from transferlab.atomic_files import atomic_write_text
    from transferlab.report_pages import table_page

    if args.markdown:
        atomic_write_text(args.markdown, markdown_text)
    if args.html:
        atomic_write_text(args.html, table_page(markdown_text, csv_path=args.out))


def cmd_compare_summary(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.compare import comparison_summary, render_summary_markdown

    columns = pd.concat([pd.read_csv(path) for path in args.columns], ignore_index=True)
    summary = comparison_summary(columns)
    atomic_write_text(args.out, summary.round(4).to_csv(index=False))
    _write_renderings(render_summary_markdown(summary), args)
    _log(f"wrote {args.out} ({len(summary)} tables)")


def cmd_claims(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.claims import check_claims, claims_inputs, render_claims_markdown

    spec, settings = json.loads(args.spec), json.loads(args.settings)
    inputs = claims_inputs(spec["entries"], spec["similarity"])
    _log(f"claims: {len(inputs.models)} surrogate models, {settings['resamples']} resamples")
    frame = check_claims(
        inputs,
        resamples=settings["resamples"],
        seed=settings["seed"],
        mode=settings.get("mode", "untargeted"),
        budget_position=settings.get("budget_position"),
    )
    atomic_write_text(args.out, frame.to_csv(index=False))
    _write_renderings(render_claims_markdown(frame), args)
    for row in frame.itertuples(index=False):
        _log(f"{row.dataset} {row.claim}: {row.verdict}")
    _log(f"wrote {args.out} ({len(frame)} claims)")


def cmd_report_pages(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.report_pages import table_page

    if not len(args.markdown) == len(args.csv) == len(args.out):
        raise SystemExit("error: report-pages needs one --csv and one --out per --markdown")
    for markdown, csv, out in zip(args.markdown, args.csv, args.out, strict=True):
        atomic_write_text(out, table_page(Path(markdown).read_text(), csv_path=csv))
        _log(f"wrote {out}")


def add_execution_flags(parser: argparse.ArgumentParser) -> None:
    """--device and --threads, shared by every command that runs a model."""
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")


def add_rendering_flags(parser: argparse.ArgumentParser) -> None:
    """--markdown and its --html report page, for the commands writing both."""
    parser.add_argument("--markdown")
    parser.add_argument("--html", help="the Markdown as an HTML page for the report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transferlab", description=__doc__)
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


# Errors about inputs the user must fix (module, class): the message says how.
INPUT_ERRORS = (
    ("transferlab.checkpoints", "TransferlabFileError"),
    ("transferlab.data", "DatasetMissingError"),
    ("transferlab.data", "DatasetFileError"),
    ("transferlab.models", "PretrainedWeightsUnavailable"),
    ("transferlab.store", "AdversarialFileError"),
)


def input_error_types() -> tuple[type[BaseException], ...]:
    """The INPUT_ERRORS classes of the modules already imported.

    Only an imported module can have raised one, and importing the others just
    to catch their errors would cost each aggregation job torch's import (~3 s).
    """
    loaded = (
        getattr(sys.modules[module], name, None)
        for module, name in INPUT_ERRORS
        if module in sys.modules
    )
    return tuple(cls for cls in loaded if isinstance(cls, type))


def record_imports(command: str) -> None:
    """Append the transferlab modules this process imported to $TRANSFERLAB_IMPORT_LOG (one
    JSON line), so tests can check them against the command's digest (code_digest)."""
    path = os.environ.get("TRANSFERLAB_IMPORT_LOG")
    if not path:
        return
    modules = sorted(m for m in sys.modules if m == "transferlab" or m.startswith("transferlab."))
    line = json.dumps({"command": command, "modules": modules}) + "\n"
    # One write on an O_APPEND descriptor: concurrent jobs do not interleave lines.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except Exception as err:
        if not isinstance(err, input_error_types()):
            raise
        # A traceback would bury the message that says how to fix the input.
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    record_imports(args.command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
