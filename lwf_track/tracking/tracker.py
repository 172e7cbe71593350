"""Online tracker: Kalman motion + Re-ID appearance + IoU, with BYTE's low-score stage.

Each frame, in this order: Kalman predict; 1) confirmed (tracked + lost) tracks vs high detections
by embedding distance fused with Mahalanobis motion (with ``appearance_cascade``, tracked tracks
first, then lost ones on the detections left); 2) remaining tracked tracks (and, with
``lost_by_iou``, remaining lost ones) vs remaining high detections by IoU; 3) remaining tracked
tracks vs low detections by IoU (BYTE); 4) unconfirmed tracks vs remaining high detections by IoU;
5) births; 6) losses (unmatched, or on low-score matches alone for too long) and deaths.

Without ``pred_embeddings`` (or for a track that never saw one) stage 1 cannot compare
appearance: those tracks, lost ones included, go straight to the IoU stage 2, which makes the
tracker ByteTrack (its first association is IoU over tracked + lost tracks). Likewise a detection
whose embedding row is NaN (the model skips the Re-ID work below ``MODEL.REID.MIN_SCORE_TEST``)
skips stage 1 and never changes a track's appearance. With ``color_weight`` > 0 the appearance is
the Re-ID embedding fused with the detection's colours (:mod:`.color`), or the colours alone when
there is no embedding (public detections).
"""

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from detectron2.config import configurable
from detectron2.structures import Boxes, Instances

from ..data.mot_format import MOTRow
from .color import fuse_appearance
from .kalman_filter import (
    POSITION_NOISE,
    VELOCITY_NOISE,
    KalmanFilter,
    chi2_gating_threshold,
    xyah_to_xyxy,
    xyxy_to_xyah,
)
from .matching import (
    embedding_distance,
    fuse_motion,
    has_embedding,
    iou_distance,
    linear_assignment,
)
from .track import Track, TrackState, smooth_embedding

OUTPUT_BOXES = ("detection", "kalman")  # TRACKER.OUTPUT_BOX


@dataclass(frozen=True)
class _Detections:
    """One frame's detections as CPU float64 arrays (a copy: the caller's tensors stay as is)."""

    boxes: np.ndarray  # (N, 4) XYXY, absolute pixels
    scores: np.ndarray  # (N,)
    # (N, D) appearance: Re-ID embeddings, fused with colours by ``color_weight``; None without
    embeddings: Optional[np.ndarray]
    embedded: np.ndarray  # (N,) bool: the rows of ``embeddings`` that hold one (not NaN)

    def embedding_of(self, index: int) -> Optional[np.ndarray]:
        """Detection ``index``'s embedding; None if the detector gave it none."""
        return self.embeddings[index] if self.embedded[index] else None

    def with_embeddings(self, indices: np.ndarray) -> np.ndarray:
        """The subset of ``indices`` whose detections have an embedding, in the same order."""
        return indices[self.embedded[indices]]

    @classmethod
    def from_instances(cls, instances: Instances, color_weight: float = 0.0) -> "_Detections":
        def to_numpy(tensor: torch.Tensor) -> np.ndarray:
            return tensor.detach().cpu().numpy().astype(np.float64)

        boxes = to_numpy(instances.pred_boxes.tensor).reshape(-1, 4)
        embeddings = None
        if instances.has("pred_embeddings"):
            embeddings = to_numpy(instances.pred_embeddings)
        if color_weight > 0:
            if not instances.has("pred_colors"):
                raise ValueError(
                    "TRACKER.COLOR_WEIGHT > 0 needs detections with pred_colors "
                    "(lwf_track.tracking.color.with_colors, from the frame) and got none"
                )
            embeddings = fuse_appearance(embeddings, to_numpy(instances.pred_colors), color_weight)
        if embeddings is None:
            return cls(boxes, to_numpy(instances.scores), None, np.zeros(len(boxes), dtype=bool))
        return cls(boxes, to_numpy(instances.scores), embeddings, has_embedding(embeddings))


