"""The paper's Fig. 3 from result files: alpha, beta, gamma over the iterations of LWF runs."""

import math
from pathlib import Path

from lwf_track.utils.weight_curves import draw_weight_history
from lwf_track.utils.io import atomic_open

from .settings import Setting
from .weights import as_log_history


def plot_lwf_curves(results: dict[Setting, list[dict]], out_png: Path) -> bool:
    """One panel per LWF setting with every seed's stored (down-sampled) weight history: the
    lowest seed bold and labelled, the others thin, so the spread over seeds shows. Returns
    False, writing nothing, when no LWF run has one."""
    panels = []
    for setting, runs in results.items():
        stored = [r for r in runs if r.get("weight_history")]
        if setting.is_lwf and stored:
            seeds = ", ".join(str(r["seed"]) for r in stored)
            title = f"{setting.label}, seed{'s' if len(stored) > 1 else ''} {seeds}"
            panels.append((title, [as_log_history(r["weight_history"]) for r in stored]))
    if not panels:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, (title, histories) in zip(axes.flat, panels):
        for others in histories[1:]:
            draw_weight_history(ax, others, labelled=False, linewidth=0.8, alpha=0.5)
        draw_weight_history(ax, histories[0], linewidth=1.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_open(str(out_png), "wb") as f:
        fig.savefig(f, format="png", dpi=110)
    plt.close(fig)
    return True
