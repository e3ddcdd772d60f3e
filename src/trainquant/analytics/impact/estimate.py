"""Estimating the effect of a training from a ``rules.Sample`` with pyfixest.

``did2s`` is the primary estimator: Gardner's two-stage difference-in-differences (the imputation
approach of Borusyak, Jaravel and Spiess). Stage one fits person and period effects on the untreated
cells only, so a trained person never serves as anyone's comparison after their training; stage two
averages what stage one leaves on the treated cells, with standard errors that account for stage one
and are clustered by person. ``twfe`` is the plain two-way fixed-effects regression, kept only to show
how far it strays under staggered dates (tests and bench). ``pretrend`` is Borusyak-Jaravel-Spiess's
test of the periods just before a training, on untreated cells.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
from scipy import stats

from trainquant.analytics.impact import fast
from trainquant.analytics.impact.rules import Design, Estimate, Lead, PreTrend, Sample

# Above this many people, the sparse implementation of the same estimators (``fast``): pyfixest's
# did2s variance builds a dense dummy matrix of every person (2,000 people x 50,000 cells already take
# 10 s; 50,000 people would not fit in memory). At or below it, pyfixest itself.
FAST_UNITS = 2000

# What pyfixest raises on a design it cannot fit (every cell treated in a period, a singular second
# stage, too few clusters): the effect is then "not estimable", which the finding reports.
_CANNOT_FIT = (ValueError, ZeroDivisionError, KeyError, IndexError, np.linalg.LinAlgError)


def frame(s: Sample) -> pd.DataFrame:
    return pd.DataFrame({
        "unit": np.fromiter((r.unit for r in s.rows), dtype=np.int64, count=len(s.rows)),
        "period": np.fromiter((r.period for r in s.rows), dtype=np.int64, count=len(s.rows)),
        "y": np.fromiter((r.value for r in s.rows), dtype=np.float64, count=len(s.rows)),
        "w": np.fromiter((r.weight for r in s.rows), dtype=np.float64, count=len(s.rows)),
        "treat": np.fromiter((r.treated for r in s.rows), dtype=np.int64, count=len(s.rows)),
        "rel": np.fromiter((r.rel if r.rel is not None else 0 for r in s.rows), dtype=np.int64, count=len(s.rows)),
        "ever": np.fromiter((r.rel is not None for r in s.rows), dtype=bool, count=len(s.rows)),
    })


def _weighted(df: pd.DataFrame) -> str | None:
    # Equal weights are no weights: pyfixest's unweighted path is the one its authors test most.
    return None if bool((df["w"] == df["w"].iloc[0]).all()) else "w"


def _treat_coefficient(fit) -> tuple[float, float]:
    tidy = fit.tidy()
    return float(tidy["Estimate"].iloc[0]), float(tidy["Std. Error"].iloc[0])


def _large(df: pd.DataFrame) -> bool:
    return int(df["unit"].nunique()) > FAST_UNITS


def _panel(df: pd.DataFrame) -> fast.Panel:
    return fast.panel(df["unit"].to_numpy(), df["period"].to_numpy(), df["y"].to_numpy(), df["w"].to_numpy(), df["treat"].to_numpy(dtype=bool))


def did2s(s: Sample, df: pd.DataFrame | None = None) -> Estimate | None:
    df = frame(s) if df is None else df
    if df.empty or not df["treat"].any() or df["treat"].all():
        return None
    if _large(df):
        try:
            fit = fast.did2s(_panel(df))
        except (fast.NotEstimable, np.linalg.LinAlgError):
            return None
        return Estimate(fit.effect, fit.se, "did2s")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.did2s(df, yname="y", first_stage="~ 0 | unit + period", second_stage="~ i(treat)",
                           treatment="treat", cluster="unit", weights=_weighted(df))
        effect, se = _treat_coefficient(fit)
    except _CANNOT_FIT:
        return None
    return Estimate(effect, se, "did2s")


def twfe(s: Sample, df: pd.DataFrame | None = None) -> Estimate | None:
    df = frame(s) if df is None else df
    if df.empty or not df["treat"].any() or df["treat"].all():
        return None
    weights = _weighted(df)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols("y ~ treat | unit + period", data=df, vcov={"CRV1": "unit"}, weights=weights)
        effect, se = _treat_coefficient(fit)
    except _CANNOT_FIT:
        return None
    return Estimate(effect, se, "twfe")


def pretrend(s: Sample, design: Design, df: pd.DataFrame | None = None) -> PreTrend | None:
    """Leads -1 .. -``design.leads`` among the untreated cells of trained people, against everything
    earlier and the never-trained; None when no lead can be told apart from the fixed effects.

    The leads are shown one by one (the event study); the flag's p-value is the test of their pooled
    coefficient (one "the last weeks before training" dummy, clustered by person). A joint Wald test of
    each lead over-rejects here: each lead rests on one cell per trained person, and with a few dozen
    of them and skewed metrics (a week's renewals out of one to four students) its clustered variance
    is too small, so parallel panels were flagged far more often than 5% of the time. The pooled test
    keeps its size and still fires on trends that diverge before training (``bench_effect_coverage``).
    """
    df = frame(s) if df is None else df
    untreated = df[df["treat"] == 0].copy()
    names = []
    for k in range(1, design.leads + 1):
        column = f"lead{k}"
        untreated[column] = (untreated["ever"] & (untreated["rel"] == -k)).astype(np.int64)
        if untreated[column].any():
            names.append(column)
    if not names or untreated["unit"].nunique() < 3:
        return None
    untreated["pre"] = (untreated["ever"] & (untreated["rel"] < 0) & (untreated["rel"] >= -design.leads)).astype(np.int64)
    if _large(untreated):
        return _pretrend_fast(untreated, names)
    weights = _weighted(untreated)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tidy = pf.feols(f"y ~ {' + '.join(names)} | unit + period", data=untreated, vcov={"CRV1": "unit"}, weights=weights).tidy()
            pooled = pf.feols("y ~ pre | unit + period", data=untreated, vcov={"CRV1": "unit"}, weights=weights).tidy()
    except _CANNOT_FIT:
        return None
    leads = tuple(Lead(-int(name.removeprefix("lead")), float(tidy.loc[name, "Estimate"]), float(tidy.loc[name, "Std. Error"]))
                  for name in names if name in tidy.index)
    p_value = float(pooled.loc["pre", "Pr(>|t|)"]) if "pre" in pooled.index else float("nan")
    if not leads or not np.isfinite(p_value):
        return None
    return PreTrend(leads, p_value)


def _pretrend_fast(untreated: pd.DataFrame, names: list[str]) -> PreTrend | None:
    p = _panel(untreated)
    try:
        leads = fast.fe_ols(p, untreated[names].to_numpy(dtype=np.float64))
        pooled = fast.fe_ols(p, untreated["pre"].to_numpy(dtype=np.float64))
    except (fast.NotEstimable, np.linalg.LinAlgError):
        return None
    se = math.sqrt(pooled.vcov[0, 0])
    if not se > 0:
        return None
    p_value = float(2 * stats.t.sf(abs(pooled.coefficients[0] / se), pooled.df))
    return PreTrend(tuple(Lead(-int(name.removeprefix("lead")), float(leads.coefficients[j]), float(math.sqrt(leads.vcov[j, j])))
                          for j, name in enumerate(names)), p_value)


def person_effects(s: Sample, df: pd.DataFrame | None = None) -> dict[int, tuple[float, float]]:
    """Per trained person: (what their treated cells would have averaged without the training, what
    they did average), weighted as the cells are. The counterfactual is the imputation's: person and
    period effects fitted on the untreated cells alone (stage one of did2s), predicted on the
    person's treated cells. The difference is the person's own isolated effect; it is far noisier
    than the program's average and is what an indicator about that person reads."""
    df = frame(s) if df is None else df
    if df.empty or not df["treat"].any() or df["treat"].all():
        return {}
    if _large(df):
        p = _panel(df)
        try:
            predicted = fast.did2s(p).predicted
        except (fast.NotEstimable, np.linalg.LinAlgError):
            return {}
        units = np.unique(df["unit"].to_numpy())
        without, actual = fast.person_means(p, predicted, p.treated), fast.person_means(p, p.y, p.treated)
        return {int(units[u]): (without[u], actual[u]) for u in without}
    untreated, treated = df[df["treat"] == 0], df[df["treat"] == 1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols("y ~ 1 | unit + period", data=untreated, weights=_weighted(untreated))
            predicted = np.asarray(fit.predict(newdata=treated), dtype=np.float64)
    except _CANNOT_FIT:
        return {}
    out: dict[int, tuple[float, float]] = {}
    known = np.isfinite(predicted)
    units, y, w = treated["unit"].to_numpy()[known], treated["y"].to_numpy()[known], treated["w"].to_numpy()[known]
    for unit in np.unique(units):
        mine = units == unit
        weight = w[mine].sum()
        out[int(unit)] = (float((predicted[known][mine] * w[mine]).sum() / weight), float((y[mine] * w[mine]).sum() / weight))
    return out
