"""Constant-velocity Kalman filter on boxes, as in DeepSORT.

State (8): ``cx, cy, a, h`` (centre, aspect ratio w/h, height) and their velocities. Measurement
(4): ``cx, cy, a, h``. Noise scales with the box height, so the filter behaves the same for near
and far people. All functions return new arrays; inputs are never modified.
"""

from typing import Tuple

import numpy as np
from scipy.stats import chi2

STATE_DIM = 8
MEASUREMENT_DIM = 4
# DeepSORT's noise standard deviations per unit of box height, per frame (tuned at 30 fps)
POSITION_NOISE = 1.0 / 20
VELOCITY_NOISE = 1.0 / 160


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) XYXY boxes -> (N, 4) ``cx, cy, w/h, h`` measurements."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    width = boxes[:, 2] - boxes[:, 0]
    height = boxes[:, 3] - boxes[:, 1]
    centre_x = boxes[:, 0] + width / 2
    centre_y = boxes[:, 1] + height / 2
    aspect = width / np.maximum(height, np.finfo(np.float64).eps)
    return np.stack([centre_x, centre_y, aspect, height], axis=1)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    """(N, 4) ``cx, cy, w/h, h`` -> (N, 4) XYXY boxes."""
    xyah = np.asarray(xyah, dtype=np.float64).reshape(-1, 4)
    width = xyah[:, 2] * xyah[:, 3]
    half = np.stack([width, xyah[:, 3]], axis=1) / 2
    return np.concatenate([xyah[:, :2] - half, xyah[:, :2] + half], axis=1)


def chi2_gating_threshold(confidence: float, dof: int = MEASUREMENT_DIM) -> float:
    """Squared Mahalanobis distance below which a measurement is plausible with probability
    ``confidence`` (the chi-square quantile; 0.95 and 4 dof give DeepSORT's 9.4877)."""
    return float(chi2.ppf(confidence, dof))


class KalmanFilter:
    """Constant-velocity model in ``xyah`` space (DeepSORT, Wojke et al. 2017), for N tracks at
    once: the tracker predicts, gates and updates all its tracks in one call each.

    Args:
        position_noise: standard deviation of the position per unit of box height.
        velocity_noise: standard deviation of the velocity per unit of box height.
        aspect_noise, aspect_velocity_noise, aspect_measurement_noise: absolute standard
            deviations of the aspect ratio, which does not scale with the height.
    The defaults are DeepSORT's (1/20, 1/160, 1e-2, 1e-5, 1e-1).
    """

    def __init__(
        self,
        position_noise: float = POSITION_NOISE,
        velocity_noise: float = VELOCITY_NOISE,
        aspect_noise: float = 1e-2,
        aspect_velocity_noise: float = 1e-5,
        aspect_measurement_noise: float = 1e-1,
    ):
        self.aspect_noise = aspect_noise
        self.aspect_measurement_noise = aspect_measurement_noise
        self._motion = np.eye(STATE_DIM)
        self._motion[:MEASUREMENT_DIM, MEASUREMENT_DIM:] = np.eye(MEASUREMENT_DIM)
        # state order cx, cy, a, h, then their velocities: which entries scale with the height
        p, v = position_noise, velocity_noise
        self._per_height = np.array([p, p, 0.0, p, v, v, 0.0, v])
        self._aspect_velocity = np.array([0.0] * 6 + [aspect_velocity_noise, 0.0])

    def _state_std(self, height: np.ndarray, aspect_std: float) -> np.ndarray:
        """(N, 8) standard deviations of the state for box heights (N,): position and velocity
        noise scale with the height, the aspect ratio's (``aspect_std``) and its velocity's
        do not."""
        std = height[:, None] * self._per_height + self._aspect_velocity
        std[:, 2] = aspect_std
        return std

    def initiate(self, measurement: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Mean (8,) and covariance (8, 8) of a new track at a measured ``xyah`` box; the
        velocity is unknown, hence zero with a wide spread (DeepSORT: 2x position, 10x velocity
        noise)."""
        measurement = np.asarray(measurement, dtype=np.float64)
        mean = np.concatenate([measurement, np.zeros(MEASUREMENT_DIM)])
        std = self._state_std(measurement[3:4], self.aspect_noise)[0]
        std[[0, 1, 3]] *= 2
        std[[4, 5, 7]] *= 10
        return mean, np.diag(np.square(std))

    def multi_predict(
        self, means: np.ndarray, covariances: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """One time step for N tracks at once: means (N, 8), covariances (N, 8, 8)."""
        means = np.asarray(means, dtype=np.float64).reshape(-1, STATE_DIM)
        covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, STATE_DIM, STATE_DIM)
        std = self._state_std(means[:, 3], self.aspect_noise)
        process_noise = np.square(std)[:, :, None] * np.eye(STATE_DIM)
        predicted_means = means @ self._motion.T
        predicted_covs = self._motion @ covariances @ self._motion.T + process_noise
        return predicted_means, predicted_covs

    def multi_project(
        self, means: np.ndarray, covariances: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """State distributions (N, 8), (N, 8, 8) -> measurement distributions (N, 4), (N, 4, 4),
        measurement noise included (the observation matrix picks the first four state entries)."""
        means = np.asarray(means, dtype=np.float64).reshape(-1, STATE_DIM)
        covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, STATE_DIM, STATE_DIM)
        std = self._state_std(means[:, 3], self.aspect_measurement_noise)[:, :MEASUREMENT_DIM]
        noise = np.square(std)[:, :, None] * np.eye(MEASUREMENT_DIM)
        return (
            means[:, :MEASUREMENT_DIM],
            covariances[:, :MEASUREMENT_DIM, :MEASUREMENT_DIM] + noise,
        )

    def multi_update(
        self, means: np.ndarray, covariances: np.ndarray, measurements: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Correct N predicted states (N, 8), (N, 8, 8) with their measured ``xyah`` boxes (N, 4).

        Kalman gain ``K = P H^T S^-1``; with H selecting the first four entries, ``P H^T`` is
        ``P[:, :, :4]`` and ``K^T`` solves ``S K^T = (P H^T)^T``.
        """
        means = np.asarray(means, dtype=np.float64).reshape(-1, STATE_DIM)
        covariances = np.asarray(covariances, dtype=np.float64).reshape(-1, STATE_DIM, STATE_DIM)
        projected_means, projected_covs = self.multi_project(means, covariances)
        cross = covariances[:, :, :MEASUREMENT_DIM]  # P H^T, (N, 8, 4)
        gains = np.linalg.solve(projected_covs, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
        innovations = np.asarray(measurements, dtype=np.float64).reshape(-1, 4) - projected_means
        new_means = means + np.einsum("nij,nj->ni", gains, innovations)
        new_covariances = covariances - gains @ projected_covs @ gains.transpose(0, 2, 1)
        return new_means, new_covariances

    def multi_gating_distance(
        self, means: np.ndarray, covariances: np.ndarray, measurements: np.ndarray
    ) -> np.ndarray:
        """Squared Mahalanobis distance (N, M) of ``xyah`` measurements (M, 4) to N tracks;
        chi-square distributed with 4 dof when the measurement belongs to the track."""
        projected_means, projected_covs = self.multi_project(means, covariances)
        measurements = np.asarray(measurements, dtype=np.float64).reshape(-1, 4)
        offsets = measurements[None] - projected_means[:, None]  # (N, M, 4)
        solved = np.linalg.solve(projected_covs, offsets.transpose(0, 2, 1))  # (N, 4, M)
        return np.einsum("nmi,nim->nm", offsets, solved)
