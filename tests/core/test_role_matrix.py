"""Every route, opened as every kind of user: allowed or refused, exactly as this table says.

The table is written out by hand on purpose: a new view that is not added here fails
``test_every_route_is_in_the_matrix``, so no later view can forget its permission check.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.accounts.roles import RoleCode
from core.teams import service as teams
from core.teams.models import TeamRole
from quiz import bank

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
    params = {
        "unit_id": tree.hamlet.id, "team_id": team.id, "user_id": member.user_id, "code": "en",
        "membership_id": request.id, "question_id": question.id, "number": 1,
        "category_id": question.category_id,
    }
    return World(users, params)


def _question_input() -> bank.QuestionInput:
    return bank.QuestionInput(
        text="Ngày Chuyển đổi số quốc gia là ngày nào?", choices=["10/10", "2/9"], correct=[0],
        category_id=bank.categories()[0].id, difficulty="easy",
    )


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints == set(MATRIX), "add new routes to MATRIX with who may open them"


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
    response = client.open(url, method=method, data={"role": "member"} if method == "POST" else None)

    refused_to_anonymous = response.status_code == 302 and "/login" in response.headers.get("Location", "")
    refused = response.status_code == 403 or (role == ANON and refused_to_anonymous and endpoint != "accounts.login")
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if role in MATRIX[endpoint]:
        assert not refused, f"{role} should open {method} {url}, got {response.status_code}"
    else:
        assert refused, f"{role} should be refused {method} {url}, got {response.status_code}"
        if role != ANON:
            assert response.status_code == 403
