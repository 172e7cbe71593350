"""Evaluation: MOTChallenge result files, trackeval + motmetrics scores, detection AP and Re-ID
TPR@FAR, tables, tracker calibration, and the detectron2 evaluator that does all of it from one
inference pass (see mot_metrics for which MOT number is which).
"""

from ..data.mot_format import write_mot_results
from .evaluator import MOTEvaluator
from .mot_metrics import evaluate_mot, evaluate_sequences, has_ground_truth
from .report import format_table, save_metrics

__all__ = [
    "MOTEvaluator",
    "evaluate_mot",
    "evaluate_sequences",
    "format_table",
    "has_ground_truth",
    "save_metrics",
    "write_mot_results",
]
