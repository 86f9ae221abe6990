"""A live contest for the browser test, in a database with the demo loaded (the live server's).

``python -m tests.competitions.live_prepare`` (DATABASE_URL, SECRET_KEY in the environment) creates,
as the demo's provincial organiser, a team contest that admits guests: three approved single-answer
questions of four choices, a minute each (the players answer long before the server's timer runs
out). It is left as a draft: the test launches it from the organiser's page, so that the game state
lives in the server process. Prints the contest's id.
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from competitions.demo import HOST
from competitions.live import contests
from competitions.live.contests import ContestInput
from competitions.live.models import ContestMode, LiveContest
from core.accounts.models import User
from core.app import create_app
from core.extensions import db
from quiz.models import Question, QuestionKind, QuestionStatus, QuestionVersion

QUESTIONS = 3
SECONDS = 60
TITLE = "Thi trực tiếp kiểm thử trên trình duyệt"


def prepare() -> int:
    host = db.session.scalar(select(User).where(User.username == HOST))
    versions = db.session.scalars(
        select(QuestionVersion).join(Question, Question.current_version_id == QuestionVersion.id)
        .where(Question.status == QuestionStatus.APPROVED, QuestionVersion.kind == QuestionKind.SINGLE)
        .order_by(Question.id)
    )
    picked = [v.question_id for v in versions if len(v.choices) == 4][:QUESTIONS]
    data = ContestInput(TITLE, ContestMode.TEAM, SECONDS, allow_guests=True, question_ids=picked)
    return contests.create_contest(data, host).id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--launch", action="store_true", help="also open the lobby (game state in REDIS_URL)")
    args = parser.parse_args()
    with create_app().app_context():
        contest_id = prepare()
        pin = contests.launch(db.session.get(LiveContest, contest_id), db.session.scalar(
            select(User).where(User.username == HOST))) if args.launch else ""
        db.session.commit()
    print(contest_id, pin)  # noqa: T201 - read by the tests


if __name__ == "__main__":
    main()