class OnlineTracker:
    """Associates per-frame detections into identities; one instance per sequence.

    ``update`` takes detectron2 ``Instances`` (``pred_boxes``, ``scores``, optional
    ``pred_embeddings``; ``pred_colors`` with ``color_weight`` > 0) and returns new ``Instances``
    of the tracks matched in that frame: ``pred_boxes`` is the matched detection's box or, with
    ``output_box="kalman"``, the Kalman-filtered one, ``scores`` the detection's score,
    ``track_ids`` int64 ids starting at 1.
    ``TRACKER.MIN_BOX_AREA`` is not applied here: :func:`tracks_to_mot_rows` applies it when
    results are written, so the tracker itself keeps following small boxes.
    """

    @configurable
    def __init__(
        self,
        *,
        high_score_thresh: float,
        low_score_thresh: float,
        birth_thresh: float,
        embed_match_thresh: float,
        embed_weight: float,
        gating_confidence: float,
        iou_match_thresh: float,
        low_iou_match_thresh: float,
        unconfirmed_match_thresh: float,
        track_buffer: int,
        embed_momentum: float,
        output_box: str = "detection",
        max_low_score_frames: int = 0,
        lost_by_iou: bool = False,
        appearance_cascade: bool = False,
        motion_noise_scale: float = 1.0,
        color_weight: float = 0.0,
        frame_rate: float = 30,
    ):
        """
        Args:
            high_score_thresh, low_score_thresh: detections scoring >= high take part in every
                stage; low <= score < high only in BYTE's stage 3; below low are ignored.
            birth_thresh: an unmatched high detection starts a track only if score >= this.
            embed_match_thresh, embed_weight: stage 1 max fused cost and the weight of the
                cosine distance against the Mahalanobis distance.
            gating_confidence: chi-square probability whose quantile gates stage 1 by motion.
            iou_match_thresh, low_iou_match_thresh, unconfirmed_match_thresh: max ``1 - IoU``
                in stages 2, 3 and 4.
            track_buffer: frames (at 30 fps) a lost track is kept; scaled by ``frame_rate``.
            embed_momentum: momentum of the track embedding EMA.
            output_box: "detection" reports a matched track's detection box; "kalman" its
                corrected Kalman state, which averages out the jitter of loose detections
                (ByteTrack's output).
            max_low_score_frames: frames (at 30 fps; scaled by ``frame_rate``) a tracked track
                may live on stage-3 (low-score) matches alone before it is marked lost; 0 = no
                limit. Stops a track that a person started from staying on a static false
                positive (a post the detector scores just above ``low_score_thresh``).
            lost_by_iou: stage 2 also offers the lost tracks stage 1 left, as ByteTrack's first
                association does: a person whose embedding is too weak to recognise after an
                occlusion can still be recovered where the motion model expects them. False: a
                lost track comes back by appearance only (FairMOT).
            appearance_cascade: stage 1 assigns the tracked tracks first and offers the lost ones
                only the detections left (DeepSORT's matching cascade, in two levels), so a lost
                track that looks like a followed person cannot take that person's detection.
                False: tracked and lost tracks compete in one assignment (FairMOT).
            motion_noise_scale: factor on the Kalman filter's position and velocity noise
                (:class:`KalmanFilter`'s defaults are DeepSORT's, per frame at 30 fps): larger
                values widen the motion gate and soften the motion cost of stage 1.
            color_weight: weight w of the colours (``pred_colors``, see
                :mod:`lwf_track.tracking.color`) in stage 1's appearance distance
                ``(1 - w) d_reid + w d_colour``; 0 = Re-ID embeddings alone.
            frame_rate: frames per second of the sequence.
        """
        if not 0.0 <= low_score_thresh <= high_score_thresh:
            raise ValueError(f"need 0 <= low ({low_score_thresh}) <= high ({high_score_thresh})")
        if not all(0.0 <= value <= 1.0 for value in (embed_weight, embed_momentum, color_weight)):
            raise ValueError("embed_weight, embed_momentum and color_weight must be in [0, 1]")
        if not 0.0 < gating_confidence < 1.0:
            raise ValueError(f"gating_confidence must be in (0, 1), got {gating_confidence}")
        if output_box not in OUTPUT_BOXES:
            raise ValueError(f"output_box must be one of {OUTPUT_BOXES}, got {output_box!r}")
        if frame_rate <= 0 or track_buffer < 0 or max_low_score_frames < 0:
            raise ValueError("need frame_rate > 0, track_buffer >= 0, max_low_score_frames >= 0")
        if motion_noise_scale <= 0:
            raise ValueError(f"motion_noise_scale must be > 0, got {motion_noise_scale}")
        self.high_score_thresh = high_score_thresh
        self.low_score_thresh = low_score_thresh
        self.birth_thresh = birth_thresh
        self.embed_match_thresh = embed_match_thresh
        self.embed_weight = embed_weight
        self.iou_match_thresh = iou_match_thresh
        self.low_iou_match_thresh = low_iou_match_thresh
        self.unconfirmed_match_thresh = unconfirmed_match_thresh
        self.embed_momentum = embed_momentum
        self.color_weight = color_weight
        self.output_box = output_box
        self.lost_by_iou = lost_by_iou
        self.appearance_cascade = appearance_cascade
        self.max_lost_frames = int(track_buffer * frame_rate / 30.0)
        # at least one frame, so that a limit never means "no limit" at a low frame rate
        self.max_low_score_frames = (
            max(1, int(max_low_score_frames * frame_rate / 30.0)) if max_low_score_frames else 0
        )
        self.motion_gate = chi2_gating_threshold(gating_confidence)
        self._kalman = KalmanFilter(
            position_noise=POSITION_NOISE * motion_noise_scale,
            velocity_noise=VELOCITY_NOISE * motion_noise_scale,
        )
        self._tracks: List[Track] = []  # unconfirmed, tracked and lost; removed ones are dropped
        self._frame_id = 0
        self._last_track_id = 0

    @classmethod
    def from_config(cls, cfg, frame_rate: float = 30):
        tracker = cfg.TRACKER
        return {
            "high_score_thresh": tracker.HIGH_SCORE_THRESH,
            "low_score_thresh": tracker.LOW_SCORE_THRESH,
            "birth_thresh": tracker.BIRTH_THRESH,
            "embed_match_thresh": tracker.EMBED_MATCH_THRESH,
            "embed_weight": tracker.EMBED_WEIGHT,
            "gating_confidence": tracker.GATING_CONFIDENCE,
            "iou_match_thresh": tracker.IOU_MATCH_THRESH,
            "low_iou_match_thresh": tracker.LOW_IOU_MATCH_THRESH,
            "unconfirmed_match_thresh": tracker.UNCONFIRMED_MATCH_THRESH,
            "track_buffer": tracker.TRACK_BUFFER,
            "embed_momentum": tracker.EMBED_MOMENTUM,
            "output_box": tracker.OUTPUT_BOX,
            "max_low_score_frames": tracker.MAX_LOW_SCORE_FRAMES,
            "lost_by_iou": tracker.LOST_BY_IOU,
            "appearance_cascade": tracker.APPEARANCE_CASCADE,
            "motion_noise_scale": tracker.MOTION_NOISE_SCALE,
            "color_weight": tracker.COLOR_WEIGHT,
            "frame_rate": frame_rate,
        }

    @property
    def tracks(self) -> Tuple[Track, ...]:
        """Every live track (unconfirmed, tracked, lost), for inspection."""
        return tuple(self._tracks)

    def update(self, instances: Instances) -> Instances:
        """Advance one frame; ``instances`` is read, never modified."""
        self._frame_id += 1
        detections = _Detections.from_instances(instances, self.color_weight)
        scores = detections.scores
        high = np.flatnonzero(scores >= self.high_score_thresh)
        low = np.flatnonzero((scores >= self.low_score_thresh) & (scores < self.high_score_thresh))
        self._predict_tracks()

        unconfirmed = [t for t in self._tracks if not t.is_confirmed]
        confirmed = [t for t in self._tracks if t.is_confirmed]
        can_compare = detections.embeddings is not None
        by_appearance = [t for t in confirmed if can_compare and t.embedding is not None]
        by_iou_only = [t for t in confirmed if not (can_compare and t.embedding is not None)]

        comparable = detections.with_embeddings(high)
        left, not_taken = self._match_by_appearance(by_appearance, detections, comparable)
        matched = np.zeros(len(scores), dtype=bool)
        matched[comparable] = True
        matched[not_taken] = False
        high = high[~matched[high]]
        by_iou = left if self.lost_by_iou else _tracked(left)
        left, high = self._match_by_iou(by_iou + by_iou_only, detections, high)
        unmatched_tracked = self._match_low_scores(_tracked(left), detections, low)
        unmatched_unconfirmed, high = self._match_unconfirmed(unconfirmed, detections, high)
        self._start_tracks(detections, high)
        self._retire_tracks(unmatched_tracked, unmatched_unconfirmed)
        return self._active_tracks(instances.image_size)

    def _predict_tracks(self) -> None:
        """Kalman predict for every track. A lost track's height velocity is zeroed first (as in
        FairMOT / ByteTrack) so an unseen box does not keep growing or shrinking."""
        if not self._tracks:
            return
        means, covariances = _kalman_states(self._tracks)
        lost = np.array([t.state is TrackState.LOST for t in self._tracks])
        means[lost, 7] = 0.0
        means, covariances = self._kalman.multi_predict(means, covariances)
        for track, mean, covariance in zip(self._tracks, means, covariances):
            track.mean, track.covariance = mean, covariance

    def _match_by_appearance(
        self, tracks: List[Track], detections: _Detections, indices: np.ndarray
    ) -> Tuple[List[Track], np.ndarray]:
        """Stage 1: embedding cosine distance, gated and fused with the Mahalanobis distance; in
        one assignment, or tracked tracks before lost ones (``appearance_cascade``)."""
        if not self.appearance_cascade:
            return self._assign_by_appearance(tracks, detections, indices)
        tracked = _tracked(tracks)
        left_tracked, indices = self._assign_by_appearance(tracked, detections, indices)
        lost = [t for t in tracks if t.state is TrackState.LOST]
        left_lost, indices = self._assign_by_appearance(lost, detections, indices)
        return left_tracked + left_lost, indices

    def _assign_by_appearance(
        self, tracks: List[Track], detections: _Detections, indices: np.ndarray
    ) -> Tuple[List[Track], np.ndarray]:
        """One stage-1 assignment of ``tracks`` to the detections ``indices``."""

        def cost(tracks: List[Track], indices: np.ndarray) -> np.ndarray:
            appearance = embedding_distance(
                np.stack([t.embedding for t in tracks]), detections.embeddings[indices]
            )
            motion = self._kalman.multi_gating_distance(
                *_kalman_states(tracks), xyxy_to_xyah(detections.boxes[indices])
            )
            return fuse_motion(appearance, motion, self.embed_weight, self.motion_gate)

        return self._assign(tracks, detections, indices, cost, self.embed_match_thresh)

    def _match_by_iou(
        self, tracks: List[Track], detections: _Detections, indices: np.ndarray
    ) -> Tuple[List[Track], np.ndarray]:
        """Stage 2: IoU of the predicted box, for tracks whose appearance did not match (fast
        motion, occluded embedding; lost tracks only with ``lost_by_iou``) or cannot be
        compared."""
        return self._assign(
            tracks, detections, indices, _iou_cost(detections), self.iou_match_thresh
        )

    def _match_low_scores(
        self, tracks: List[Track], detections: _Detections, indices: np.ndarray
    ) -> List[Track]:
        """Stage 3 (BYTE): low-score detections are mostly occluded people, so they only extend
        tracks already followed, by IoU. Their embeddings are not averaged into the track (an
        occluded crop mostly shows the occluder). Returns the tracked tracks still unmatched."""
        cost = _iou_cost(detections)
        left, _ = self._assign(
            tracks, detections, indices, cost, self.low_iou_match_thresh, low_scores=True
        )
        return left

    def _match_unconfirmed(
        self, tracks: List[Track], detections: _Detections, indices: np.ndarray
    ) -> Tuple[List[Track], np.ndarray]:
        """Stage 4: a track born last frame is confirmed by an IoU match now."""
        cost = _iou_cost(detections)
        return self._assign(tracks, detections, indices, cost, self.unconfirmed_match_thresh)

    def _assign(
        self,
        tracks: List[Track],
        detections: _Detections,
        indices: np.ndarray,
        cost: Callable[[List[Track], np.ndarray], np.ndarray],
        thresh: float,
        low_scores: bool = False,
    ) -> Tuple[List[Track], np.ndarray]:
        """Hungarian matching on ``cost(tracks, indices)`` (tracks x detections ``indices``),
        computed only when both sides are non-empty (most frames leave some stage empty); matched
        tracks take their detection (``low_scores``: stage 3's, see :meth:`_record_matches`).
        Returns the unmatched tracks and detection indices."""
        if not tracks or indices.size == 0:
            return list(tracks), indices
        matches, unmatched_tracks, unmatched_detections = linear_assignment(
            cost(tracks, indices), thresh
        )
        self._record_matches(
            [tracks[row] for row in matches[:, 0]],
            detections,
            indices[matches[:, 1]],
            low_scores,
        )
        return [tracks[i] for i in unmatched_tracks], indices[unmatched_detections]

    def _record_matches(
        self,
        tracks: List[Track],
        detections: _Detections,
        indices: np.ndarray,
        low_scores: bool,
    ) -> None:
        """Kalman update of every matched track with its detection (one batched update); a
        track's first match after birth confirms it and gives it the next id. Low-score
        detections neither change a track's appearance nor count as a high-score match."""
        if not tracks:
            return
        boxes = detections.boxes[indices]
        means, covariances = self._kalman.multi_update(*_kalman_states(tracks), xyxy_to_xyah(boxes))
        for k, (track, index) in enumerate(zip(tracks, indices)):
            embedding = None if low_scores else detections.embedding_of(index)
            track.record_match(
                means[k],
                covariances[k],
                boxes[k],
                float(detections.scores[index]),
                embedding,
                self.embed_momentum,
                self._frame_id,
                high_score=not low_scores,
            )
            if track.track_id is None:
                track.track_id = self._next_track_id()

    def _start_tracks(self, detections: _Detections, indices: np.ndarray) -> None:
        """Stage 5: unmatched high detections above ``birth_thresh`` start unconfirmed tracks;
        on a sequence's first frame there is no history to confirm against, so they are
        confirmed at once (ByteTrack, FairMOT)."""
        first_frame = self._frame_id == 1
        for index in indices[detections.scores[indices] >= self.birth_thresh]:
            box = detections.boxes[index].copy()
            mean, covariance = self._kalman.initiate(xyxy_to_xyah(box)[0])
            embedding = smooth_embedding(None, detections.embedding_of(index), self.embed_momentum)
            track = Track(
                mean=mean,
                covariance=covariance,
                box=box,
                score=float(detections.scores[index]),
                embedding=embedding,
                state=TrackState.TRACKED if first_frame else TrackState.UNCONFIRMED,
                last_matched_frame=self._frame_id,
                last_high_score_frame=self._frame_id,
                track_id=self._next_track_id() if first_frame else None,
            )
            self._tracks.append(track)

    def _retire_tracks(
        self, unmatched_tracked: Sequence[Track], unmatched_unconfirmed: Sequence[Track]
    ) -> None:
        """Stage 6: unmatched tracked tracks, and tracked ones that lived on low-score matches
        alone for more than ``max_low_score_frames``, become lost; unmatched unconfirmed tracks
        and tracks lost for more than the buffer are dropped, so memory stays bounded."""
        for track in unmatched_tracked:
            track.mark_lost()
        if self.max_low_score_frames:
            for track in _tracked(self._tracks):
                if track.frames_since_high_score(self._frame_id) > self.max_low_score_frames:
                    track.mark_lost()
        dropped = set(unmatched_unconfirmed)
        self._tracks = [
            t
            for t in self._tracks
            if t not in dropped and t.frames_since_match(self._frame_id) <= self.max_lost_frames
        ]

    def _active_tracks(self, image_size: Tuple[int, int]) -> Instances:
        active = sorted(
            (t for t in self._tracks if t.state is TrackState.TRACKED), key=lambda t: t.track_id
        )
        result = Instances(image_size)
        if self.output_box == "kalman":
            boxes = _kalman_boxes(active).astype(np.float32)
        else:
            boxes = np.array([t.box for t in active], dtype=np.float32).reshape(-1, 4)
        result.pred_boxes = Boxes(torch.from_numpy(boxes))
        result.scores = torch.tensor([t.score for t in active], dtype=torch.float32)
        result.track_ids = torch.tensor([t.track_id for t in active], dtype=torch.int64)
        return result

    def _next_track_id(self) -> int:
        self._last_track_id += 1
        return self._last_track_id


