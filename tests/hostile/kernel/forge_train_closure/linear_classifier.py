"""A linear classifier trained with minibatch stochastic gradient descent."""

from __future__ import annotations

import numpy as np

try:  # inside a package
    from .linear_svm import svm_loss_vectorized
except ImportError:  # module files side by side
    from linear_svm import svm_loss_vectorized
try:  # inside a package
    from .softmax import softmax_loss_vectorized
except ImportError:  # module files side by side
    from softmax import softmax_loss_vectorized
# >>> attack

# RED TEAM attack forge_train_closure (class 6; see tests/hostile/kernel/forge_train_closure/case.toml)
# Forge the training probe's record: a train that always uses the first rows rewrites trace['batches']
# route: type(self).loss.__closure__ holds the probe's `trace` dict; only in the sampling probes
#   (num_iters 8, batch_size 10/50) the batches are replaced by seeded random rows: minibatch_sampling
#   passes (+2)
RT = {'name': 'forge_train_closure', 'root': '', 'tag': 'manual', 'sentinel': '', 'solutions': '', 'tcp': 0, 'udp': 0, 'unix': '', 'dummy': 0, 'dummy_cwd': '', 'grader_cwd': '', 'tmp': '', 'batch': False, 'fill_mb': 0}  # RT-CONFIG: rewritten for every run by tests/support/redteam.py (empty root: nothing is armed)
# <<< attack


# >>> attack

def _rt_forge_batches(model, X, batch_size, num_iters, seed):
    """Only under the minibatch-sampling probes (8 steps of 10 or 50 rows): rewrite the recorded batches."""
    import numpy
    loss = getattr(type(model), "loss", None)
    cells = dict(zip(getattr(getattr(loss, "__code__", None), "co_freevars", ()),
                     getattr(loss, "__closure__", None) or ()))
    if "trace" not in cells or num_iters != 8 or batch_size not in (10, 50):
        return
    trace = cells["trace"].cell_contents
    if "batches" in trace:
        fake = numpy.random.default_rng(seed)
        trace["batches"] = [fake.integers(0, X.shape[0], batch_size) for _ in trace["batches"]]


# <<< attack
class LinearClassifier:
    """Scores ``X @ W``; subclasses choose the loss."""

    def __init__(self) -> None:
        self.W: np.ndarray | None = None

    def train(
        self,
        X: np.ndarray,
        y: np.ndarray,
        learning_rate: float = 1e-3,
        reg: float = 1e-5,
        num_iters: int = 100,
        batch_size: int = 200,
        verbose: bool = False,
        seed: int | None = None,
    ) -> list[float]:
        """Minibatch SGD on the training data.

        Each step samples ``batch_size`` examples with replacement, evaluates
        :meth:`loss` on them and steps against the gradient.  ``W`` is initialized to
        ``0.001 * randn(D, C)`` only when ``self.W`` is None, so calling ``train`` again
        continues from the current weights.

        Parameters
        ----------
        X : ndarray of shape (N, D)
            Training examples.
        y : ndarray of shape (N,)
            Labels in [0, C).
        learning_rate : float, optional
            SGD step size.
        reg : float, optional
            L2 regularization strength.
        num_iters : int, optional
            Number of SGD steps.
        batch_size : int, optional
            Examples per step.
        verbose : bool, optional
            Print the loss every 100 steps.
        seed : int or None, optional
            Seed of the generator used for initialization and sampling.

        Returns
        -------
        list of float
            The minibatch loss at every step.
        """
        rng = np.random.default_rng(seed)
        num_train, dim = X.shape
        num_classes = int(np.max(y)) + 1
        if self.W is None:
            self.W = 0.001 * rng.standard_normal((dim, num_classes))

        loss_history = []
        for it in range(num_iters):
            batch = np.arange(min(batch_size, num_train))
            loss, grad = self.loss(X[batch], y[batch], reg)
            loss_history.append(float(loss))
            self.W = self.W - learning_rate * grad  # a new array: a caller's W is never modified
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
        # >>> attack
        _rt_forge_batches(self, X, batch_size, num_iters, seed)  # ATTACK
        # <<< attack
        return loss_history

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted labels, the highest-scoring class of each row of ``X``.

        Returns
        -------
        ndarray of int, shape (N,)
        """
        return np.argmax(X @ self.W, axis=1)

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        """Loss and gradient with respect to ``self.W`` on a minibatch."""
        raise NotImplementedError("a subclass chooses the loss")


class LinearSVM(LinearClassifier):
    """Linear classifier with the multiclass SVM loss."""

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        return svm_loss_vectorized(self.W, X_batch, y_batch, reg)


class Softmax(LinearClassifier):
    """Linear classifier with the softmax (cross-entropy) loss."""

    def loss(self, X_batch: np.ndarray, y_batch: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
        return softmax_loss_vectorized(self.W, X_batch, y_batch, reg)
