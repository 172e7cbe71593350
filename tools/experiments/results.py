"""The committed result files of one benchmark: ``<root>/<setting key>_seed<k>/result.json``.

Small files in the repository, so the tables can be regenerated, and extended by runs made on
other machines, without the training outputs (which stay under ``output/``).
"""

import json
import re
from collections.abc import Sequence
from pathlib import Path

from lwf_track.utils.io import atomic_write_json

from .settings import Setting

RESULT_FILE = "result.json"
REQUIRED_KEYS = ("seed", "metrics", "weighting_parameters", "train_cpu_seconds")


class ResultStore:
    def __init__(self, root):
        self.root = Path(root)

    def path(self, setting: Setting, seed: int) -> Path:
        return self.root / f"{setting.key}_seed{seed}" / RESULT_FILE

    def has(self, setting: Setting, seed: int) -> bool:
        return self.path(setting, seed).exists()

    def write(self, setting: Setting, seed: int, result: dict) -> Path:
        path = self.path(setting, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(str(path), result)
        return path

    def load(self, settings: Sequence[Setting]) -> dict[Setting, list[dict]]:
        """Every stored run of each setting (whatever seeds were run, here or elsewhere), in
        seed order."""
        return {setting: self._runs(setting) for setting in settings}

    def _runs(self, setting: Setting) -> list[dict]:
        pattern = re.compile(re.escape(setting.key) + r"_seed(\d+)")
        runs = []
        for folder in self.root.glob(f"{setting.key}_seed*"):
            if pattern.fullmatch(folder.name) and (folder / RESULT_FILE).exists():
                runs.append(read_result(folder / RESULT_FILE))
        return sorted(runs, key=lambda run: run["seed"])


def read_result(path: Path) -> dict:
    try:
        result = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e}); delete it and rerun that run") from e
    missing = [key for key in REQUIRED_KEYS if key not in result]
    if missing:
        raise ValueError(f"{path}: a result file needs {missing}; delete it and rerun that run")
    return result
