"""The demo's benchmark, which the experiments runner trains and evaluates on too.

Scripts in tools/ import it as a sibling (``from demo_data import ...``); from the repository
root it is ``tools.demo_data``.
"""

# (sequences, seed) of each split, generated under ``$LWF_DATASETS/synthetic/<split>/``.
DEMO_SPLITS = {"train": (6, 1), "val": (3, 2)}
# The generation parameters every split shares (``lwf_track.data.synthetic.ensure_benchmark``).
DEMO_FRAMES = {"frames": 150, "width": 384, "height": 216, "difficulty": "medium"}
