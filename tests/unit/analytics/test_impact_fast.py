"""The sparse two-stage estimator against pyfixest (the reference it must equal), and its properties."""

from __future__ import annotations

import warnings

import numpy as np
import pyfixest as pf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.analytics.impact import estimate, fast
from trainquant.analytics.impact.rules import sample
from trainquant.simulate.business.panels import staggered


def _both(seed: int, weighted: bool):
    panel = staggered(seed, people=150, weighted=weighted, growth=0.3)
    s = sample(panel.cells, panel.trained_at, panel.design)
    df = estimate.frame(s)
    return panel, s, df, fast.panel(df["unit"], df["period"], df["y"], df["w"], df["treat"].astype(bool))


@pytest.mark.parametrize(("seed", "weighted"), [(1, False), (2, True), (3, True), (4, False)])
def test_did2s_equals_pyfixests(seed, weighted):
    _, _, df, p = _both(seed, weighted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.did2s(df.copy(), yname="y", first_stage="~ 0 | unit + period", second_stage="~ i(treat)", treatment="treat",
                       cluster="unit", weights="w" if weighted else None).tidy()
    got = fast.did2s(p)
    # pyfixest's first stage demeans iteratively to a tolerance; this one solves exactly.
    assert got.effect == pytest.approx(float(ref["Estimate"].iloc[0]), rel=1e-4)
    assert got.se == pytest.approx(float(ref["Std. Error"].iloc[0]), rel=1e-4)


@pytest.mark.parametrize(("seed", "weighted"), [(5, False), (6, True)])
def test_fixed_effects_ols_equals_pyfixests_crv1(seed, weighted):
    _, _, df, _ = _both(seed, weighted)
    un = df[df["treat"] == 0].copy()
    for k in range(1, 5):
        un[f"lead{k}"] = (un["ever"] & (un["rel"] == -k)).astype(np.int64)
    names = [f"lead{k}" for k in range(1, 5)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(f"y ~ {' + '.join(names)} | unit + period", data=un, vcov={"CRV1": "unit"}, weights="w" if weighted else None).tidy()
    q = fast.panel(un["unit"], un["period"], un["y"], un["w"] if weighted else np.ones(len(un)), np.zeros(len(un), dtype=bool))
    got = fast.fe_ols(q, un[names].to_numpy(dtype=float))
    for j, name in enumerate(names):
        assert got.coefficients[j] == pytest.approx(float(ref.loc[name, "Estimate"]), rel=1e-6, abs=1e-9)
        assert np.sqrt(got.vcov[j, j]) == pytest.approx(float(ref.loc[name, "Std. Error"]), rel=1e-6)
    assert got.df == un["unit"].nunique() - 1


def test_the_estimates_module_switches_to_the_sparse_path_above_its_size(monkeypatch):
    panel, s, df, _ = _both(7, True)
    small = estimate.did2s(s, df), estimate.pretrend(s, panel.design, df), estimate.person_effects(s, df)
    monkeypatch.setattr(estimate, "FAST_UNITS", 10)
    large = estimate.did2s(s, df), estimate.pretrend(s, panel.design, df), estimate.person_effects(s, df)
    assert small[0] is not None and large[0] is not None and small[1] is not None and large[1] is not None
    assert large[0].effect == pytest.approx(small[0].effect, rel=1e-4) and large[0].se == pytest.approx(small[0].se, rel=1e-4)
    assert large[1].p_value == pytest.approx(small[1].p_value, rel=1e-3)
    assert [lead.rel for lead in large[1].leads] == [lead.rel for lead in small[1].leads]
    assert set(large[2]) == set(small[2])
    # A person's imputed counterfactual: both paths demean iteratively (pyfixest to its own tolerance),
    # so they agree to about 1e-4 on the outcome's scale, not to the last digit.
    for unit, (without, actual) in small[2].items():
        assert large[2][unit] == pytest.approx((without, actual), rel=1e-4, abs=1e-4)


@st.composite
def _exact(draw):
    """A panel whose outcome is exactly person + period effects + tau on the treated cells."""
    units, periods = draw(st.integers(4, 9)), draw(st.integers(4, 9))
    alpha = draw(st.lists(st.floats(-5, 5), min_size=units, max_size=units))
    lam = draw(st.lists(st.floats(-5, 5), min_size=periods, max_size=periods))
    tau = draw(st.floats(-3, 3))
    starts = [draw(st.one_of(st.none(), st.integers(2, periods - 1))) for _ in range(units)]
    starts[0] = None  # someone is never treated, so every period has an untreated cell
    weights = [draw(st.floats(0.5, 4)) for _ in range(units * periods)]
    u, t, y, w, d = [], [], [], [], []
    for i in range(units):
        for k in range(periods):
            treated = starts[i] is not None and k >= starts[i]
            u.append(i), t.append(k), w.append(weights[i * periods + k]), d.append(treated)
            y.append(alpha[i] + lam[k] + (tau if treated else 0.0))
    return fast.panel(u, t, y, w, d), tau, any(d)


@settings(max_examples=60, deadline=None)
@given(_exact(), st.floats(-100, 100), st.floats(0.1, 10))
def test_an_exact_panel_gives_its_effect_whatever_the_fixed_effects(case, shift, scale):
    p, tau, any_treated = case
    if not any_treated:
        with pytest.raises(fast.NotEstimable):
            fast.did2s(p)
        return
    got = fast.did2s(p)
    assert got.effect == pytest.approx(tau, abs=1e-7)
    assert got.se == pytest.approx(0.0, abs=1e-6)
    # Person and period effects are absorbed; the effect scales with the outcome.
    moved = fast.Panel(p.unit, p.period, scale * (p.y + shift * p.unit + 2 * shift * p.period), p.w, p.treated)
    assert fast.did2s(moved).effect == pytest.approx(scale * tau, abs=1e-6 * max(1.0, abs(scale * tau)))
