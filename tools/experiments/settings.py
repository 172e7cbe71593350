"""Named grids of settings: a setting is a label and the config overrides that make it."""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .paper import paper_hwf, paper_lwf

REPO = Path(__file__).resolve().parents[2]
HWF_CONFIG_DIR = REPO / "configs" / "hwf"
GRIDS = ("hwf", "lwf_c", "lwf_n", "weighting")
GRID_TITLES = {
    "hwf": "Table I: fixed weights (HWF) alpha, beta, gamma",
    "lwf_c": "Table IV: LWF width C (N = 1); Params = 6C + N*C^2",
    "lwf_n": "Table V: LWF depth N (C = 32)",
    "weighting": "Weighting methods (with the best HWF by mean MOTA of the hwf grid, once it has runs)",
}
LWF_WIDTHS = (4, 8, 16, 32, 64, 128)  # paper Table IV
LWF_DEPTHS = (1, 2, 3)  # paper Table V


@dataclass(frozen=True)
class Setting:
    """One point of a grid: a label for the tables, the config overrides that make it, and the
    paper's numbers for it as (column, value) pairs (not part of its identity)."""

    label: str
    overrides: tuple
    paper: tuple = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """Folder name: the overrides, made file-system safe (equal settings share a folder)."""
        text = "_".join(f"{k.split('.')[-1]}-{v}" for k, v in zip(*[iter(self.overrides)] * 2))
        return re.sub(r"[^A-Za-z0-9_.-]+", "", text.replace(",", "-")).lower()

    @property
    def is_lwf(self) -> bool:
        return "LWF" in self.overrides


def fixed(weights: Sequence[float], label: str | None = None) -> Setting:
    alpha, beta, gamma = weights
    return Setting(
        label or f"HWF ({alpha:g}, {beta:g}, {gamma:g})",
        (
            "MODEL.LOSS_WEIGHTING.NAME",
            "Fixed",
            "MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS",
            f"[{alpha:g},{beta:g},{gamma:g}]",
        ),
        tuple(paper_hwf(weights).items()),
    )


def lwf(hidden_dim: int = 32, num_layers: int = 1, label: str | None = None) -> Setting:
    return Setting(
        label or f"LWF C={hidden_dim} N={num_layers}",
        (
            "MODEL.LOSS_WEIGHTING.NAME",
            "LWF",
            "MODEL.LOSS_WEIGHTING.LWF.HIDDEN_DIM",
            str(hidden_dim),
            "MODEL.LOSS_WEIGHTING.LWF.NUM_HIDDEN_LAYERS",
            str(num_layers),
        ),
        tuple(paper_lwf(hidden_dim, num_layers).items()),
    )


def named(name: str) -> Setting:
    return Setting(name, ("MODEL.LOSS_WEIGHTING.NAME", name))


def hwf_weights(config_dir: Path = HWF_CONFIG_DIR) -> list[tuple]:
    """The (alpha, beta, gamma) grid of Table I, read from ``configs/hwf/*.yaml`` (one source)."""
    grid = []
    for path in sorted(config_dir.glob("*.yaml")):
        try:
            weights = yaml.safe_load(path.read_text())["MODEL"]["LOSS_WEIGHTING"]["FIXED"][
                "WEIGHTS"
            ]
        except (KeyError, TypeError) as e:
            raise ValueError(f"{path}: expected MODEL.LOSS_WEIGHTING.FIXED.WEIGHTS") from e
        grid.append(tuple(float(w) for w in weights))
    if not grid:
        raise FileNotFoundError(f"no HWF configs in {config_dir}")
    return grid


def grid_settings(grid: str, best_hwf: Setting | None = None) -> list[Setting]:
    """The settings of a named grid; ``weighting`` includes the best HWF setting of ``hwf`` when
    it is known."""
    if grid == "hwf":
        return [fixed(w) for w in hwf_weights()]
    if grid == "lwf_c":
        return [lwf(hidden_dim=c) for c in LWF_WIDTHS]
    if grid == "lwf_n":
        return [lwf(num_layers=n) for n in LWF_DEPTHS]
    if grid == "weighting":
        best = []  # unknown until the hwf grid has results
        if best_hwf is not None:
            best = [Setting(f"best {best_hwf.label}", best_hwf.overrides, best_hwf.paper)]
        return [
            fixed((1, 1, 1), "Fixed (1, 1, 1)"),
            *best,
            lwf(label="LWF (C=32, N=1)"),
            named("Uncertainty"),
            named("DWA"),
            named("GradNorm"),
        ]
    raise KeyError(f"unknown grid {grid!r}; choose from {list(GRIDS)}")
