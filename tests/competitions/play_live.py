"""Rounds for the tests that take a quiz against a real server process.

``python -m tests.competitions.play_live`` (DATABASE_URL, SECRET_KEY in the environment) migrates
the database and adds, once, a commune with a team whose member ``MEMBER_PHONE`` signs in with
``PASSWORD``, approved questions and a published round open now; ``--browser PHONE`` instead
finds, in a database with the demo loaded, an open round that the showcase member with this phone
may take and has not started yet, and creates one if there is none; ``--closing-in SECONDS`` adds
a demo round that closes that soon. Each prints the round's id.
"""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

import requests
from flask_migrate import upgrade
from sqlalchemy import exists, select

from competitions.models import PredictionKind, Reveal, Round, RoundStatus
from core.accounts import service as accounts
from core.accounts.models import User
from core.app import create_app
from core.db_types import utcnow
from core.demo import SHOWCASE_HAMLET, find_province
from core.extensions import db
from core.org import service as org
from core.org.models import Unit, UnitKind
from core.teams import service as teams
from quiz import bank
from quiz.attempts import DrawRule
from quiz.models import Attempt, Difficulty, QuestionStatus
from tests.competitions.play_world import open_round

MEMBER_PHONE = "0987123456"
PASSWORD = "live-play-password"  # noqa: S105 - test-only account
QUESTIONS = 5


def _round(scope: Unit, questions: int, **values: object) -> Round:
    named = {"title": "Đợt thi thử trên điện thoại", **values}
    return open_round(scope, draw_plan=[DrawRule(questions).as_dict()], **named)


def sign_in(base: str) -> requests.Session:
    """A browser-like session of a real server, signed in as the prepared member."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}/login").text)[1]
    response = http.post(
        f"{base}/login", data={"csrf_token": token, "login": MEMBER_PHONE, "password": PASSWORD}, allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:300]
    return http


def api_token(http: requests.Session, base: str, round_id: int) -> str:
    """The CSRF token the round page gives its scripts for the JSON API."""
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', http.get(f"{base}/rounds/{round_id}").text)[1]


def prepare_members_round() -> int:
    upgrade()
    member = db.session.scalar(select(User).where(User.phone == MEMBER_PHONE))
    if member is not None:
        return db.session.scalar(select(Round.id).order_by(Round.id).limit(1))
    province = org.create_unit("Tỉnh Thử Nghiệm", UnitKind.PROVINCE, None)
    commune = org.create_unit("Xã Thử Nghiệm", UnitKind.COMMUNE, province)
    team = teams.create_team(org.create_unit("Ấp Thử Nghiệm", UnitKind.HAMLET, commune))
    member = accounts.create_user("Nguyễn Văn Thử", unit=team.unit, phone=MEMBER_PHONE, password=PASSWORD)
    teams.add_member(team, member)
    category = bank.find_category("Chính quyền số")
    for n in range(QUESTIONS + 1):
        data = bank.QuestionInput(
            text=f"Câu hỏi kiểm thử số {n}?", choices=["Một", "Hai", "Ba"], correct=[n % 3],
            category_id=category.id, difficulty=Difficulty.EASY,
        )
        bank.create_question(data, None, status=QuestionStatus.APPROVED)
    return _round(commune, QUESTIONS).id


def showcase_round(phone: str) -> int:
    """An open round the showcase team takes part in and this member of it has not started yet."""
    now = utcnow()
    member = db.session.scalar(select(User).where(User.phone == phone))
    showcase = db.session.scalar(select(Unit).where(Unit.name == SHOWCASE_HAMLET))
    candidates = db.session.scalars(
        select(Round).where(
            Round.status == RoundStatus.PUBLISHED, Round.opens_at <= now,
            Round.closes_at > now + timedelta(minutes=30),  # time enough for the test
        ).order_by(Round.id)
    )
    for round_ in candidates:
        started = exists().where(Attempt.context == round_.context, Attempt.user_id == member.id)
        if showcase.path.startswith(round_.scope_unit.path) and not db.session.scalar(select(started)):
            return round_.id
    return _round(find_province(), 10, prediction_kind=PredictionKind.PARTICIPANTS, reveal=Reveal.AFTER_SUBMIT).id


def closing_round(seconds: int) -> int:
    """A round of the demo province that closes in ``seconds``: its attempts end with it."""
    return _round(find_province(), 10, title="Đợt thi sắp đóng", closes_at=utcnow() + timedelta(seconds=seconds)).id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--browser", metavar="PHONE", help="the showcase member who will take the quiz")
    parser.add_argument("--closing-in", metavar="SECONDS", type=int, help="a demo round closing this soon")
    args = parser.parse_args()
    with create_app().app_context():
        if args.closing_in:
            round_id = closing_round(args.closing_in)
        else:
            round_id = showcase_round(args.browser) if args.browser else prepare_members_round()
        db.session.commit()
    print(round_id)  # noqa: T201 - read by the test


if __name__ == "__main__":
    main()
