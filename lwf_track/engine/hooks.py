"""Training hooks of lwf_track."""

import os

from detectron2.engine import HookBase
from detectron2.utils import comm

from ..utils.weight_curves import plot_weight_curves

# detectron2's JSON training log (JSONWriter) in OUTPUT_DIR.
TRAIN_METRICS_FILE = "metrics.json"


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
