"""State of one tracked identity; the tracker decides, the track only records."""

import enum
from dataclasses import dataclass
from typing import Optional

import numpy as np


class TrackState(enum.Enum):
    UNCONFIRMED = "unconfirmed"  # born last frame; needs one more match to get an id
    TRACKED = "tracked"  # confirmed and matched in the current frame
    LOST = "lost"  # confirmed, unmatched for a while; can still be recovered


def smooth_embedding(
    current: Optional[np.ndarray], new: Optional[np.ndarray], momentum: float
) -> Optional[np.ndarray]:
    """EMA ``momentum * current + (1 - momentum) * new``, re-normalised so cosine distances stay
    comparable; either side missing keeps the other."""
    if new is None:
        return current
    mixed = new if current is None else momentum * current + (1.0 - momentum) * new
    return mixed / max(np.sqrt(mixed @ mixed), np.finfo(np.float64).eps)  # a 1-D norm, fast


@dataclass(eq=False)
class Track:
    """One identity: Kalman state, last matched detection and appearance.

    ``track_id`` is None while unconfirmed: ids are handed out on confirmation, so the ids a
    sequence shows are 1, 2, 3... without gaps left by one-frame false positives.
    """

    mean: np.ndarray  # Kalman state (8,), xyah + velocities
    covariance: np.ndarray  # (8, 8)
    box: np.ndarray  # last matched detection box, XYXY
    score: float  # score of that detection
    embedding: Optional[np.ndarray]  # EMA of matched embeddings, unit norm; None without Re-ID
    state: TrackState
    last_matched_frame: int
    # born or matched to a high-score detection (BYTE's low-score matches do not refresh it)
    last_high_score_frame: int
    track_id: Optional[int] = None

    @property
    def is_confirmed(self) -> bool:
        return self.state is not TrackState.UNCONFIRMED

    def frames_since_match(self, frame_id: int) -> int:
        return frame_id - self.last_matched_frame

    def frames_since_high_score(self, frame_id: int) -> int:
        return frame_id - self.last_high_score_frame

    def record_match(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        box: np.ndarray,
        score: float,
        embedding: Optional[np.ndarray],
        embed_momentum: float,
        frame_id: int,
        high_score: bool = True,
    ) -> None:
        """Take the corrected state and the matched detection; a match (re)activates the track."""
        if high_score:
            self.last_high_score_frame = frame_id
        self.mean = mean
        self.covariance = covariance
        self.box = box
        self.score = score
        self.embedding = smooth_embedding(self.embedding, embedding, embed_momentum)
        self.state = TrackState.TRACKED
        self.last_matched_frame = frame_id

    def mark_lost(self) -> None:
        self.state = TrackState.LOST
