"""Constant-velocity Kalman filter on boxes, as in DeepSORT.

State (8): ``cx, cy, a, h`` (centre, aspect ratio w/h, height) and their velocities. Measurement
(4): ``cx, cy, a, h``. Noise scales with the box height, so the filter behaves the same for near
and far people. All functions return new arrays; inputs are never modified.
"""

from typing import Tuple

import numpy as np
import scipy.linalg
from scipy.stats import chi2

STATE_DIM = 8
MEASUREMENT_DIM = 4


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
    """Constant-velocity model in ``xyah`` space (DeepSORT, Wojke et al. 2017).

    Args:
        position_noise: standard deviation of the position per unit of box height.
        velocity_noise: standard deviation of the velocity per unit of box height.
        aspect_noise, aspect_velocity_noise, aspect_measurement_noise: absolute standard
            deviations of the aspect ratio, which does not scale with the height.
    The defaults are DeepSORT's (1/20, 1/160, 1e-2, 1e-5, 1e-1).
    """

    def __init__(
        self,
        position_noise: float = 1.0 / 20,
        velocity_noise: float = 1.0 / 160,
        aspect_noise: float = 1e-2,
        aspect_velocity_noise: float = 1e-5,
        aspect_measurement_noise: float = 1e-1,
    ):
        self.position_noise = position_noise
        self.velocity_noise = velocity_noise
        self.aspect_noise = aspect_noise
        self.aspect_velocity_noise = aspect_velocity_noise
        self.aspect_measurement_noise = aspect_measurement_noise
        self._motion = np.eye(STATE_DIM)
        self._motion[:MEASUREMENT_DIM, MEASUREMENT_DIM:] = np.eye(MEASUREMENT_DIM)
        self._observation = np.eye(MEASUREMENT_DIM, STATE_DIM)

    def _state_std(self, height: np.ndarray, aspect_std: float) -> np.ndarray:
        """(N, 8) standard deviations of the state for box heights (N,)."""
        position = self.position_noise * height
        velocity = self.velocity_noise * height
        aspect = np.full_like(height, aspect_std)
        aspect_velocity = np.full_like(height, self.aspect_velocity_noise)
        columns = [position, position, aspect, position, velocity, velocity, aspect_velocity]
        return np.stack(columns + [velocity], axis=1)

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

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """One time step for a single track."""
        means, covariances = self.multi_predict(mean[None], covariance[None])
        return means[0], covariances[0]

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """State distribution -> measurement distribution (4,), (4, 4), measurement noise
        included."""
        height = np.asarray(mean[3:4], dtype=np.float64)
        std = self._state_std(height, self.aspect_measurement_noise)[0, :MEASUREMENT_DIM]
        projected_mean = self._observation @ mean
        projected_cov = self._observation @ covariance @ self._observation.T
        return projected_mean, projected_cov + np.diag(np.square(std))

    def update(
        self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Correct a predicted state with a measured ``xyah`` box."""
        projected_mean, projected_cov = self.project(mean, covariance)
        cholesky = scipy.linalg.cho_factor(projected_cov, lower=True, check_finite=False)
        gain = scipy.linalg.cho_solve(
            cholesky, (covariance @ self._observation.T).T, check_finite=False
        ).T
        innovation = np.asarray(measurement, dtype=np.float64) - projected_mean
        new_mean = mean + gain @ innovation
        new_covariance = covariance - gain @ projected_cov @ gain.T
        return new_mean, new_covariance

    def gating_distance(
        self, mean: np.ndarray, covariance: np.ndarray, measurements: np.ndarray
    ) -> np.ndarray:
        """Squared Mahalanobis distance (M,) of ``xyah`` measurements (M, 4) to one track;
        chi-square distributed with 4 dof when the measurement belongs to the track."""
        projected_mean, projected_cov = self.project(mean, covariance)
        offsets = np.asarray(measurements, dtype=np.float64).reshape(-1, 4) - projected_mean
        # A plain solve: scipy 1.17's solve_triangular takes milliseconds for several right-hand
        # sides, which made this the tracker's bottleneck.
        solved = np.linalg.solve(projected_cov, offsets.T)
        return np.einsum("ij,ji->i", offsets, solved)
