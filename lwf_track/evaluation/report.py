"""Metric tables for people (fixed-width text) and for tools (JSON, CSV), from
:func:`~lwf_track.evaluation.mot_metrics.evaluate_mot` results."""

import csv
import io
import os

from ..utils.io import atomic_write_json, atomic_write_text
from .mot_metrics import COUNTS, METRICS, MOTMETRICS, NOT_EVALUATED, SECTIONS

TRACKEVAL_TITLE = "trackeval (reported; MOTChallenge distractor preprocessing)"
MOTMETRICS_TITLE = "motmetrics (cross-check; no distractor removal)"


def sequence_rows(metrics: dict) -> dict:
    """``{sequence or OVERALL: trackeval row}``: the result without its other sections."""
    return {name: row for name, row in metrics.items() if name not in SECTIONS}


def format_table(metrics: dict) -> str:
    """The trackeval table, the motmetrics table below it, then the sequences not evaluated."""
    sections = []
    rows = sequence_rows(metrics)
    if rows:
        sections.append(TRACKEVAL_TITLE + "\n" + _table(rows))
    if metrics.get(MOTMETRICS):
        sections.append(MOTMETRICS_TITLE + "\n" + _table(metrics[MOTMETRICS]))
    if metrics.get(NOT_EVALUATED):
        sections.append("not evaluated (no ground truth): " + ", ".join(metrics[NOT_EVALUATED]))
    return "\n\n".join(sections) if sections else "nothing evaluated"


def _table(rows: dict) -> str:
    width = max(len("Sequence"), *(len(name) for name in rows))
    lines = [f"{'Sequence':<{width}}" + "".join(f"{metric:>8}" for metric in METRICS)]
    for name, row in rows.items():
        lines.append(
            f"{name:<{width}}" + "".join(_cell(metric, row.get(metric)) for metric in METRICS)
        )
    return "\n".join(lines)


def _cell(metric: str, value) -> str:
    if value is None:
        return f"{'-':>8}"
    return f"{value:>8d}" if metric in COUNTS else f"{value:>8.1f}"


def save_metrics(metrics: dict, out_dir) -> tuple:
    """Write ``out_dir/metrics.json`` and ``out_dir/metrics.csv`` atomically; return both paths."""
    json_path = os.path.join(out_dir, "metrics.json")
    csv_path = os.path.join(out_dir, "metrics.csv")
    write_metrics_json(json_path, metrics)
    write_metrics_csv(csv_path, metrics)
    return json_path, csv_path


def write_metrics_json(path, metrics: dict) -> None:
    atomic_write_json(str(path), metrics)


def write_metrics_csv(path, metrics: dict) -> None:
    """One row per (source, sequence): ``source`` is trackeval (reported) or motmetrics."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["source", "sequence", *METRICS])
    sources = (("trackeval", sequence_rows(metrics)), (MOTMETRICS, metrics.get(MOTMETRICS, {})))
    for source, rows in sources:
        for name, row in rows.items():
            writer.writerow(
                [source, name, *("" if row.get(m) is None else row[m] for m in METRICS)]
            )
    atomic_write_text(str(path), text.getvalue())
