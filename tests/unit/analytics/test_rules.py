from trainquant.analytics.rules import (
    AssessmentFact,
    EnrolmentFact,
    IndicatorFact,
    assessment_stats,
    attended,
    histogram,
    indicator_shares,
    participation,
    pass_rate,
)


def _e(status, over=True, part=None, emp=1):
    return EnrolmentFact(employee_id=emp, session_id=1, program_id=1, status=status, session_over=over, min_participation=0.8, participation=part)


def test_attended_needs_an_approved_place_in_a_finished_session_and_enough_participation():
    assert attended(_e("approved"))
    assert attended(_e("approved", part=0.8))
    assert not attended(_e("approved", part=0.79))
    assert not attended(_e("approved", over=False))
    assert not attended(_e("rejected"))


def test_participation_counts():
    p = participation([_e("approved", part=0.5), _e("approved", part=1.0), _e("approved"), _e("approved", over=False),
                       _e("rejected"), _e("waitlisted"), _e("cancelled"), _e("requested")])
    assert (p.enrolled, p.approved, p.rejected, p.waitlisted, p.cancelled, p.requested) == (8, 4, 1, 1, 1, 1)
    assert (p.completed, p.attended, p.measured, p.participation) == (3, 2, 2, 0.75)
    assert p.attendance_rate == 2 / 3
    assert participation([]).participation is None and participation([]).attendance_rate is None


def test_assessment_stats_and_pass_rate():
    stats = assessment_stats([AssessmentFact(1, "trial", 80, False), AssessmentFact(2, "trial", 90, True),
                              AssessmentFact(1, "case", None, True), AssessmentFact(2, "case", None, None)])
    case, trial = stats
    assert (trial.count, trial.mean, trial.min, trial.max, trial.pass_rate) == (2, 85, 80, 90, 0.5)
    assert (case.count, case.mean, case.judged, case.pass_rate) == (2, None, 1, 1.0)
    assert pass_rate(stats) == 2 / 3
    assert pass_rate([]) is None


def test_indicator_shares_leave_no_data_out_of_the_share():
    (share,) = indicator_shares([IndicatorFact(1, "x", "met"), IndicatorFact(2, "x", "not_met"), IndicatorFact(3, "x", "no_data")])
    assert (share.met, share.not_met, share.no_data, share.share_met) == (1, 1, 1, 0.5)
    (empty,) = indicator_shares([IndicatorFact(1, "y", "no_data")])
    assert empty.share_met is None


def test_histogram_puts_the_top_edge_in_the_last_bin():
    assert histogram([0, 9.99, 10, 100, 101, -1], low=0, high=100, bins=10) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
