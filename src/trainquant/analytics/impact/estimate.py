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

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf

from trainquant.analytics.impact.rules import Design, Estimate, Lead, PreTrend, Sample

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


def did2s(s: Sample, df: pd.DataFrame | None = None) -> Estimate | None:
    df = frame(s) if df is None else df
    if df.empty or not df["treat"].any() or df["treat"].all():
        return None
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
    earlier and the never-trained; None when no lead can be told apart from the fixed effects."""
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"y ~ {' + '.join(names)} | unit + period", data=untreated, vcov={"CRV1": "unit"},
                           weights=_weighted(untreated))
            tidy = fit.tidy()
            wald = fit.wald_test()
    except _CANNOT_FIT:
        return None
    leads = tuple(Lead(-int(name.removeprefix("lead")), float(tidy.loc[name, "Estimate"]), float(tidy.loc[name, "Std. Error"]))
                  for name in names if name in tidy.index)
    p_value = float(wald["pvalue"])
    if not leads or not np.isfinite(p_value):
        return None
    return PreTrend(leads, p_value)


def person_effects(s: Sample, df: pd.DataFrame | None = None) -> dict[int, tuple[float, float]]:
    """Per trained person: (what their treated cells would have averaged without the training, what
    they did average), weighted as the cells are. The counterfactual is the imputation's: person and
    period effects fitted on the untreated cells alone (stage one of did2s), predicted on the
    person's treated cells. The difference is the person's own isolated effect; it is far noisier
    than the program's average and is what an indicator about that person reads."""
    df = frame(s) if df is None else df
    if df.empty or not df["treat"].any() or df["treat"].all():
        return {}
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
