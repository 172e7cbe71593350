"""Tables of a grid from its result files: a summary (mean +- std over seeds, with the paper's
numbers beside ours) and a comparison with a baseline (seed-paired differences with 95% CIs)."""

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from lwf_track.utils.io import atomic_write_text

from .settings import Setting
from .stats import mean_std, pair_by_seed, paired_difference

SUMMARY_METRICS = ("MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1", "MOTP", "FP", "FN", "IDS")
COMPARED_METRICS = ("MOTA", "IDF1", "HOTA", "AP", "TPR@FAR=0.1")
PAPER_COLUMNS = ("MOTA", "IDF1", "MOTP", "params")
DIGITS = {"FP": 0, "FN": 0, "IDS": 0, "TPR@FAR=0.1": 3}
MISSING = "n/a"  # a metric the result files do not have (older runs) or too few seeds to compare
NOT_IN_PAPER = "–"
CI_CAPTION = (
    "Each setting minus the baseline, paired by seed (same initial network and data order): the"
    " mean difference over the n seeds both have, with its 95% confidence interval from the paired"
    " t distribution (t with n - 1 degrees of freedom); better / worse only when the interval"
    " excludes 0."
)


def summary_rows(results: dict[Setting, list[dict]]) -> list[dict]:
    """One row per setting with runs: seeds, weighting parameters, mean and std of each metric
    (over the runs that have it), training CPU minutes and the paper's numbers."""
    rows = []
    for setting, runs in results.items():
        if not runs:
            continue
        row = {"setting": setting.label, "seeds": len(runs)}
        row["params"] = runs[0]["weighting_parameters"]
        for metric in SUMMARY_METRICS:
            values = [r["metrics"][metric] for r in runs if r["metrics"].get(metric) is not None]
            row[metric] = mean_std(values) + (len(values),) if values else None
        row["train_cpu_min"] = mean_std([r["train_cpu_seconds"] / 60 for r in runs]) + (len(runs),)
        row["paper"] = dict(setting.paper)
        rows.append(row)
    return rows


def comparison_rows(
    results: dict[Setting, list[dict]], baseline: Setting, baseline_runs: Sequence[dict]
) -> list[dict]:
    """One row per setting with runs: the seeds it shares with the baseline and, per metric,
    the paired difference (None with fewer than two pairs)."""
    rows = []
    for setting, runs in results.items():
        if not runs:
            continue
        shared = {r["seed"] for r in runs} & {r["seed"] for r in baseline_runs}
        row = {
            "setting": setting.label,
            "pairs": len(shared),
            "is_baseline": setting.key == baseline.key,
        }
        for metric in COMPARED_METRICS:
            row[metric] = paired_difference(*pair_by_seed(runs, baseline_runs, metric))
        rows.append(row)
    return rows


def _number(value: float, metric: str, signed: bool = False) -> str:
    return f"{value:{'+' if signed else ''}.{DIGITS.get(metric, 1)}f}"


def _mean_std_cell(cell, metric: str, seeds: int) -> str:
    if cell is None:
        return MISSING
    mean, std, n = cell
    text = _number(mean, metric)
    if n > 1:  # one seed has no spread to show
        text += f" ± {_number(std, metric)}"
    return text if n == seeds else f"{text} (n={n})"


def markdown_summary(rows: list[dict]) -> str:
    paper = [c for c in PAPER_COLUMNS if any(c in row["paper"] for row in rows)]
    header = ["Setting", "Seeds", "Params", *SUMMARY_METRICS, "Train (CPU min)"]
    header += [f"Paper {c}" for c in paper]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["setting"], str(row["seeds"]), str(row["params"])]
        for metric in (*SUMMARY_METRICS, "train_cpu_min"):
            cells.append(_mean_std_cell(row[metric], metric, row["seeds"]))
        cells += [str(row["paper"].get(c, NOT_IN_PAPER)) for c in paper]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _difference_cells(difference, metric: str, pairs: int) -> list[str]:
    if difference is None:
        return [MISSING, MISSING]
    text = (
        f"{_number(difference.mean, metric, True)} "
        f"[{_number(difference.low, metric, True)}, {_number(difference.high, metric, True)}]"
    )
    if difference.pairs != pairs:
        text += f" (n={difference.pairs})"
    return [text, difference.verdict]


def markdown_comparison(rows: list[dict], baseline: Setting) -> str:
    header = ["Setting", "Pairs"]
    for metric in COMPARED_METRICS:
        header += [f"Δ{metric} [95% CI]", f"{metric} verdict"]
    lines = [
        f"Baseline: **{baseline.label}**. {CI_CAPTION}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        cells = [row["setting"], str(row["pairs"])]
        for metric in COMPARED_METRICS:
            if row["is_baseline"]:
                cells += ["0 (baseline)", "baseline"]
            else:
                cells += _difference_cells(row[metric], metric, row["pairs"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_summary(rows: list[dict]) -> str:
    fields = ["setting", "seeds", "params"]
    for metric in (*SUMMARY_METRICS, "train_cpu_min"):
        fields += [metric, metric + "_std"]
    fields += [f"paper_{c}" for c in PAPER_COLUMNS]
    records = []
    for row in rows:
        record = {"setting": row["setting"], "seeds": row["seeds"], "params": row["params"]}
        for metric in (*SUMMARY_METRICS, "train_cpu_min"):
            mean, std = row[metric][:2] if row[metric] else ("", "")
            record[metric], record[metric + "_std"] = mean, std
        record.update({f"paper_{c}": row["paper"].get(c, "") for c in PAPER_COLUMNS})
        records.append(record)
    return _csv(fields, records)


def csv_comparison(rows: list[dict], baseline: Setting) -> str:
    fields = ["setting", "baseline", "metric", "pairs", "mean_diff", "ci_low", "ci_high", "verdict"]
    records = []
    for row in rows:
        for metric in COMPARED_METRICS:
            difference = row[metric]
            record = {"setting": row["setting"], "baseline": baseline.label, "metric": metric}
            if difference is not None:
                record.update(
                    pairs=difference.pairs,
                    mean_diff=difference.mean,
                    ci_low=difference.low,
                    ci_high=difference.high,
                    verdict=difference.verdict,
                )
            records.append(record)
    return _csv(fields, records)


def _csv(fields: list[str], records: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in record.items()})
    return buffer.getvalue()


def write_tables(
    grid: str,
    title: str,
    results: dict[Setting, list[dict]],
    baseline: Setting,
    baseline_runs: Sequence[dict],
    out_dir: Path,
    command: str,
) -> Path:
    """``<grid>.md`` (both tables and the command that made them), ``<grid>.csv`` (summary) and
    ``<grid>_vs_baseline.csv`` (paired differences) under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summary_rows(results)
    comparison = comparison_rows(results, baseline, baseline_runs)
    markdown = (
        f"### {title} (`{grid}`)\n\n`{command}`\n\n"
        + markdown_summary(summary)
        + "\n"
        + markdown_comparison(comparison, baseline)
    )
    atomic_write_text(str(out_dir / f"{grid}.md"), markdown)
    atomic_write_text(str(out_dir / f"{grid}.csv"), csv_summary(summary))
    atomic_write_text(
        str(out_dir / f"{grid}_vs_baseline.csv"), csv_comparison(comparison, baseline)
    )
    return out_dir / f"{grid}.md"
