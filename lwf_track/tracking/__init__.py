"""Online multiple-object tracking: Kalman motion, Re-ID embeddings, IoU and BYTE association."""

from .kalman_filter import KalmanFilter, chi2_gating_threshold
from .matching import (
    embedding_distance,
    fuse_motion,
    has_embedding,
    iou_distance,
    linear_assignment,
)
from .track import Track, TrackState
from .tracker import OnlineTracker, tracks_to_mot_rows

__all__ = [
    "KalmanFilter",
    "OnlineTracker",
    "Track",
    "TrackState",
    "chi2_gating_threshold",
    "embedding_distance",
    "fuse_motion",
    "has_embedding",
    "iou_distance",
    "linear_assignment",
    "tracks_to_mot_rows",
]
