"""The demo province (`flask demo load`, `flask demo accounts`)."""

from __future__ import annotations

import hashlib
from collections import Counter

from flask import Flask
from sqlalchemy import select

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.accounts.service import find_by_login
from core.demo import DEMO_PASSWORD, PROVINCE, demo_accounts, find_province
from core.org.models import COMMUNE_LEVEL, Unit, UnitKind
from core.phone import normalise_phone
from core.teams.models import Membership, MembershipStatus, Team, TeamRole
from core.teams.service import default_team_name


def _run(app: Flask, command: str) -> str:
    result = app.test_cli_runner().invoke(args=["demo", command])
    assert result.exit_code == 0, result.output
    return result.output


def _demo_units(session) -> list[Unit]:
    province = find_province()
    return list(session.scalars(select(Unit).where(Unit.path.startswith(province.path))))


def _demo_teams(session) -> list[Team]:
    unit_ids = [u.id for u in _demo_units(session)]
    return list(session.scalars(select(Team).where(Team.unit_id.in_(unit_ids))))


def _demo_users(session) -> list[User]:
    unit_ids = [u.id for u in _demo_units(session)]
    return list(session.scalars(select(User).where(User.unit_id.in_(unit_ids))))


def _digest(session) -> str:
    """Everything the demo generated that must not vary between loads (ids and times excluded)."""
    units = [(u.name, u.kind, u.parent.name if u.parent else "") for u in _demo_units(session)]
    teams = _demo_teams(session)
    team_rows = [(t.name, t.unit.name, t.group_link or "") for t in teams]
    users = [(u.full_name, u.phone or "", u.username or "", u.role_code, u.unit.name) for u in _demo_users(session)]
    memberships = [
        (m.team.name, m.user.login_name, m.role, m.status)
        for m in session.scalars(select(Membership).where(Membership.team_id.in_([t.id for t in teams])))
    ]
    data = repr([sorted(units), sorted(team_rows), sorted(users), sorted(memberships)])
    return hashlib.sha256(data.encode()).hexdigest()


def test_load_builds_the_demo_province(app, session):
    # One load checked three ways: loading costs most of the time of these tests.
    assert "Demo loaded" in _run(app, "load")
    _check_tree(session)
    _check_teams(app, session)
    _check_people(session)


def _check_tree(session) -> None:
    units = _demo_units(session)
    kinds = Counter(u.kind_enum for u in units)
    communes = [u for u in units if u.kind_enum in COMMUNE_LEVEL]
    assert kinds[UnitKind.PROVINCE] == 1 and kinds[UnitKind.DISTRICT] == 1
    assert len(communes) >= 6 and kinds[UnitKind.HAMLET] >= 30 and kinds[UnitKind.ENTERPRISE] == 1
    parent_kinds = {c.parent.kind_enum for c in communes}
    assert parent_kinds == {UnitKind.PROVINCE, UnitKind.DISTRICT}  # with and without the district level
    assert UnitKind.SPECIAL_ZONE in kinds  # đặc khu is commune-level


def _check_teams(app, session) -> None:
    teams = _demo_teams(session)
    assert len(teams) >= 31
    assert sum(t.unit.kind_enum == UnitKind.ENTERPRISE for t in teams) == 1
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in {t.name for t in teams}
    assert all(t.name == default_team_name(t.unit) for t in teams)
    assert all(t.group_link.startswith("https://zalo.me/g/") for t in teams)

    config = app.config
    memberships = list(session.scalars(select(Membership).where(Membership.team_id.in_([t.id for t in teams]))))
    active = [m for m in memberships if m.status == MembershipStatus.ACTIVE]
    sizes = Counter(m.team_id for m in active)
    roles = Counter((m.team_id, m.role) for m in active)
    for team in teams:
        assert roles[team.id, TeamRole.LEADER] == 1, team.name
        assert roles[team.id, TeamRole.DEPUTY] <= 1, team.name
        assert 1 <= sizes[team.id] <= config["TEAM_MAX_MEMBERS"], team.name
    assert 1 <= sum(sizes[t.id] < config["TEAM_MIN_MEMBERS"] for t in teams) <= 2  # the warning shows
    statuses = Counter(m.status for m in memberships)
    assert statuses[MembershipStatus.PENDING] >= 2 and statuses[MembershipStatus.LEFT] >= 1
    left = next(m for m in memberships if m.status == MembershipStatus.LEFT)
    assert left.joined_at < left.left_at


def _check_people(session) -> None:
    users = _demo_users(session)
    assert {u.role_code for u in users} == set(RoleCode)  # an account for every role
    phones = [u.phone for u in users if u.role_code == RoleCode.MEMBER]
    assert 180 <= len(phones) <= 220
    assert all(normalise_phone(phone) == phone for phone in phones)
    assert len(set(phones)) == len(phones)


def test_load_is_idempotent_and_deterministic(app, session):
    connection = session.get_bind()
    savepoint = connection.begin_nested()  # lets the test empty the database again
    _run(app, "load")
    first = _digest(session)
    assert "already exists" in _run(app, "load")
    assert _digest(session) == first  # the second load changed nothing

    session.close()
    savepoint.rollback()
    assert find_province() is None
    _run(app, "load")
    assert _digest(session) == first  # the same data in another empty database


def test_every_demo_account_signs_in(app, client):
    _run(app, "load")
    output = _run(app, "accounts")
    rows = demo_accounts()
    assert [r.role_en for r in rows] == [
        "Admin (Department staff)", "Organiser (provincial Youth Union)", "Organiser (commune Youth Union)",
        "Officer (commune staff)", "Team leader", "Team member",
    ]
    assert {"admin", "tinhdoan", "canbo.chauthanh"} <= {r.login for r in rows}
    for row in rows:
        assert row.login in output and DEMO_PASSWORD in output
        user = find_by_login(row.login)
        response = client.post("/login", data={"login": row.login, "password": DEMO_PASSWORD})
        assert response.status_code == 302, row
        with client.session_transaction() as cookie_session:
            assert cookie_session["_user_id"] == str(user.id), row
        # Signing out also clears flask.g, which the test requests share with the test's app context.
        assert client.post("/logout").status_code == 302


def test_accounts_needs_the_demo(app, session):
    result = app.test_cli_runner().invoke(args=["demo", "accounts"])
    assert result.exit_code != 0 and "flask demo load" in result.output
    assert PROVINCE not in result.output
