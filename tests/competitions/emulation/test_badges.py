"""Badges (competitions.emulation.badges): each default rule awards what it says, once per
occasion, with thresholds read from the rule's params; the replay command; the rules screens.

Rounds are played as in tests/competitions/test_results.py (Contest); reports are inserted as rows
and announced with the report_changed signal, as the reports service does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from competitions import results, signals
from competitions.emulation import badges
from competitions.emulation.models import (
    ActivityReport,
    BadgeAward,
    BadgeRule,
    FeedItem,
    ReportStatus,
)
from competitions.emulation.periods import Period
from competitions.models import PeriodKind, Round
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.app import create_app
from core.errors import ValidationError
from core.extensions import db
from core.teams.models import Team
from tests.competitions.emulation.worlds import MONTH, VERIFIED_AT, feed_texts, file, review, set_target, verified
from tests.competitions.test_results import WEEK, Contest
from tests.conftest import PG_UNAVAILABLE, PG_URL, make_config
from tests.factories import Factory, field_errors

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 08:00 in Vietnam


def rule(code: str) -> BadgeRule:
    return db.session.scalar(select(BadgeRule).where(BadgeRule.code == code))


def awards(code: str) -> list[BadgeAward]:
    return list(db.session.scalars(
        select(BadgeAward).where(BadgeAward.rule_id == rule(code).id).order_by(BadgeAward.id)
    ))


def holders(code: str) -> list[tuple[str, str]]:
    return [(a.holder, a.occasion) for a in awards(code)]


def set_params(code: str, **params: object) -> None:
    found = rule(code)
    found.params = {**found.params, **params}
    db.session.flush()


@pytest.fixture
def contest(make) -> Contest:  # noqa: ANN001
    return Contest(make)


def close(round_: Round) -> None:
    """The round's closing work (results.finalise sends round_closed)."""
    assert results.finalise(round_, round_.closes_at + timedelta(minutes=1))


# --- first to target -------------------------------------------------------------------------------


def test_first_team_of_the_commune_to_reach_a_target_gets_the_badge_and_no_second_team_does(make):
    tree = make.tree()
    first, second = make.team(tree.hamlet), make.team(tree.hamlet2)  # both in Xã Châu Thành
    elsewhere = make.team(tree.other_hamlet)  # Phường Rạch Giá
    officer = make.user(RoleCode.OFFICER, tree.province)
    for team in (first, second, elsewhere):
        set_target(team, "vneid", 50)

    verified(first, {"vneid": 30}, officer, VERIFIED_AT)
    assert awards("first_to_target") == []  # 60%: not yet
    verified(second, {"vneid": 50}, officer, VERIFIED_AT + timedelta(hours=1))  # reaches 100% first
    verified(first, {"vneid": 25}, officer, VERIFIED_AT + timedelta(hours=2))  # 110%, but second
    verified(elsewhere, {"vneid": 60}, officer, VERIFIED_AT + timedelta(hours=3))  # another commune

    assert holders("first_to_target") == [
        (f"t{second.id}", f"{MONTH}:vneid:c{tree.commune.id}"),
        (f"t{elsewhere.id}", f"{MONTH}:vneid:c{tree.other_commune.id}"),
    ]
    [line] = feed_texts(second, "badge")
    assert "Về đích sớm nhất" in line and "Xã Châu Thành" in line and "100%" in line
    assert feed_texts(first, "badge") == []


