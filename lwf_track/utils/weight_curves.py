"""The weighting factors alpha, beta, gamma over training, read back from the JSON training log
and drawn with matplotlib (the paper's Fig. 3)."""

import json
from collections import defaultdict
from typing import Dict, List, Tuple

from .io import atomic_open

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


COLORS = {"weight/cls": "tab:blue", "weight/reg": "tab:orange", "weight/reid": "tab:green"}


def draw_weight_history(
    ax, history: Dict[str, List[Tuple[int, float]]], labelled: bool = True, **style
) -> None:
    """One line per weighting factor of :func:`read_weight_history` on a matplotlib axis, in
    one colour per factor (so several runs drawn on one axis read together); ``style`` goes to
    ``ax.plot``."""
    for key, label in WEIGHT_KEYS.items():
        if history.get(key):
            ax.plot(
                *zip(*history[key]), color=COLORS[key], label=label if labelled else None, **style
            )


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
