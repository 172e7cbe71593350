"""A stack of 3x3 convolutions evaluated at a few positions of the FPN maps of one image.

Each conv runs only where the next conv (or the final output) reads it: working back from the
wanted positions, conv k is needed at the in-map 3x3 neighbours of the positions of conv k + 1.
Those sets overlap between nearby detections, so every position is computed once, as one row of a
matrix product over its gathered 3x3 neighbourhood (im2col), all levels together. Neighbours
outside a map read a zero row, as the dense convs' zero padding does, so the result equals the
dense stack's at those positions. All bookkeeping is a few gathers into tables that depend only on
the maps' sizes (:func:`position_grid`, cached), since per-frame small tensor operations, not the
arithmetic, would otherwise dominate the cost.
"""

from functools import lru_cache
from typing import Callable, List, NamedTuple, Tuple

import torch
from torch import Tensor, nn
from torch.nn import functional as F

# (row, column) offsets of a 3x3 kernel in the order of a conv weight's (kh, kw) dimensions
_KERNEL_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


class PositionGrid(NamedTuple):
    """Ids for the positions of all levels of one image: level by level, row-major, each level's
    map padded by one position on every side, so that a position's 3x3 neighbours never alias a
    position of another row or level. Tables indexed by id, except the first two."""

    id_of_row: Tensor  # (sum H W,) id of each row of the levels' flattened maps, concatenated
    first_row: Tensor  # (levels,) the row of each level's first position
    row_of_id: Tensor  # (ids,) that row, or sum H W (the zero row) outside the maps
    level_of_id: Tensor  # (ids,) FPN level
    inside: Tensor  # (ids,) bool: inside its level's map
    steps: Tensor  # (levels, 9) id offsets of the 3x3 neighbours, in kernel order

    def neighbours(self, ids: Tensor) -> Tuple[Tensor, Tensor]:
        """(N, 9) ids of the 3x3 neighbours of in-map positions ``ids``, and whether each lies
        inside its map."""
        neighbours = ids[:, None] + self.steps[self.level_of_id[ids]]
        return neighbours, self.inside[neighbours]


@lru_cache(maxsize=16)
def position_grid(shapes: Tuple[Tuple[int, int], ...], device: torch.device) -> PositionGrid:
    """The :class:`PositionGrid` of maps of sizes ``shapes`` ((H, W) per level) on ``device``."""
    id_of_row, level_of_id, inside, steps = [], [], [], []
    start = 0
    for level, (height, width) in enumerate(shapes):
        padded = torch.zeros(height + 2, width + 2, dtype=torch.bool, device=device)
        padded[1:-1, 1:-1] = True
        id_of_row.append(start + torch.nonzero(padded.flatten()).squeeze(1))
        level_of_id.append(torch.full((padded.numel(),), level, device=device))
        inside.append(padded.flatten())
        offsets = [dy * (width + 2) + dx for dy, dx in _KERNEL_OFFSETS]
        steps.append(torch.tensor(offsets, device=device))
        start += padded.numel()
    sizes = [0, *(height * width for height, width in shapes[:-1])]
    id_of_row = torch.cat(id_of_row)
    row_of_id = torch.full((start,), len(id_of_row), device=device)
    row_of_id[id_of_row] = torch.arange(len(id_of_row), device=device)
    return PositionGrid(
        id_of_row=id_of_row,
        first_row=torch.tensor(sizes, device=device).cumsum(0),
        row_of_id=row_of_id,
        level_of_id=torch.cat(level_of_id),
        inside=torch.cat(inside),
        steps=torch.stack(steps),
    )


def convs_at(
    features: List[Tensor],
    grid: PositionGrid,
    wanted: Tensor,
    stages: List[Tuple[nn.Conv2d, Callable[[Tensor, Tensor], Tensor]]],
) -> Tensor:
    """Rows (len(wanted), C_out) of a stack of 3x3 convs (stride 1, padding 1) at the positions
    ``wanted`` (ids of ``grid``; repeats allowed).

    Args:
        features: per level (C, H, W), the stack's input.
        stages: per conv, the conv and what follows it before the next conv, as a function of
            the output rows (N, C) and their levels (N,) (activations, per-level norms).
    """
    positions = [wanted]
    neighbourhoods = [grid.neighbours(wanted)]
    for _ in stages[1:]:
        ids, inside = neighbourhoods[0]
        positions.insert(0, torch.unique(ids[inside]))
        neighbourhoods.insert(0, grid.neighbours(positions[0]))
    # (H W, C) rows of each map (a view of channels-last maps) and the zero row, in one copy
    zero_row = features[0].new_zeros(1, features[0].shape[0])
    source = torch.cat([*(f.permute(1, 2, 0).reshape(-1, f.shape[0]) for f in features), zero_row])
    rows = grid.row_of_id
    for index, ((conv, after), ids, (neighbours, _)) in enumerate(
        zip(stages, positions, neighbourhoods)
    ):
        columns = source[rows[neighbours]].flatten(1)
        weight = conv.weight.permute(0, 2, 3, 1).flatten(1)  # (C_out, 9 C) in kernel order
        x = after(F.linear(columns, weight, conv.bias), grid.level_of_id[ids])
        if index < len(stages) - 1:  # the next conv reads these rows by id, the zero row outside
            rows = torch.full_like(grid.row_of_id, len(x))
            rows[ids] = torch.arange(len(x), device=x.device)
            source = torch.cat([x, x.new_zeros(1, x.shape[1])])
    return x
