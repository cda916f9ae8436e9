"""Exchange share (II.3.3): urban teachers on exchange at a poor-village school on a date, among
all the teachers working there, against at least 10%."""

from __future__ import annotations

import datetime as dt

from tests.teachers.helpers import ON, add_teacher

from conftest import County, Personas
from jingzhun.teachers.models import Exchange
from jingzhun.teachers.selectors import exchange_shares, meets_exchange_target, roll_up


def test_the_target_is_ten_percent_of_those_working_there() -> None:
    assert meets_exchange_target(1, 10) is True
    assert meets_exchange_target(1, 11) is False
    assert meets_exchange_target(2, 11) is True
    assert meets_exchange_target(0, 0) is False


def test_exchange_share_of_a_poor_village_school(county: County, personas: Personas) -> None:
    # given: school A (poor village) has 9 teachers of its own; school B sends one backbone
    # teacher for the school year, and had sent another who is back, and will send a third
    for seq in range(1, 10):
        add_teacher(county.school_a, seq)
    urban = [add_teacher(county.school_b, seq, backbone=True) for seq in (20, 21, 22)]
    running = Exchange.objects.create(
        teacher=urban[0],
        from_school=county.school_b,
        to_school=county.school_a,
        started_on=dt.date(2018, 9, 1),
        ended_on=dt.date(2019, 7, 15),
    )
    Exchange.objects.create(
        teacher=urban[1],
        from_school=county.school_b,
        to_school=county.school_a,
        started_on=dt.date(2017, 9, 1),
        ended_on=dt.date(2018, 7, 15),
    )
    Exchange.objects.create(
        teacher=urban[2],
        from_school=county.school_b,
        to_school=county.school_a,
        started_on=dt.date(2019, 9, 1),
    )

    # when
    (row,) = exchange_shares(user=personas.county_officer, on=ON)

    # then: only poor-village schools are listed; 1 of the 10 there is 10%
    assert (row.school_name, row.teachers, row.exchanged_in, row.working_there) == (
        "甲镇中心小学",
        9,
        1,
        10,
    )
    assert (row.share, row.meeting_target) == (0.1, 1)
    # one more teacher of its own: 1 of 11 falls short
    add_teacher(county.school_a, 10)
    (row,) = exchange_shares(user=personas.county_officer, on=ON)
    assert (row.exchanged_in, row.working_there, row.meeting_target) == (1, 11, 0)
    # the last day of an exchange still counts; the day after, not
    (last_day,) = exchange_shares(user=personas.county_officer, on=running.ended_on)
    assert last_day.exchanged_in == 1
    (after,) = exchange_shares(user=personas.county_officer, on=dt.date(2019, 7, 16))
    assert after.exchanged_in == 0
    (town,) = roll_up(exchange_shares(user=personas.county_officer, on=ON))
    assert (town.township_code, town.schools, town.exchanged_in, town.meeting_target) == (
        "420101001",
        1,
        1,
        0,
    )
