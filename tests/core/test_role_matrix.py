"""Every route, opened as every kind of user: allowed or refused, exactly as this table says.

The table is written out by hand on purpose: a new view that is not added here fails
``test_every_route_is_in_the_matrix``, so no later view can forget its permission check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from competitions.emulation import reports
from competitions.emulation.models import ActivityKind, BadgeRule, Scheme
from competitions.live import contests
from competitions.live.contests import ContestInput
from competitions.models import Entry, Round, Series
from competitions.prizes.models import Award, AwardOwner, AwardStatus, PrizeTier, Winner
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from core.teams import service as teams
from core.teams.models import TeamRole
from quiz import attempts, bank
from quiz.attempts import DrawRule

# The access policy does not depend on the database, and the scope rules behind it are tested on
# both databases in their own modules: the walk of every route as every role runs on SQLite only.
pytestmark = pytest.mark.parametrize("app", ["sqlite"], indirect=True)

ANON, MEMBER, LEADER, OFFICER, ELSEWHERE, ORGANISER, ADMIN = (
    "anonymous", "member", "leader", "officer", "officer_elsewhere", "organiser", "admin",
)
ROLES = (ANON, MEMBER, LEADER, OFFICER, ELSEWHERE, ORGANISER, ADMIN)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {ANON}
STAFF = frozenset({OFFICER, ELSEWHERE, ORGANISER, ADMIN})
STAFF_IN_SCOPE = frozenset({OFFICER, ORGANISER, ADMIN})
TEAM_MANAGERS = STAFF_IN_SCOPE | {LEADER}
BANK_USERS = frozenset({ORGANISER, ADMIN})

# endpoint -> who may open it. Object routes point at a team/unit in Xã Châu Thành, outside the
# scope of ELSEWHERE (an officer of Phường Rạch Giá).
MATRIX: dict[str, frozenset[str]] = {
    "main.index": EVERYONE,
    "main.set_language": EVERYONE,
    "main.health": EVERYONE,
    "accounts.login": EVERYONE,
    "accounts.logout": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    "org.units": STAFF,
    "org.unit_detail": STAFF_IN_SCOPE,
    "org.create_unit": frozenset({ADMIN}),
    "org.edit_unit": frozenset({ADMIN}),
    "org.move_unit": frozenset({ADMIN}),
    "org.deactivate_unit": frozenset({ADMIN}),
    "org.reactivate_unit": frozenset({ADMIN}),
    "teams.list_teams": SIGNED_IN,
    "teams.create_team": STAFF,
    "teams.team_detail": SIGNED_IN - {ELSEWHERE},
    "teams.edit_team": TEAM_MANAGERS,
    "teams.add_member": TEAM_MANAGERS,
    "teams.change_role": TEAM_MANAGERS,
    "teams.remove_member": TEAM_MANAGERS,
    "teams.approve_request": TEAM_MANAGERS,
    "teams.reject_request": TEAM_MANAGERS,
    "teams.request_join": frozenset({MEMBER, LEADER}),
    "teams.dissolve_team": STAFF_IN_SCOPE,
    "users.list_users": frozenset({ADMIN}),
    "users.create_user": frozenset({ADMIN}),
    "users.edit_user": frozenset({ADMIN}),
    "users.reset_password": frozenset({ADMIN}),
    "imports.members_upload": frozenset({OFFICER, ELSEWHERE, ADMIN}),
    "imports.members_template": frozenset({OFFICER, ELSEWHERE, ADMIN}),
    "imports.members_confirm": frozenset({OFFICER, ELSEWHERE, ADMIN}),
    "imports.units_upload": frozenset({ADMIN}),
    "imports.units_template": frozenset({ADMIN}),
    "imports.units_confirm": frozenset({ADMIN}),
    # question bank: the answers are in it, so Department staff and Youth Union organisers only
    "quiz.bank": BANK_USERS,
    "quiz.bulk_review": frozenset({ADMIN}),
    "quiz.question_new": BANK_USERS,
    "quiz.question_detail": BANK_USERS,
    "quiz.question_version": BANK_USERS,
    "quiz.question_edit": frozenset({ADMIN}),  # the organiser did not write this draft
    "quiz.question_review": frozenset({ADMIN}),
    "quiz.categories": frozenset({ADMIN}),
    "quiz.category_new": frozenset({ADMIN}),
    "quiz.category_edit": frozenset({ADMIN}),
    "quiz.import_upload": BANK_USERS,
    "quiz.import_confirm": BANK_USERS,
    "quiz.import_template": BANK_USERS,
    "quiz.export_page": frozenset({ADMIN}),
    "quiz.export_download": frozenset({ADMIN}),
    "quiz.stats_download": frozenset({ADMIN}),
    # rounds: the world's round is a closed round of a season scoped to Xã Châu Thành
    "rounds.list_rounds": SIGNED_IN,
    "rounds.create_round": STAFF,
    "rounds.create_series": STAFF,
    "rounds.edit_round": STAFF_IN_SCOPE,
    "rounds.publish_round": STAFF_IN_SCOPE,
    "rounds.unpublish_round": STAFF_IN_SCOPE,
    "rounds.series_detail": STAFF_IN_SCOPE,
    "rounds.publish_series": STAFF_IN_SCOPE,
    "play.round_page": EVERYONE,
    "play.register": EVERYONE,  # the round takes guests; a signed-in person is sent to the round page
    "play.take": SIGNED_IN,  # with nothing in progress it sends back to the round page
    "api.start": SIGNED_IN,  # the round is closed: 409 for everyone (who may play: tests/competitions/test_play.py)
    "api.state": frozenset({MEMBER}),  # the attempt's owner only
    "api.save_answer": frozenset({MEMBER}),
    "api.submit": frozenset({MEMBER}),
    "results.round_results": SIGNED_IN - {ELSEWHERE},
    # the round's live board: public once the round is published (its closed round here)
    "boards.board": EVERYONE,
    "boards.projector": EVERYONE,
    "results.export_round": STAFF_IN_SCOPE,
    "results.round_stats": STAFF_IN_SCOPE,
    "results.me_results": SIGNED_IN,
    "results.series_standings": SIGNED_IN - {ELSEWHERE},
    "results.export_series": STAFF_IN_SCOPE,
    # live contests: the world's contest is a draft hosted by the officer of Xã Châu Thành
    "live.contests_list": STAFF,
    "live.create_contest": STAFF,
    "live.contest_detail": STAFF_IN_SCOPE,
    "live.launch": STAFF_IN_SCOPE,
    "live.host": STAFF_IN_SCOPE,  # a draft: sent back to the contest's page
    "live.export_results": STAFF_IN_SCOPE,
    "live.enter_pin": EVERYONE,
    "live.join": EVERYONE,  # without a PIN: sent back to the PIN page
    # emulation: the world's team is in Ấp Phước Lợi (Xã Châu Thành); its leader filed one report
    "activities.list_activities": frozenset({ADMIN}),
    "activities.create_activity": frozenset({ADMIN}),
    "activities.edit_activity": frozenset({ADMIN}),
    "activities.toggle_activity": frozenset({ADMIN}),
    "targets.index": STAFF,
    "targets.grid": STAFF_IN_SCOPE,
    "targets.export": STAFF_IN_SCOPE,
    "targets.import_upload": STAFF_IN_SCOPE,
    "targets.import_confirm": STAFF,  # without a preview: sent back to the targets page
    "progress.index": SIGNED_IN,
    "progress.unit_page": STAFF_IN_SCOPE,
    "progress.team_page": SIGNED_IN - {ELSEWHERE},
    "reports.my_team": SIGNED_IN,
    "reports.team_reports": STAFF_IN_SCOPE | {MEMBER, LEADER},
    "reports.file_report": frozenset({LEADER}),
    "reports.correct_report": frozenset({LEADER}),
    "reports.report_page": STAFF_IN_SCOPE | {MEMBER, LEADER},
    "reports.photo": STAFF_IN_SCOPE | {MEMBER, LEADER},
    "reports.verify": STAFF_IN_SCOPE,
    "reports.reject": STAFF_IN_SCOPE,
    "reports.queue": STAFF,
    "schemes.current": SIGNED_IN,
    "schemes.version": SIGNED_IN,
    "schemes.create": frozenset({ADMIN}),
    "emulation.standings_page": SIGNED_IN,
    "emulation.team_page": SIGNED_IN - {ELSEWHERE},
    "badges.gallery": EVERYONE,
    "badges.rules": frozenset({ADMIN}),
    "badges.edit_rule": frozenset({ADMIN}),
    "emulation_exports.downloads": STAFF,
    "emulation_exports.commune_report": STAFF_IN_SCOPE,
    "emulation_exports.compiled_report": frozenset({ORGANISER, ADMIN}),
    # prizes: the world's award is the closed round's, published, won by MEMBER
    "awards.list_awards": STAFF,
    "awards.new_award": STAFF,
    "awards.edit_award": STAFF_IN_SCOPE,
    "award_review.review": STAFF_IN_SCOPE,
    "award_review.exclude": STAFF_IN_SCOPE,
    "award_review.withdraw": STAFF_IN_SCOPE,
    "award_review.settle_tie": STAFF_IN_SCOPE,
    "award_review.approve": frozenset({ADMIN}),
    "award_review.reopen": frozenset({ADMIN}),
    "award_review.publish": STAFF_IN_SCOPE,
    "award_outputs.outputs": STAFF_IN_SCOPE,
    "award_outputs.all_certificates": STAFF_IN_SCOPE,
    "award_outputs.certificates_zip": STAFF_IN_SCOPE,
    "award_outputs.winners_list": STAFF_IN_SCOPE,
    "award_outputs.certificate": STAFF_IN_SCOPE | {MEMBER},  # the winner's own, once published
    "prize_results.index": EVERYONE,
    "prize_results.page": EVERYONE,
    "prize_results.notifications_page": SIGNED_IN,
}


@dataclass
class World:
    users: dict[str, object]
    params: dict[str, int | str]


@pytest.fixture
def world(make) -> World:
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER, full_name="Võ Văn Lâm")
    member = make.member(team, TeamRole.MEMBER, full_name="Huỳnh Thị Mai")
    applicant = make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Đặng Văn Phúc")
    request = teams.request_to_join(team, applicant)
    users = {
        MEMBER: member.user,
        LEADER: leader.user,
        OFFICER: make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ Châu Thành"),
        ELSEWHERE: make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán bộ Rạch Giá"),
        ORGANISER: make.user(RoleCode.ORGANISER, tree.province, full_name="Tỉnh đoàn"),
        ADMIN: make.user(RoleCode.ADMIN, None, full_name="Sở KH&CN", username="so.khcn"),
    }
    author = make.user(RoleCode.ORGANISER, tree.province, full_name="Người soạn khác")
    question = bank.create_question(_question_input(), author)
    round_, attempt = _closed_round(tree, member.user)
    contest = contests.create_contest(ContestInput("Thi trực tiếp thử", draw=[DrawRule(2)]), users[OFFICER])
    award, winner = _published_award(round_, member.user)
    vneid = db.session.scalar(select(ActivityKind.id).where(ActivityKind.code == "vneid"))
    report = reports.file_report(team, reports.fileable_months()[0], {vneid: 5}, leader.user)
    params = {
        "unit_id": tree.hamlet.id, "team_id": team.id, "user_id": member.user_id, "code": "en",
        "membership_id": request.id, "question_id": question.id, "number": 1,
        "category_id": question.category_id, "round_id": round_.id, "series_id": round_.series_id,
        "attempt_id": attempt.id, "kind": "individuals", "board": f"{round_.context}:teams",
        "contest_id": contest.id, "kind_id": vneid, "action": "reactivate", "report_id": report.id,
        "name": "ab/ab000000000000000000000000000000.jpg",
        "scheme_id": db.session.scalar(select(Scheme.id).where(Scheme.version == 1)),
        "rule_id": db.session.scalar(select(BadgeRule.id)), "commune_id": tree.commune.id,
        "area_id": tree.province.id, "month": "2025-03", "award_id": award.id, "winner_id": winner.id,
    }
    return World(users, params)


def _published_award(round_: Round, winner: object) -> tuple[Award, Winner]:
    """The round's prizes, decided and published: ``winner`` won the only one."""
    tier = PrizeTier(audience="individual", label="Giải Nhất", count=1, position=0)
    award = Award(title="Giải thưởng thử", owner=AwardOwner.ROUND, round_id=round_.id,
                  scope_unit_id=round_.scope_unit_id, status=AwardStatus.PUBLISHED, tiers=[tier])
    db.session.add(award)
    db.session.flush()
    won = Winner(award_id=award.id, tier_id=tier.id, position=1, subject=f"p{winner.id}", user_id=winner.id,
                 name=winner.full_name, rank=1)
    db.session.add(won)
    db.session.flush()
    return award, won


