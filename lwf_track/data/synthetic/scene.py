"""The simulated world: difficulty profiles, the street's perspective, the crowd walking on it
and the shaking camera. Distances are world pixels (the image at zero camera shake)."""

import math
from dataclasses import dataclass

import numpy as np

from .appearance import Appearance, lookalike_of, random_appearance

PERSON_ASPECT = 0.4  # width / height: pedestrians are about 1:2.5
FAR_GROUND = 0.36  # foot points stay between these fractions of the image height: people walk
NEAR_GROUND = 1.04  # on a street from the far sidewalk to just below the bottom edge (feet cut off)
FORESHORTENING = 0.35  # walking towards the camera moves the feet less than walking across


@dataclass(frozen=True)
class DifficultyProfile:
    """The knobs of a benchmark; sizes are fractions of the image height, so any resolution
    works."""

    density: float  # people in the scene at once (mean)
    speed: float  # walking speed, body heights per second (a walker is about 0.7)
    standing_fraction: float  # share of the initial population standing still
    occlusion_rate: float  # share of people walking or standing in pairs: long occlusions
    lookalike_fraction: float  # share of identities dressed almost like someone in the scene
    scale_range: tuple[float, float]  # person height at the far ground line and at the bottom
    camera_jitter: float  # per-frame camera shake, fraction of the image height
    clutter: float  # amount of background structure and person-coloured distractor blobs
    detector_miss_rate: float  # det.txt: misses of fully visible people
    detector_false_positives: float  # det.txt: false positives per frame
    detector_box_noise: float  # det.txt: box jitter, fraction of the box size


DIFFICULTIES: dict[str, DifficultyProfile] = {
    "easy": DifficultyProfile(
        density=4,
        speed=0.6,
        standing_fraction=0.1,
        occlusion_rate=0.0,
        lookalike_fraction=0.0,
        scale_range=(0.11, 0.31),
        camera_jitter=0.0015,
        clutter=0.5,
        detector_miss_rate=0.05,
        detector_false_positives=0.3,
        detector_box_noise=0.03,
    ),
    "medium": DifficultyProfile(
        density=10,
        speed=0.7,
        standing_fraction=0.15,
        occlusion_rate=0.2,
        lookalike_fraction=0.1,
        scale_range=(30 / 360, 110 / 360),
        camera_jitter=0.004,
        clutter=1.0,
        detector_miss_rate=0.1,
        detector_false_positives=1.0,
        detector_box_noise=0.05,
    ),
    "hard": DifficultyProfile(
        density=24,
        speed=1.0,
        standing_fraction=0.15,
        occlusion_rate=0.5,
        lookalike_fraction=0.3,
        scale_range=(0.07, 0.33),
        camera_jitter=0.008,
        clutter=1.5,
        detector_miss_rate=0.15,
        detector_false_positives=2.0,
        detector_box_noise=0.07,
    ),
}


@dataclass(frozen=True)
class Scene:
    """Image size and ground-plane perspective: the lower the feet, the closer and larger."""

    width: int
    height: int
    scale_range: tuple[float, float]
    pad: int  # background margin on each side that camera shake may reveal

    @property
    def far_y(self) -> float:
        return FAR_GROUND * self.height

    @property
    def near_y(self) -> float:
        return NEAR_GROUND * self.height

    def person_height(self, foot_y: float, size: float) -> float:
        far, near = self.scale_range
        depth = (foot_y - self.far_y) / (self.height - self.far_y)
        return self.height * (far + (near - far) * depth) * size


@dataclass
class Person:
    key: int  # birth order; ids are renumbered by first appearance when written
    look: Appearance
    x: float  # centre x of the feet, world pixels (the image at zero camera shake)
    foot_y: float
    size: float  # personal height around the perspective height
    heading: float  # radians in the image plane, 0 = walking right, -pi/2 = away from camera
    preferred_heading: float
    speed: float  # body heights per second; 0 for people standing still
    preferred_speed: float
    phase: float  # walking cycle: swings arms and legs

    def box(self, scene: Scene) -> tuple[float, float, float, float]:
        height = scene.person_height(self.foot_y, self.size)
        width = height * PERSON_ASPECT * self.look.build
        return self.x - width / 2, self.foot_y - height, width, height


