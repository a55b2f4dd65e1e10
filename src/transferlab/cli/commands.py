"""The ``cmd_<command>`` functions ``python -m transferlab <command>`` runs.

Each reads its inputs, calls the library's build and render functions and writes the
outputs; no science lives here. ``code_digest`` reads these functions' imports to
derive each rule's ``params.code``.
"""

from __future__ import annotations

import argparse
import json
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
    from transferlab.training.loop import train_model

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
    from transferlab.lgv.finetune import build_collection

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
    from transferlab.tables.table12 import read_table12_rows, render_table12_markdown, table12

    table = table12(read_table12_rows(json.loads(args.models)))
    atomic_write_text(args.out, table.to_csv(index=False))
    if args.markdown:
        atomic_write_text(args.markdown, render_table12_markdown(table))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_attack(args: argparse.Namespace) -> None:
    from transferlab.data import held_out_set
    from transferlab.transfer.crafting import craft_adversarial_sets

    transfer_args = (args.targets, args.out, args.samples)
    if any(transfer_args) and not all(transfer_args):
        raise SystemExit("attack: give --targets, --out and --samples together, or none of them")
    _set_threads(args.threads)
    spec = json.loads(args.spec)
    outputs = json.loads(args.outputs)
    if args.targets:
        from transferlab.training.checkpoints import check_model_dataset, load_model_record

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
        settings.update(collection=True, members_per_step=spec["members_per_step"])
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
    from transferlab.transfer.crafting import evaluate_adversarial_sets

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
    from transferlab.atomic_files import atomic_write_text
    from transferlab.tables.asr import asr_table_parts, build_asr_table, render_asr_markdown

    spec = json.loads(args.spec)
    built = asr_table_parts(spec)
    if args.markdown:
        atomic_write_text(args.markdown, render_asr_markdown(spec, built))
    table = build_asr_table(spec, built)
    atomic_write_text(args.out, table.round(4).to_csv(index=False))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_table8(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.tables.table8 import render_table8_markdown, table8, transfer_rows

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
    from transferlab.metrics.measurements import measure_model

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


def cmd_similarity(args: argparse.Namespace) -> None:
    from transferlab.metrics.measurements import pairwise_similarities, similarity_pairs

    pairs = similarity_pairs(
        json.loads(args.sources), json.loads(args.targets), seed_pairs=args.seed_pairs
    )
    summary = pairwise_similarities(pairs, summary_csv=args.out, samples_csv=args.samples)
    _log(f"wrote {args.out} ({len(summary)} pairs)")


def cmd_table7(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.tables.table7 import render_table7_markdown, table7_long

    long, scores = table7_long(pd.read_csv(args.similarity), args.dataset, args.reference)
    atomic_write_text(args.out, long.round(6).to_csv(index=False))
    if args.markdown:
        text = render_table7_markdown(long, scores, args.dataset, args.reference)
        atomic_write_text(args.markdown, text)
    _log(f"wrote {args.out}")


def cmd_figures(args: argparse.Namespace) -> None:
    from transferlab.report.figures import metric_figures

    metric_figures(json.loads(args.spec), log=_log)


def cmd_surrogates(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.explain.surrogates import gather_surrogates

    spec = json.loads(args.spec)
    table = gather_surrogates(spec["entries"], spec["similarity"])
    atomic_write_text(args.out, table.to_csv(index=False))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_table6(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.tables.table6 import render_table6_markdown, table6

    table = table6(pd.read_csv(args.surrogates), mode=args.mode)
    atomic_write_text(args.out, table.to_csv(index=False))
    if args.markdown:
        atomic_write_text(args.markdown, render_table6_markdown(table, args.mode))
    _log(f"wrote {args.out} ({len(table)} rows)")


def cmd_asr_figure(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.report.figures import asr_vs_at_eps_frame
    from transferlab.report.plots import plot_vs_at_eps

    frame = asr_vs_at_eps_frame(pd.read_csv(args.surrogates), args.dataset, args.mode, args.eps)
    for path in plot_vs_at_eps(frame, "asr", args.out_stem):
        _log(f"wrote {path}")


def cmd_compare(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.compare.cells import compare_table
    from transferlab.compare.markdown import render_comparison_markdown

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
    from transferlab.report.pages import table_page

    if args.markdown:
        atomic_write_text(args.markdown, markdown_text)
    if args.html:
        atomic_write_text(args.html, table_page(markdown_text, csv_path=args.out))


def cmd_compare_summary(args: argparse.Namespace) -> None:
    import pandas as pd

    from transferlab.atomic_files import atomic_write_text
    from transferlab.compare.markdown import render_summary_markdown
    from transferlab.compare.summary import comparison_summary

    columns = pd.concat([pd.read_csv(path) for path in args.columns], ignore_index=True)
    summary = comparison_summary(columns)
    atomic_write_text(args.out, summary.round(4).to_csv(index=False))
    _write_renderings(render_summary_markdown(summary), args)
    _log(f"wrote {args.out} ({len(summary)} tables)")


def cmd_claims(args: argparse.Namespace) -> None:
    from transferlab.atomic_files import atomic_write_text
    from transferlab.explain.claims import check_claims, claims_inputs, render_claims_markdown

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
    from transferlab.report.pages import table_page

    if not len(args.markdown) == len(args.csv) == len(args.out):
        raise SystemExit("error: report-pages needs one --csv and one --out per --markdown")
    for markdown, csv, out in zip(args.markdown, args.csv, args.out, strict=True):
        atomic_write_text(out, table_page(Path(markdown).read_text(), csv_path=csv))
        _log(f"wrote {out}")