def _closed_round(tree, player):  # noqa: ANN001, ANN202 - test helper
    """A published season in Xã Châu Thành whose round closed yesterday, with one attempt by ``player``."""
    for n in range(3):
        bank.create_question(
            bank.QuestionInput(text=f"Câu hỏi đợt thi {n}?", choices=["Có", "Không"], correct=[0],
                               category_id=bank.categories()[0].id, difficulty="easy"),
            None, status="approved",
        )
    now = utcnow()
    series = Series(title="Mùa thi thử", period_kind="weekly", scope_unit_id=tree.commune.id)
    round_ = Round(
        title="Tuần 1", opens_at=now - timedelta(days=2), closes_at=now - timedelta(days=1), allow_public=True,
        scope_unit_id=tree.commune.id, draw_plan=[{"count": 3}], status="published", published_at=now, series=series,
    )
    db.session.add(round_)
    db.session.flush()
    started = round_.opens_at + timedelta(hours=1)
    attempt = attempts.start(player, round_.context, [DrawRule(3)], started + timedelta(minutes=10), started)
    attempts.close(attempt, started + timedelta(minutes=2))
    membership = teams.active_membership_of(player)
    db.session.add(Entry(round=round_, user=player, team_id=membership.team_id, unit_id=membership.team.unit_id))
    db.session.flush()
    return round_, attempt