def _tracked(tracks: Sequence[Track]) -> List[Track]:
    return [t for t in tracks if t.state is TrackState.TRACKED]


def _iou_cost(detections: _Detections) -> Callable[[List[Track], np.ndarray], np.ndarray]:
    """The IoU stages' cost: ``1 - IoU`` of the tracks' Kalman boxes and the detections."""
    return lambda tracks, indices: iou_distance(_kalman_boxes(tracks), detections.boxes[indices])


def _kalman_states(tracks: Sequence[Track]) -> Tuple[np.ndarray, np.ndarray]:
    """The tracks' Kalman means (N, 8) and covariances (N, 8, 8), stacked (new arrays)."""
    return np.stack([t.mean for t in tracks]), np.stack([t.covariance for t in tracks])


def _kalman_boxes(tracks: Sequence[Track]) -> np.ndarray:
    """(N, 4) XYXY boxes of the tracks' Kalman states (predicted before this frame's matching,
    corrected after it)."""
    if not tracks:
        return np.zeros((0, 4))
    return xyah_to_xyxy(np.stack([t.mean[:4] for t in tracks]))


def tracks_to_mot_rows(frame_id: int, instances: Instances, min_box_area: float) -> List[MOTRow]:
    """MOTChallenge rows ``(frame, id, x, y, w, h, score)`` of a tracker output; boxes with
    ``w * h < min_box_area`` are left out (``TRACKER.MIN_BOX_AREA``)."""
    boxes = instances.pred_boxes.tensor.detach().cpu().numpy().astype(np.float64)
    scores = instances.scores.detach().cpu().numpy().astype(np.float64)
    track_ids = instances.track_ids.detach().cpu().numpy()
    rows = []
    for (x1, y1, x2, y2), score, track_id in zip(boxes, scores, track_ids):
        width, height = x2 - x1, y2 - y1
        if width * height >= min_box_area:
            box = (float(x1), float(y1), float(width), float(height))
            rows.append((int(frame_id), int(track_id), *box, float(score)))
    return rows
