"""Gardner's two-stage estimator (did2s) and the fixed-effects regressions of the pre-trend test for
panels too large for pyfixest's did2s, whose variance builds dense dummy matrices of every person
(50,000 people x 2.6 million cells would not fit). Pure NumPy; the same estimator and the same
variance as ``pyfixest.did2s`` (Gardner's GMM correction, clustered by person, no small-sample
factor) and as ``pyfixest.feols`` with CRV1 (its default small-sample factors), which
``tests/unit/analytics/test_impact_fast.py`` checks on panels both can fit.

The two-way fixed-effects normal equations have a block form: person effects on a diagonal, period
effects on another, and their cross weights ``C`` (person x period). Eliminating the persons leaves
a dense system of the periods alone (the Schur complement ``D_t - C' D_u^-1 C``), solved exactly:
no iteration, no tolerance. One period effect is fixed at zero (the two sets share a constant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Panel:
    """Cells as arrays: person and period as dense indexes 0..n-1, outcome, weight, treated."""

    unit: Index
    period: Index
    y: Array
    w: Array
    treated: npt.NDArray[np.bool_]

    @property
    def units(self) -> int:
        return int(self.unit.max()) + 1 if len(self.unit) else 0

    @property
    def periods(self) -> int:
        return int(self.period.max()) + 1 if len(self.period) else 0


def panel(unit: npt.ArrayLike, period: npt.ArrayLike, y: npt.ArrayLike, w: npt.ArrayLike, treated: npt.ArrayLike) -> Panel:
    """Re-index persons and periods densely (their ids and period numbers may be anything)."""
    _, u = np.unique(np.asarray(unit), return_inverse=True)
    _, t = np.unique(np.asarray(period), return_inverse=True)
    return Panel(u.astype(np.int64), t.astype(np.int64), np.asarray(y, dtype=np.float64), np.asarray(w, dtype=np.float64),
                 np.asarray(treated, dtype=bool))


def _sums(index: Index, weights: Array, n: int) -> Array:
    """Per index 0..n-1, the sum of its weights."""
    return np.bincount(index, weights, n).astype(np.float64, copy=False)


class NotEstimable(ValueError):
    """A person or a period has no untreated cell: its effect cannot be fitted."""


@dataclass(frozen=True)
class TwoWay:
    """The normal equations of person + period effects fitted on a subset of cells (the ``fit`` mask)."""

    p: Panel
    fit: npt.NDArray[np.bool_]
    du: Array  # each person's weight among the fitted cells
    dt: Array
    c: Array  # person x period weights, dense (50,000 x 52 is 21 MB)
    schur: Array  # the period system with the persons eliminated (period 0 fixed at zero)

    @classmethod
    def of(cls, p: Panel, fit: npt.NDArray[np.bool_]) -> TwoWay:
        nu, nt = p.units, p.periods
        w = np.where(fit, p.w, 0.0)
        du = _sums(p.unit, w, nu)
        dt = _sums(p.period, w, nt)
        if (du <= 0).any() or (dt <= 0).any():
            raise NotEstimable("a person or a period has no cell to fit on")
        c = _sums(p.unit * nt + p.period, w, nu * nt).reshape(nu, nt)
        cs = c[:, 1:]
        schur = np.diag(dt[1:]) - cs.T @ (cs / du[:, None])
        return cls(p, fit, du, dt, c, schur)

    def solve(self, bu: Array, bt: Array) -> tuple[Array, Array]:
        """Person and period coefficients with right-hand sides ``bu`` (per person) and ``bt`` (per period)."""
        cs = self.c[:, 1:]
        vt = np.linalg.solve(self.schur, bt[1:] - cs.T @ (bu / self.du)) if len(bt) > 1 else np.zeros(0)
        vu = (bu - cs @ vt) / self.du
        return vu, np.concatenate(([0.0], vt))

    def project(self, z: Array) -> Array:
        """The fitted values of regressing ``z`` on the person and period effects over the fitted cells,
        on every cell."""
        w = np.where(self.fit, self.p.w, 0.0) * z
        vu, vt = self.solve(_sums(self.p.unit, w, self.p.units), _sums(self.p.period, w, self.p.periods))
        return vu[self.p.unit] + vt[self.p.period]


@dataclass(frozen=True)
class Fit:
    effect: float
    se: float
    predicted: Array  # stage one's person + period effects on every cell: what each would have been untreated


def did2s(p: Panel) -> Fit:
    """Stage one: person and period effects on the untreated cells. Stage two: the weighted mean of the
    residuals on the treated cells. Variance: the GMM correction for stage one, clustered by person."""
    untreated = ~p.treated
    fe = TwoWay.of(p, untreated)
    predicted = fe.project(p.y)
    resid = p.y - predicted  # stage one's residual on untreated cells, the outcome less its imputation on treated ones
    d = p.treated.astype(np.float64)
    wd = p.w * d
    total = wd.sum()
    if total <= 0:
        raise NotEstimable("nothing is treated")
    beta = float((wd * resid).sum() / total)
    second = resid - d * beta
    # V = (X2'W X1)(X10'W X10)^-1: stage one's normal equations with the treated weights as right-hand side.
    vu, vt = fe.solve(_sums(p.unit, wd, p.units), _sums(p.period, wd, p.periods))
    first_part = np.where(untreated, p.w * resid * (vu[p.unit] + vt[p.period]), 0.0)
    score = _sums(p.unit, wd * second - first_part, p.units) / total
    return Fit(beta, float(math.sqrt((score ** 2).sum())), predicted)


@dataclass(frozen=True)
class Ols:
    coefficients: Array
    vcov: Array
    df: int  # for the t distribution of a clustered test: clusters - 1


def fe_ols(p: Panel, x: Array) -> Ols:
    """``y ~ x | person + period`` on every cell of ``p``, weighted, clustered by person (CRV1 with
    pyfixest's default small-sample factors: (N - 1) / (N - k) with k the regressors and every period
    effect, persons being nested in the clusters, and G / (G - 1))."""
    every = np.ones(len(p.y), dtype=bool)
    fe = TwoWay.of(p, every)
    x = np.atleast_2d(x.T).T if x.ndim == 1 else x
    xt = np.column_stack([x[:, j] - fe.project(x[:, j]) for j in range(x.shape[1])])
    yt = p.y - fe.project(p.y)
    xw = xt * p.w[:, None]
    bread = np.linalg.inv(xt.T @ xw)
    beta = bread @ (xw.T @ yt)
    e = yt - xt @ beta
    scores = np.column_stack([_sums(p.unit, xw[:, j] * e, p.units) for j in range(x.shape[1])])
    meat = scores.T @ scores
    n, g = len(p.y), p.units
    k = x.shape[1] + p.periods
    ssc = (n - 1) / (n - k) * g / (g - 1)
    return Ols(beta, ssc * bread @ meat @ bread, g - 1)


def person_means(p: Panel, values: Array, mask: npt.NDArray[np.bool_]) -> dict[int, float]:
    """Per person (dense index), the weighted mean of ``values`` over their cells in ``mask``."""
    w = np.where(mask, p.w, 0.0)
    top = _sums(p.unit, w * values, p.units)
    bottom = _sums(p.unit, w, p.units)
    return {int(u): float(top[u] / bottom[u]) for u in np.flatnonzero(bottom > 0)}
