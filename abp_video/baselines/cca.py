"""Regularised canonical correlation analysis on raw signals, with prediction of one view from the other (NumPy)."""

import dataclasses
import itertools

import numpy as np


@dataclasses.dataclass
class _PCA:
    """Centred principal components of one view: scores = (x − mean) @ basis.T."""
    mean: np.ndarray
    basis: np.ndarray  # [dims, features], orthonormal rows.

    @classmethod
    def fit(cls, values, dims):
        mean = values.mean(axis=0)
        _, _, rows = np.linalg.svd(values - mean, full_matrices=False)
        return cls(mean, rows[:dims])

    def truncated(self, dims):
        return _PCA(self.mean, self.basis[:dims])

    def scores(self, values):
        return (values - self.mean) @ self.basis.T

    def values(self, scores):
        return scores @ self.basis + self.mean


def _inverse_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors / np.sqrt(np.maximum(values, 1e-12))) @ vectors.T


def _shrunk_covariance(scores, regularization):
    """(1 − r)·C + r·(tr C / d)·I: ridge shrinkage towards a scaled identity, so r in [0, 1] is scale-free."""
    covariance = scores.T @ scores / len(scores)
    scale = np.trace(covariance) / len(covariance)
    return (1.0 - regularization) * covariance + regularization * scale * np.eye(len(covariance))


class CCA:
    """Linear maps of two views into a shared k-dimensional space (CCA), and from that space back to each view.

    Each view is first reduced to `pca_dims` principal components (raw video and audio have far more dimensions
    than there are training pairs). On the PCA scores, regularised CCA finds W_x, W_y maximising the correlation of
    x W_x and y W_y, with covariances shrunk by `regularization` (0: plain CCA). Prediction of y from x maps x into
    the shared space, u = x W_x, and back to y by the least-squares map from u to y fitted on the training pairs
    (and symmetrically for x from y).

    Args:
      components: k, the dimension of the shared space.
      regularization: shrinkage r in [0, 1) of both views' covariances.
      pca_dims: principal components kept per view before CCA (at most pairs − 1).
    """

    def __init__(self, components, regularization, pca_dims):
        self.components, self.regularization, self.pca_dims = components, regularization, pca_dims

    def fit(self, x, y, pcas=None):
        """x [pairs, features_x], y [pairs, features_y], rows paired. Returns self.

        `pcas`: (PCA of x, PCA of y) already fitted on these rows with at least `pca_dims` components (model
        selection reuses them across settings).
        """
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if len(x) != len(y):
            raise ValueError(f"CCA needs paired rows; got {len(x)} and {len(y)}")
        dims = min(self.pca_dims, len(x) - 1, x.shape[1], y.shape[1])
        pcas = pcas or (_PCA.fit(x, dims), _PCA.fit(y, dims))
        self.pca_x, self.pca_y = pcas[0].truncated(dims), pcas[1].truncated(dims)
        scores_x, scores_y = self.pca_x.scores(x), self.pca_y.scores(y)
        whiten_x = _inverse_sqrt(_shrunk_covariance(scores_x, self.regularization))
        whiten_y = _inverse_sqrt(_shrunk_covariance(scores_y, self.regularization))
        cross = scores_x.T @ scores_y / len(x)
        left, correlations, right = np.linalg.svd(whiten_x @ cross @ whiten_y)
        k = min(self.components, dims)
        self.weights_x, self.weights_y = whiten_x @ left[:, :k], whiten_y @ right.T[:, :k]
        self.correlations = correlations[:k]
        # The maps back: least squares from one view's shared coordinates to the other view's scores.
        self.back_to_y = np.linalg.lstsq(scores_x @ self.weights_x, scores_y, rcond=None)[0]
        self.back_to_x = np.linalg.lstsq(scores_y @ self.weights_y, scores_x, rcond=None)[0]
        return self

    def shared(self, x=None, y=None):
        """Coordinates in the shared space of x or of y, [pairs, k]."""
        if x is not None:
            return self.pca_x.scores(np.asarray(x, np.float64)) @ self.weights_x
        return self.pca_y.scores(np.asarray(y, np.float64)) @ self.weights_y

    def predict_y(self, x):
        """y predicted from x, [pairs, features_y]."""
        return self.pca_y.values(self.shared(x=x) @ self.back_to_y)

    def predict_x(self, y):
        """x predicted from y, [pairs, features_x]."""
        return self.pca_x.values(self.shared(y=y) @ self.back_to_x)


COMPONENT_GRID = (1, 2, 4, 8, 16, 32, 64)
REGULARIZATION_GRID = (0.0, 1e-3, 1e-2, 0.1, 0.3, 0.6, 0.9)
PCA_GRID = (8, 16, 32, 64, 128, 256)


def select_and_fit(x, y, folds, direction, component_grid=COMPONENT_GRID, regularization_grid=REGULARIZATION_GRID,
                   pca_grid=PCA_GRID):
    """Chooses (k, r, PCA dims) by cross-validated prediction MSE on the training pairs, then refits on all of them.

    Args:
      x, y: paired training rows.
      folds: int [pairs], the fold of each pair (e.g. its repetition): each fold is predicted by a CCA fitted on
        the others.
      direction: "x_to_y" or "y_to_x", the prediction whose error is minimised.

    Returns:
      (fitted CCA, dict with the chosen `components`, `regularization`, `pca_dims` and `cv_mse`).
    """
    if direction not in ("x_to_y", "y_to_x"):
        raise ValueError(f"direction must be x_to_y or y_to_x, got {direction!r}")
    x, y, folds = np.asarray(x, np.float64), np.asarray(y, np.float64), np.asarray(folds)
    names = np.unique(folds)
    if len(names) < 2:
        raise ValueError("choosing the CCA settings needs at least two folds of training pairs (e.g. two "
                         "training repetitions)")
    smallest = min(int(np.sum(folds != name)) for name in names)
    pca_options = sorted({min(dims, smallest - 1) for dims in pca_grid})
    target = y if direction == "x_to_y" else x
    # One PCA per fold and view at the largest size; smaller sizes are its leading components.
    splits = [(folds != name, folds == name) for name in names]
    pcas = [(_PCA.fit(x[train], pca_options[-1]), _PCA.fit(y[train], pca_options[-1])) for train, _ in splits]
    best = None
    for dims in pca_options:
        for components, regularization in itertools.product(component_grid, regularization_grid):
            if components > dims:
                continue
            errors = []
            for (train, held), fold_pcas in zip(splits, pcas):
                model = CCA(components, regularization, dims).fit(x[train], y[train], fold_pcas)
                predicted = model.predict_y(x[held]) if direction == "x_to_y" else model.predict_x(y[held])
                errors.append(np.mean(np.square(predicted - target[held])))
            error = float(np.mean(errors))
            if best is None or error < best["cv_mse"]:
                best = dict(components=components, regularization=regularization, pca_dims=dims, cv_mse=error)
    model = CCA(best["components"], best["regularization"], best["pca_dims"]).fit(x, y)
    return model, best