class Crowd:
    """People entering, walking with gentle turns, standing in pairs, and leaving the scene."""

    def __init__(self, scene: Scene, profile: DifficultyProfile, fps: float, rng):
        self.scene, self.profile, self.fps, self.rng = scene, profile, fps, rng
        self.people: list[Person] = []
        self.looks: list[Appearance] = []
        self.next_key = 1
        self.populate()

    def new_look(self) -> Appearance:
        """Most people dress their own way; look-alikes copy someone, preferably someone in view."""
        if self.looks and self.rng.random() < self.profile.lookalike_fraction:
            models = [person.look for person in self.people] or self.looks
            return lookalike_of(self.rng, models[int(self.rng.integers(len(models)))])
        return random_appearance(self.rng)

    def walking_speed(self) -> float:
        return self.profile.speed * float(np.clip(self.rng.normal(1.0, 0.2), 0.5, 1.6))

    def add(self, x: float, foot_y: float, heading: float, speed: float) -> Person:
        look = self.new_look()
        self.looks.append(look)
        person = Person(
            key=self.next_key,
            look=look,
            x=x,
            foot_y=foot_y,
            size=float(self.rng.uniform(0.88, 1.12)),
            heading=heading,
            preferred_heading=heading,
            speed=speed,
            preferred_speed=speed,
            phase=float(self.rng.uniform(0, 2 * math.pi)) if speed > 0 else 0.0,
        )
        self.next_key += 1
        self.people.append(person)
        return person

    def random_heading(self) -> float:
        """Mostly across the street; some diagonals that change depth (and so scale)."""
        across = 0.0 if self.rng.random() < 0.5 else math.pi
        spread = 0.35 if self.rng.random() < 0.8 else 0.9
        return across + float(self.rng.normal(0, spread))

    def add_companion(self, leader: Person) -> None:
        """A second person right beside the first, a little nearer or farther: long occlusions."""
        _, _, width, _ = leader.box(self.scene)
        depth_offset = self.rng.uniform(0.02, 0.08) * self.scene.height * self.rng.choice([-1, 1])
        # walkers follow half a step behind, so a pair entering the image is not born inside it
        behind = -math.cos(leader.heading) if leader.speed > 0 else self.rng.choice([-1, 1])
        lateral = self.rng.uniform(0.2, 0.7) * width * math.copysign(1, behind)
        self.add(
            x=leader.x + lateral,
            foot_y=float(
                np.clip(leader.foot_y + depth_offset, self.scene.far_y, self.scene.near_y)
            ),
            heading=leader.heading + float(self.rng.normal(0, 0.05)),
            speed=leader.speed * float(self.rng.uniform(0.95, 1.05)),
        )

    def populate(self) -> None:
        """The people already there at frame 1 (pairs included in the count)."""
        scene, target = self.scene, int(self.rng.poisson(self.profile.density))
        while len(self.people) < target:
            standing = self.rng.random() < self.profile.standing_fraction
            person = self.add(
                x=self.rng.uniform(0, scene.width),
                foot_y=self.rng.uniform(scene.far_y, scene.near_y),
                heading=self.random_heading(),
                speed=0.0 if standing else self.walking_speed(),
            )
            if self.rng.random() < self.profile.occlusion_rate:
                self.add_companion(person)

    def enter(self) -> None:
        """A walker (or a pair) entering through the left or right border."""
        scene, rng = self.scene, self.rng
        foot_y = rng.uniform(scene.far_y, scene.near_y)
        outside = 0.3 * scene.person_height(foot_y, 1.12)  # beyond half the widest person
        if rng.random() < 0.5:
            x, heading = -outside, float(rng.normal(0, 0.35))
        else:
            x, heading = scene.width + outside, math.pi + float(rng.normal(0, 0.35))
        person = self.add(x, foot_y, heading, self.walking_speed())
        if rng.random() < self.profile.occlusion_rate:
            self.add_companion(person)

    def walk(self, person: Person) -> None:
        """Constant velocity with small random acceleration and gentle turns (rates per second)."""
        rng, dt = self.rng, 1.0 / self.fps
        person.heading += 1.5 * dt * (person.preferred_heading - person.heading)
        person.heading += float(rng.normal(0, 0.5 * math.sqrt(dt)))
        person.speed += dt * (person.preferred_speed - person.speed)
        person.speed += float(rng.normal(0, 0.1 * person.preferred_speed * math.sqrt(dt)))
        step = max(person.speed, 0.0) * self.scene.person_height(person.foot_y, person.size) * dt
        person.x += math.cos(person.heading) * step
        person.foot_y += math.sin(person.heading) * step * FORESHORTENING
        towards_camera = math.sin(person.heading) > 0
        if (person.foot_y < self.scene.far_y and not towards_camera) or (
            person.foot_y > self.scene.near_y and towards_camera
        ):  # turn back along the street at its far and near edges
            person.heading, person.preferred_heading = -person.heading, -person.preferred_heading
        stride = 0.8 * self.scene.person_height(person.foot_y, person.size)
        person.phase += 2 * math.pi * step / stride

    def has_left(self, person: Person) -> bool:
        x, _, w, _ = person.box(self.scene)
        walking_left = math.cos(person.heading) < 0
        return (x + w < 0 and walking_left) or (x > self.scene.width and not walking_left)

    def step(self) -> None:
        for person in self.people:
            if person.preferred_speed > 0:
                self.walk(person)
        self.people = [person for person in self.people if not self.has_left(person)]
        shortfall = max(self.profile.density - len(self.people), 0.1)
        for _ in range(int(self.rng.poisson(shortfall / self.fps))):
            self.enter()


def camera_path(rng: np.random.Generator, frames: int, scene: Scene, jitter: float) -> np.ndarray:
    """Integer (dx, dy) camera shake per frame: a mean-reverting random walk within the margin."""
    shake = np.zeros((frames, 2))
    for t in range(1, frames):
        shake[t] = 0.8 * shake[t - 1] + rng.normal(0, jitter * scene.height, size=2)
    return np.clip(np.round(shake), -scene.pad, scene.pad).astype(np.int64)


def margin_for(jitter: float, height: int) -> int:
    """Background margin: three stationary standard deviations of the shake, plus one pixel."""
    return math.ceil(3 * jitter * height / math.sqrt(1 - 0.8**2)) + 1
