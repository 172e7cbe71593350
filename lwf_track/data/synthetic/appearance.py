"""What the simulated people look like: per-identity clothing, and look-alikes of someone."""

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

Color = tuple[int, int, int]  # BGR, as cv2 draws

SKIN_TONES: Sequence[Color] = ((185, 215, 245), (150, 190, 230), (110, 150, 200), (75, 105, 150))
HAIR_COLORS: Sequence[Color] = ((25, 25, 30), (30, 50, 80), (60, 110, 160), (150, 150, 150))
TROUSER_COLORS: Sequence[Color] = (
    (125, 75, 40),  # denim
    (35, 35, 35),
    (110, 110, 110),
    (120, 170, 190),  # khaki
    (40, 60, 100),  # brown
    (75, 35, 25),  # navy
)
SHOE_COLORS: Sequence[Color] = ((20, 20, 20), (40, 40, 60), (225, 225, 225))


@dataclass(frozen=True)
class Appearance:
    """What tells one identity from another: the cues a Re-ID embedding can learn."""

    skin: Color
    hair: Color
    top: Color
    bottom: Color
    shoes: Color
    long_sleeves: bool
    stripes: Color | None  # a striped top in this second colour
    hat: Color | None
    bag: Color | None  # a shoulder bag on the left or right side
    bag_left: bool
    build: float  # width factor around the 1:2.5 aspect


def random_clothing_color(rng: np.random.Generator) -> Color:
    hue, saturation, value = rng.random(), rng.uniform(0.25, 0.95), rng.uniform(0.3, 0.95)
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return int(blue * 255), int(green * 255), int(red * 255)


def pick(rng: np.random.Generator, palette: Sequence[Color], spread: int = 12) -> Color:
    base = palette[int(rng.integers(len(palette)))]
    return perturb(rng, base, spread)


def perturb(rng: np.random.Generator, color: Color, spread: int) -> Color:
    noise = rng.integers(-spread, spread + 1, size=3)
    return tuple(int(np.clip(c + n, 0, 255)) for c, n in zip(color, noise))


def random_appearance(rng: np.random.Generator) -> Appearance:
    bottom = (
        random_clothing_color(rng) if rng.random() < 0.3 else pick(rng, TROUSER_COLORS, spread=15)
    )
    return Appearance(
        skin=pick(rng, SKIN_TONES),
        hair=pick(rng, HAIR_COLORS),
        top=random_clothing_color(rng),
        bottom=bottom,
        shoes=pick(rng, SHOE_COLORS),
        long_sleeves=bool(rng.random() < 0.6),
        stripes=random_clothing_color(rng) if rng.random() < 0.25 else None,
        hat=random_clothing_color(rng) if rng.random() < 0.15 else None,
        bag=random_clothing_color(rng) if rng.random() < 0.3 else None,
        bag_left=bool(rng.random() < 0.5),
        build=float(rng.uniform(0.9, 1.1)),
    )


def lookalike_of(rng: np.random.Generator, model: Appearance) -> Appearance:
    """The same outfit with colours off by a few levels: only position and motion tell them
    apart."""
    return replace(
        model,
        skin=pick(rng, SKIN_TONES),
        top=perturb(rng, model.top, 6),
        bottom=perturb(rng, model.bottom, 6),
        build=float(rng.uniform(0.9, 1.1)),
    )