def _question_input() -> bank.QuestionInput:
    return bank.QuestionInput(
        text="Ngày Chuyển đổi số quốc gia là ngày nào?", choices=["10/10", "2/9"], correct=[0],
        category_id=bank.categories()[0].id, difficulty="easy",
    )


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(MATRIX), "add new routes to MATRIX with who may open them"


# Well-formed bodies where the API checks the body before the caller (a malformed one is 400 for
# everyone), so that the answer is about who may.
API_BODIES = {"api.save_answer": {"item_id": 1, "choices": [0], "seq": 1}}


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, client, login, world, endpoint, role):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    params = {name: world.params[name] for name in rule.arguments}
    if "membership_id" in rule.arguments and endpoint in ("teams.change_role", "teams.remove_member"):
        params["membership_id"] = teams.active_membership_of(world.users[MEMBER]).id
    url = app.url_for(endpoint, _external=False, **params)
    if role != ANON:
        login(world.users[role])
    method = "GET" if "GET" in rule.methods else "POST"
    if method == "GET":
        response = client.open(url, method=method)
    elif rule.rule.startswith("/api/"):
        response = client.open(url, method=method, json=API_BODIES.get(endpoint, {}))
    else:
        response = client.open(url, method=method, data={"role": "member"})

    refused_to_anonymous = response.status_code == 401 or (
        response.status_code == 302 and "/login" in response.headers.get("Location", "")
    )
    refused = response.status_code == 403 or (role == ANON and refused_to_anonymous and endpoint != "accounts.login")
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if role in MATRIX[endpoint]:
        assert not refused, f"{role} should open {method} {url}, got {response.status_code}"
    else:
        assert refused, f"{role} should be refused {method} {url}, got {response.status_code}"
        if role != ANON:
            assert response.status_code == 403