def test_first_to_target_counts_only_verified_reports_and_awards_once_per_activity(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    set_target(team, "vneid", 10)
    set_target(team, "ewallet", 10)
    pending = file(team, {"vneid": 10, "ewallet": 10}, officer)
    review(pending, ReportStatus.REJECTED, reason="Thiếu minh chứng")
    assert awards("first_to_target") == []

    report = verified(team, {"vneid": 12, "ewallet": 4}, officer)
    assert holders("first_to_target") == [(f"t{team.id}", f"{MONTH}:vneid:c{tree.commune.id}")]
    # the same verification announced again, and the replay, award nothing more
    signals.report_changed.send(report, before=ReportStatus.SUBMITTED)
    assert badges.evaluate_all() == 0
    assert len(awards("first_to_target")) == 1
    assert len(feed_texts(team, "badge")) == 1


def test_first_to_target_reads_its_ratio_from_the_params(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    set_target(team, "households", 100)
    set_params("first_to_target", ratio=0.5)
    verified(team, {"households": 50}, officer)
    assert holders("first_to_target") == [(f"t{team.id}", f"{MONTH}:households:c{tree.commune.id}")]
    assert "50%" in awards("first_to_target")[0].detail


def test_an_inactive_rule_awards_nothing(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    set_target(team, "vneid", 5)
    rule("first_to_target").active = False
    verified(team, {"vneid": 5}, make.user(RoleCode.OFFICER, tree.commune))
    assert awards("first_to_target") == []


# --- team top finish and top finish ----------------------------------------------------------------


def _four_teams(make, contest: Contest, tree) -> tuple[Round, list[Team], list[User]]:  # noqa: ANN001
    round_ = contest.round(tree.province, title="Tuần 1")
    teams, people = [], []
    for index, correct in enumerate((3, 2, 1, 0)):
        team = make.team(tree.hamlet if index % 2 else tree.other_hamlet, f"Tổ số {index + 1}")
        person = contest.member(team, f"Người {index + 1}")
        contest.take(round_, person, correct, 100, T0 + timedelta(hours=1))
        teams.append(team)
        people.append(person)
    return round_, teams, people


def test_teams_ranked_within_the_rank_param_get_the_podium_badge_once(make, contest, monkeypatch):
    monkeypatch.setattr(badges, "INSERT_BATCH", 2)  # three awards: two statements
    tree = make.tree()
    round_, teams, _people = _four_teams(make, contest, tree)
    close(round_)
    occasion = f"round:{round_.id}"
    # the fourth scored nothing: a team with no points is on no podium
    assert holders("team_podium") == [(f"t{t.id}", occasion) for t in teams[:3]]
    assert sum("Tổ dẫn đầu" in text for text in feed_texts(teams[0], "badge")) == 1
    assert badges.evaluate(round_) == []
    assert len(awards("team_podium")) == 3


def test_team_podium_rank_comes_from_the_params(make, contest):
    tree = make.tree()
    round_, teams, _people = _four_teams(make, contest, tree)
    set_params("team_podium", rank=1)
    close(round_)
    assert holders("team_podium") == [(f"t{teams[0].id}", f"round:{round_.id}")]


def test_individuals_ranked_within_the_rank_param_get_the_member_badge_in_their_team_feed(make, contest):
    tree = make.tree()
    round_, teams, people = _four_teams(make, contest, tree)
    set_params("podium", rank=2)
    close(round_)
    made = awards("podium")
    assert [(a.holder, a.user_id, a.team_id) for a in made] == [
        (f"m{people[0].id}", people[0].id, teams[0].id), (f"m{people[1].id}", people[1].id, teams[1].id),
    ]
    [line] = [text for text in feed_texts(teams[0], "badge") if "Người 1" in text]
    assert "Top 3" in line and "hạng 1 cá nhân" in line
    assert badges.member_badges(people[0]) == [made[0]]
    assert badges.member_badges(people[2]) == []
    assert badges.team_badges(teams[0])[0].rule.code == "team_podium"  # member badges are not the team's


# --- streaks ---------------------------------------------------------------------------------------


def _weeks(contest: Contest, scope, count: int, **values: object) -> list[Round]:  # noqa: ANN001
    return [contest.round(scope, T0 + n * WEEK, title=f"Tuần {n + 1}", **values) for n in range(count)]


def test_round_streak_needs_consecutive_weekly_rounds_and_counts_a_streak_once(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    steady, patchy = contest.member(team, "Chăm chỉ"), contest.member(team, "Lúc có lúc không")
    rounds = _weeks(contest, tree.province, 8)
    for n, round_ in enumerate(rounds):
        contest.take(round_, steady, 1, 60, round_.opens_at + timedelta(hours=2))
        if n != 1:
            contest.take(round_, patchy, 1, 60, round_.opens_at + timedelta(hours=2))
        close(round_)
    # steady: weeks 1–4 and 5–8 (week 5 continues the first streak: no second badge for it);
    # patchy missed week 2: weeks 3–6 is a streak, weeks 7–8 only half of the next one
    assert holders("round_streak") == [
        (f"m{steady.id}", f"round:{rounds[3].id}"), (f"m{patchy.id}", f"round:{rounds[5].id}"),
        (f"m{steady.id}", f"round:{rounds[7].id}"),
    ]
    assert all(a.team_id == team.id for a in awards("round_streak"))
    assert sum("Bền bỉ" in text for text in feed_texts(team, "badge")) == 3


def test_round_streak_weeks_come_from_the_params_and_monthly_rounds_do_not_count(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    person = contest.member(team, "Một người")
    set_params("round_streak", weeks=2)
    monthly = contest.round(tree.province, T0 - 3 * WEEK, T0 - WEEK, period_kind=PeriodKind.MONTHLY)
    contest.take(monthly, person, 1, 60, monthly.opens_at + timedelta(hours=1))
    close(monthly)
    first, second = _weeks(contest, tree.province, 2)
    contest.take(first, person, 1, 60, first.opens_at + timedelta(hours=1))
    close(first)
    assert awards("round_streak") == []  # a monthly round then one week: not two weeks
    contest.take(second, person, 1, 60, second.opens_at + timedelta(hours=1))
    close(second)
    assert holders("round_streak") == [(f"m{person.id}", f"round:{second.id}")]


def test_a_weekly_round_of_another_area_does_not_break_a_streak(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    person = contest.member(team, "Một người")
    set_params("round_streak", weeks=2)
    first = contest.round(tree.province, T0, title="Tuần 1")
    beside = contest.round(tree.other_commune, T0 + WEEK, title="Tuần 2 của phường bên cạnh")
    second = contest.round(tree.province, T0 + WEEK, title="Tuần 2")
    for round_ in (first, second):
        contest.take(round_, person, 1, 60, round_.opens_at + timedelta(hours=1))
    for round_ in (first, beside, second):
        close(round_)
    assert holders("round_streak") == [(f"m{person.id}", f"round:{second.id}")]


def test_participation_streak_needs_the_rate_in_every_week(make, contest):
    tree = make.tree()
    keen, lax = make.team(tree.hamlet, "Tổ hăng hái"), make.team(tree.hamlet2, "Tổ chểnh mảng")
    keen_people = [contest.member(keen, f"Hăng hái {n}") for n in range(5)]
    lax_people = [contest.member(lax, f"Chểnh mảng {n}") for n in range(5)]
    rounds = _weeks(contest, tree.province, 4)
    for n, round_ in enumerate(rounds):
        at = round_.opens_at + timedelta(hours=3)
        for person in keen_people[:4]:  # 4 of 5: 80%
            contest.take(round_, person, 2, 90, at)
        for person in lax_people[: 4 if n != 2 else 3]:  # 60% in week 3
            contest.take(round_, person, 2, 90, at)
        close(round_)
    assert holders("steady_participation") == [(f"t{keen.id}", f"round:{rounds[3].id}")]
    assert sum("Chuyên cần" in text for text in feed_texts(keen, "badge")) == 1
    assert not any("Chuyên cần" in text for text in feed_texts(lax, "badge"))


def test_participation_streak_thresholds_come_from_the_params(make, contest):
    tree = make.tree()
    team = make.team(tree.hamlet)
    people = [contest.member(team, f"Thành viên {n}") for n in range(4)]
    set_params("steady_participation", weeks=2, rate=0.5)
    rounds = _weeks(contest, tree.province, 2)
    for round_ in rounds:
        for person in people[:2]:  # 50%
            contest.take(round_, person, 1, 60, round_.opens_at + timedelta(hours=1))
        close(round_)
    assert holders("steady_participation") == [(f"t{team.id}", f"round:{rounds[1].id}")]


# --- the replay ------------------------------------------------------------------------------------


def test_the_command_replays_past_data_in_order_and_is_idempotent(app, make, contest):
    tree = make.tree()
    early, late = make.team(tree.hamlet), make.team(tree.hamlet2)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    for team in (early, late):
        set_target(team, "vneid", 10)
    verified(late, {"vneid": 10}, officer, VERIFIED_AT + timedelta(days=1))
    verified(early, {"vneid": 10}, officer, VERIFIED_AT)  # verified earlier, announced later
    round_, _teams, _people = _four_teams(make, contest, tree)
    close(round_)
    db.session.execute(delete(BadgeAward))
    db.session.execute(delete(FeedItem))

    runner = app.test_cli_runner()
    outcome = runner.invoke(args=["emulation", "badges", "--since", "2025-03"])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.startswith("7 badges awarded")  # first to target, 3 teams and 3 people on the podium
    assert holders("first_to_target") == [(f"t{early.id}", f"{MONTH}:vneid:c{tree.commune.id}")]
    again = runner.invoke(args=["emulation", "badges"])
    assert again.output.startswith("0 badges awarded"), again.output
    assert runner.invoke(args=["emulation", "badges", "--since", "2025-13"]).exit_code == 2


def test_since_leaves_earlier_data_out(make, contest):
    tree = make.tree()
    round_, _teams, _people = _four_teams(make, contest, tree)
    close(round_)
    db.session.execute(delete(BadgeAward))
    assert badges.evaluate_all(Period.parse("2025-04")) == 0
    assert badges.evaluate_all(Period.parse("2025-03")) == 6  # 3 teams and 3 people on the podium


# --- rules are data: checking and editing them -------------------------------------------------


@pytest.mark.parametrize(("code", "params", "field"), [
    ("round_streak", {"weeks": "1"}, "param_weeks"),
    ("round_streak", {"weeks": "53"}, "param_weeks"),
    ("round_streak", {"weeks": "bốn"}, "param_weeks"),
    ("steady_participation", {"weeks": "4", "rate": "80"}, "param_rate"),
    ("podium", {"rank": "0"}, "param_rank"),
    ("first_to_target", {"ratio": ""}, "param_ratio"),
])
def test_params_are_checked_per_kind(make, code, params, field):
    found = rule(code)
    before = dict(found.params)
    data = badges.RuleInput(found.name, found.description, found.icon, True, params)
    with pytest.raises(ValidationError) as error:
        badges.update_rule(found, data)
    assert error.value.field == field
    assert found.params == before


def test_params_accept_a_decimal_comma_and_are_stored_typed(make):
    found = rule("steady_participation")
    badges.update_rule(found, badges.RuleInput("Chuyên cần", "Mô tả mới", "📅", False, {"weeks": "6", "rate": "0,75"}))
    assert found.params == {"weeks": 6, "rate": 0.75}
    assert not found.active
    assert badges.how_to_earn(found) == "6 đợt thi tuần liên tiếp có từ 75% thành viên của tổ dự thi."


def test_admin_edits_a_rule_and_sees_a_clear_error(make, login, client):
    admin = make.admin()
    login(admin)
    found = rule("round_streak")
    page = client.get(f"/emulation/badges/rules/{found.id}/edit").get_data(as_text=True)
    assert 'name="param_weeks"' in page and 'value="4"' in page
    response = client.post(f"/emulation/badges/rules/{found.id}/edit", data={
        "name": found.name, "description": found.description, "icon": found.icon, "active": "y", "param_weeks": "1",
    })
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "param_weeks") == [
        "Số tuần liên tiếp phải là một số từ 2 đến 52."
    ]
    response = client.post(f"/emulation/badges/rules/{found.id}/edit", data={
        "name": "Bền bỉ", "description": found.description, "icon": "🔥", "active": "y", "param_weeks": "6",
    })
    assert response.status_code == 302
    assert rule("round_streak").params == {"weeks": 6}
    rules_page = client.get("/emulation/badges/rules").get_data(as_text=True)
    assert "Dự thi 6 đợt thi tuần liên tiếp." in rules_page


def test_rules_are_for_admins_and_the_gallery_for_everyone(make, login, client):
    gallery = client.get("/emulation/badges/")
    assert gallery.status_code == 200
    page = gallery.get_data(as_text=True)
    for name in ("Về đích sớm nhất", "Chuyên cần", "Tổ dẫn đầu", "Bền bỉ", "Top 3"):
        assert name in page
    assert "Xếp hạng cá nhân từ 1 đến 3 trong một đợt thi." in page
    rule("podium").active = False
    db.session.flush()
    assert "Top 3" not in client.get("/emulation/badges/").get_data(as_text=True)
    login(make.user(RoleCode.ORGANISER, make.tree().province))
    assert client.get("/emulation/badges/rules").status_code == 403
    assert client.post(f"/emulation/badges/rules/{rule('podium').id}/edit", data={}).status_code == 403


def test_badges_partial_renders_awards(app, make, contest):
    tree = make.tree()
    round_, teams, _people = _four_teams(make, contest, tree)
    close(round_)
    with app.test_request_context():
        html = app.jinja_env.get_template("emulation/_badges.html").render(awards=badges.team_badges(teams[0]))
    assert "🏆" in html and "Tổ dẫn đầu" in html and "Tuần 1" in html


# --- two verifications at once (PostgreSQL, committed data in a database of the test's own) --------


@pytest.fixture
def race_app() -> Iterator[Flask]:
    if PG_UNAVAILABLE:
        pytest.skip(PG_UNAVAILABLE)
    name = f"{make_url(PG_URL).database}_badges_race"
    admin = sa.create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    application = create_app(make_config(make_url(PG_URL).set(database=name).render_as_string(hide_password=False)))
    try:
        with application.app_context():
            upgrade()
            db.session.remove()
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_two_verifications_at_once_award_one_team_of_the_commune(race_app):
    with race_app.app_context():
        make = Factory()
        tree = make.tree()
        teams = [make.team(tree.hamlet), make.team(tree.hamlet2)]
        officer = make.user(RoleCode.OFFICER, tree.commune)
        for team in teams:
            set_target(team, "vneid", 10)
        report_ids = [file(team, {"vneid": 10}, officer).id for team in teams]
        db.session.commit()
        team_ids, commune_id = [team.id for team in teams], tree.commune.id
        db.session.remove()

    first_done = threading.Event()
    failures: list[BaseException] = []

    def verify(report_id: int, wait: threading.Event | None, hold: float) -> None:
        try:
            with race_app.app_context():
                if wait is not None:
                    wait.wait(10)
                review(db.session.get(ActivityReport, report_id), ReportStatus.VERIFIED)
                if wait is None:
                    first_done.set()
                    time.sleep(hold)  # the second verification runs now, before this one commits
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=verify, args=(report_ids[0], None, 1.0)),
               threading.Thread(target=verify, args=(report_ids[1], first_done, 0))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    with race_app.app_context():
        assert holders("first_to_target") == [(f"t{team_ids[0]}", f"{MONTH}:vneid:c{commune_id}")]
        db.session.remove()


def test_a_rule_with_broken_params_is_skipped_without_stopping_the_closing(make, contest, login, client):
    tree = make.tree()
    round_, teams, _people = _four_teams(make, contest, tree)
    rule("podium").params = {"rank": "ba"}  # written outside the admin screen
    db.session.flush()
    close(round_)
    assert awards("podium") == []
    assert len(awards("team_podium")) == 3
    assert "Top 3" not in client.get("/emulation/badges/").get_data(as_text=True)
    login(make.admin())
    assert "Ngưỡng không hợp lệ" in client.get("/emulation/badges/rules").get_data(as_text=True)
    page = client.get(f"/emulation/badges/rules/{rule('podium').id}/edit").get_data(as_text=True)
    assert 'value="ba"' in page
