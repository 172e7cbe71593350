"""Training hooks of lwf_track."""

import json
import os
from collections import defaultdict
from typing import Dict, List, Tuple

from detectron2.engine import HookBase
from detectron2.utils import comm

from ..utils.io import atomic_open

# detectron2's JSON training log (JSONWriter) in OUTPUT_DIR.
TRAIN_METRICS_FILE = "metrics.json"
WEIGHT_KEYS = {
    "weight/cls": "alpha (cls)",
    "weight/reg": "beta (reg)",
    "weight/reid": "gamma (reid)",
}


def read_weight_history(metrics_json: str) -> Dict[str, List[Tuple[int, float]]]:
    """(iteration, value) of each weighting factor from the JSON training log (one JSON per
    line). Reading the file rather than the in-memory storage keeps the iterations from before a
    resume."""
    history = defaultdict(dict)
    with open(metrics_json) as f:
        for line in f:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill; the rest is still good
                continue
            for key in WEIGHT_KEYS:
                if key in record and "iteration" in record:
                    history[key][record["iteration"]] = record[key]
    return {key: sorted(points.items()) for key, points in history.items()}


def draw_weight_history(ax, history: Dict[str, List[Tuple[int, float]]]) -> None:
    """One line per weighting factor of :func:`read_weight_history` on a matplotlib axis."""
    for key, label in WEIGHT_KEYS.items():
        if history.get(key):
            ax.plot(*zip(*history[key]), label=label)


def plot_weight_curves(metrics_json: str, out_png: str) -> bool:
    """The paper's Fig. 3: alpha, beta, gamma over iterations. Returns False if nothing to plot."""
    history = read_weight_history(metrics_json)
    if not history:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    draw_weight_history(ax, history)
    ax.set_xlabel("iteration")
    ax.set_ylabel("weighting factor")
    ax.set_title("Loss weighting factors during training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_open(out_png, "wb") as f:
        fig.savefig(f, format="png", dpi=120)
    plt.close(fig)
    return True


class WeightingCurveHook(HookBase):
    """After training, plot the logged weighting factors to ``OUTPUT_DIR/weighting_curves.png``.

    Must run after the writers have flushed the training log (register it last).
    """

    def __init__(self, output_dir: str):
        self.output_dir = output_dir

    def after_train(self):
        metrics_json = os.path.join(self.output_dir, TRAIN_METRICS_FILE)
        if comm.is_main_process() and os.path.exists(metrics_json):
            plot_weight_curves(metrics_json, os.path.join(self.output_dir, "weighting_curves.png"))
