"""Metric tables for people (fixed-width text) and for tools (JSON, CSV), from
:func:`~lwf_track.evaluation.mot_metrics.evaluate_mot` results, whose OVERALL row may also hold
the per-task scores of :class:`~lwf_track.evaluation.evaluator.MOTEvaluator` (:data:`TASK_METRICS`).
"""

import csv
import io
import os

from ..utils.io import atomic_write_json, atomic_write_text
from .detection import AP_KEYS
from .mot_metrics import COUNTS, METRICS, MOTMETRICS, NOT_EVALUATED, OVERALL, SECTIONS
from .reid import TPR_KEYS

MOT_METRICS_FILE = "mot_metrics.json"  # in the evaluation folder, mot_metrics.csv beside it
TASK_METRICS = (*AP_KEYS, *TPR_KEYS)  # detection (COCO AP) and Re-ID scores of the OVERALL row
TASK_TITLE = "per task (OVERALL): detection COCO AP (pycocotools), Re-ID TPR@FAR (JDE)"

TRACKEVAL_TITLE = (
    "trackeval (reported; MOTChallenge preprocessing, distractors removed except MOT15)"
)
MOTMETRICS_TITLE = "motmetrics (cross-check; gt rows with flag 0 ignored, no distractor removal)"


def sequence_rows(metrics: dict) -> dict:
    """``{sequence or OVERALL: trackeval row}``: the result without its other sections."""
    return {name: row for name, row in metrics.items() if name not in SECTIONS}


def format_table(metrics: dict) -> str:
    """The trackeval table, the motmetrics table below it, the per-task scores, then the
    sequences not evaluated."""
    sections = []
    rows = sequence_rows(metrics)
    if rows:
        sections.append(TRACKEVAL_TITLE + "\n" + _table(rows))
    if metrics.get(MOTMETRICS):
        sections.append(MOTMETRICS_TITLE + "\n" + _table(metrics[MOTMETRICS]))
    overall = metrics.get(OVERALL, {})
    if any(key in overall for key in TASK_METRICS):
        cells = (f"{key} {_task_cell(overall.get(key))}" for key in TASK_METRICS)
        sections.append(TASK_TITLE + "\n" + "  ".join(cells))
    if metrics.get(NOT_EVALUATED):
        sections.append(
            "not evaluated (MOT metrics, AP and TPR@FAR need ground truth): "
            + ", ".join(metrics[NOT_EVALUATED])
        )
    return "\n\n".join(sections) if sections else "nothing evaluated"


def _task_cell(value) -> str:
    return "-" if value is None else f"{value:.1f}"


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
    """Write ``out_dir/mot_metrics.json`` and ``out_dir/mot_metrics.csv`` atomically; return both
    paths."""
    json_path = os.path.join(out_dir, MOT_METRICS_FILE)
    csv_path = os.path.splitext(json_path)[0] + ".csv"
    write_metrics_json(json_path, metrics)
    write_metrics_csv(csv_path, metrics)
    return json_path, csv_path


def write_metrics_json(path, metrics: dict) -> None:
    atomic_write_json(str(path), metrics)


def write_metrics_csv(path, metrics: dict) -> None:
    """One row per (source, sequence): ``source`` is trackeval (reported) or motmetrics; the
    per-task columns are filled on trackeval's OVERALL row only."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    columns = (*METRICS, *TASK_METRICS)
    writer.writerow(["source", "sequence", *columns])
    sources = (("trackeval", sequence_rows(metrics)), (MOTMETRICS, metrics.get(MOTMETRICS, {})))
    for source, rows in sources:
        for name, row in rows.items():
            writer.writerow(
                [source, name, *("" if row.get(m) is None else row[m] for m in columns)]
            )
    atomic_write_text(str(path), text.getvalue())
