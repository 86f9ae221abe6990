"""Taking part in a round (competitions.play): who may, when, how often; entries; answers; reveal."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from competitions import play, play_demo
from competitions.models import AttemptPolicy, Entry, PredictionKind, Reveal, RoundStatus
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.demo import SHOWCASE_HAMLET
from core.errors import NotFound, PermissionDenied, ValidationError
from core.extensions import db
from core.teams.service import active_memberships
from quiz.attempts import AttemptOver
from quiz.models import Attempt, AttemptStatus
from tests.competitions.play_world import PER_ATTEMPT, PlayWorld, open_round, world_fixture  # noqa: F401


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _right(item) -> list[int]:  # noqa: ANN001 - an AttemptItem
    return [item.choice_order.index(i) for i in item.version.correct]


# --- who, when, how often --------------------------------------------------------------------------


def test_a_member_in_scope_starts_and_the_entry_keeps_the_team_of_that_day(world: PlayWorld):
    now = utcnow()
    attempt = play.start_attempt(world.member, world.round, now=now)
    assert len(attempt.items) == PER_ATTEMPT and attempt.status == AttemptStatus.IN_PROGRESS
    assert attempt.context == world.round.context and attempt.deadline_at == now + timedelta(minutes=10)
    entry = play.entry_of(world.member, world.round)
    assert (entry.team_id, entry.unit_id, entry.is_public, entry.prediction) == (
        world.team.id, world.tree.hamlet.id, False, None
    )


def test_the_deadline_never_passes_the_round_closing(world: PlayWorld):
    now = utcnow()
    round_ = open_round(world.tree.commune, closes_at=now + timedelta(minutes=2))
    assert play.start_attempt(world.member, round_, now=now).deadline_at == round_.closes_at


def test_a_second_start_returns_the_attempt_in_progress_until_its_deadline(world: PlayWorld):
    now = utcnow()
    first = play.start_attempt(world.member, world.round, now=now)
    again = play.start_attempt(world.member, world.round, now=now + timedelta(minutes=3))
    assert again.id == first.id and _count(Attempt) == 1
    # Abandoned past the deadline: closed with what was saved, and "once" means once.
    with pytest.raises(play.NotNow, match="chỉ được thi một lần"):
        play.start_attempt(world.member, world.round, now=now + timedelta(minutes=11))
    assert first.status == AttemptStatus.SUBMITTED and _count(Attempt) == 1


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("outside", "tổ của bạn không thuộc phạm vi"),
        ("teamless", "dành cho thành viên các Tổ CNSCĐ"),
        ("officer", "dành cho thành viên các Tổ CNSCĐ"),
    ],
)
def test_people_outside_the_round_are_refused_and_nothing_is_stored(world: PlayWorld, who: str, message: str):
    make, tree = world.make, world.tree
    person = {
        "outside": lambda: make.member(make.team(tree.other_hamlet), full_name="Lê Văn Tám").user,
        "teamless": lambda: make.user(RoleCode.MEMBER, tree.hamlet2, full_name="Phạm Văn Út"),
        "officer": lambda: make.user(RoleCode.OFFICER, tree.commune, full_name="Cán bộ xã"),
    }[who]()
    with pytest.raises(play.NotEligible) as refused:
        play.start_attempt(person, world.round)
    assert message in refused.value.message
    assert (_count(Attempt), _count(Entry)) == (0, 0)


def test_a_round_scoped_to_the_province_takes_teams_of_every_commune(world: PlayWorld):
    round_ = open_round(world.tree.province)
    person = world.make.member(world.make.team(world.tree.district_hamlet), full_name="Danh Sơn").user
    assert play.standing(person, round_).allowed
    assert not play.standing(person, world.round).allowed


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"opens_at": utcnow() + timedelta(hours=1)}, "chưa mở"),
        ({"opens_at": utcnow() - timedelta(days=2), "closes_at": utcnow() - timedelta(days=1)}, "đã kết thúc"),
        ({"status": RoundStatus.DRAFT}, "chưa được công bố"),
    ],
)
def test_only_a_published_open_round_starts(world: PlayWorld, values: dict, message: str):
    round_ = open_round(world.tree.commune, **values)
    with pytest.raises(play.NotNow, match=message):
        play.start_attempt(world.member, round_)
    assert _count(Attempt) == 0


def test_best_of_n_allows_n_attempts(world: PlayWorld):
    round_ = open_round(world.tree.commune, attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=2)
    for _ in range(2):
        play.submit(play.start_attempt(world.member, round_), round_)
    assert play.attempts_left(world.member, round_, utcnow()) == 0
    with pytest.raises(play.NotNow, match="hết 2 lượt"):
        play.start_attempt(world.member, round_)


def test_daily_best_allows_one_attempt_per_local_day(world: PlayWorld):
    # 17:00 UTC is midnight in Asia/Ho_Chi_Minh.
    round_ = open_round(
        world.tree.commune, attempt_policy=AttemptPolicy.DAILY_BEST,
        opens_at=datetime(2026, 3, 1, tzinfo=UTC), closes_at=datetime(2026, 3, 10, tzinfo=UTC),
    )
    late_evening = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)  # 23:30 local
    first = play.start_attempt(world.member, round_, now=late_evening)
    play.submit(first, round_, now=late_evening + timedelta(minutes=5))
    with pytest.raises(play.NotNow, match="ngày mai"):
        play.start_attempt(world.member, round_, now=datetime(2026, 3, 2, 16, 55, tzinfo=UTC))
    next_day = play.start_attempt(world.member, round_, now=datetime(2026, 3, 2, 17, 5, tzinfo=UTC))
    assert next_day.status == AttemptStatus.IN_PROGRESS and _count(Attempt) == 2
    last_day = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # 06:00 local on 10/3; the round closes at 07:00
    play.submit(play.start_attempt(world.member, round_, now=last_day - timedelta(hours=2)), round_, now=last_day)
    with pytest.raises(play.NotNow, match="ngày cuối"):
        play.start_attempt(world.member, round_, now=last_day)


# --- prediction ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [("1250", 1250), ("1.250", 1250), (" 1 250 ", 1250), (0, 0), (42, 42)])
def test_a_prediction_is_a_whole_number(raw: object, value: int):
    assert play.parse_prediction(raw) == value


@pytest.mark.parametrize("raw", [None, "", "-3", "12,5", "1.25", "abc", True, 3.5, -1, 10**9])
def test_anything_else_is_not_a_prediction(app, raw: object):
    with pytest.raises(ValidationError, match="số nguyên không âm") as refused:
        play.parse_prediction(raw)
    assert refused.value.field == "prediction"


def test_the_prediction_is_required_once_and_kept(world: PlayWorld):
    round_ = open_round(
        world.tree.commune, prediction_kind=PredictionKind.PARTICIPANTS,
        attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=3,
    )
    with pytest.raises(ValidationError) as missing:
        play.start_attempt(world.member, round_)
    assert missing.value.field == "prediction"
    play.submit(play.start_attempt(world.member, round_, prediction="1.250"), round_)
    play.start_attempt(world.member, round_, prediction=5)  # a later guess, knowing more, changes nothing
    assert play.entry_of(world.member, round_).prediction == 1250
    assert play.prediction_question(round_).startswith("Có bao nhiêu người")


# --- the public ----------------------------------------------------------------------------------------


def test_a_guest_registers_in_their_commune_and_takes_part_without_a_team(world: PlayWorld):
    round_ = open_round(world.tree.province, allow_public=True)
    communes = play.guest_communes(round_)
    assert world.tree.district_commune in communes and world.tree.hamlet not in communes
    guest = play.register_guest(round_, "Trần Văn Bảy", "+84 987 654 321", world.tree.other_commune.id)
    assert (guest.phone, guest.role_code, guest.unit_id, guest.password_hash) == (
        "0987654321", RoleCode.MEMBER, world.tree.other_commune.id, None,
    )
    play.start_attempt(guest, round_)
    entry = play.entry_of(guest, round_)
    assert (entry.team_id, entry.unit_id, entry.is_public) == (None, world.tree.other_commune.id, True)
    # Coming back on another phone: the same account, names compared without accents or case.
    users = _count(User)
    again = play.register_guest(round_, "tran van  BAY", "0987654321", world.tree.other_commune.id)
    assert again.id == guest.id and _count(User) == users


@pytest.mark.parametrize(
    ("name", "phone", "commune", "field", "message"),
    [
        ("Nguyễn Văn Khác", "member", "commune", "full_name", "họ tên khác"),
        ("Nguyễn Thị Thu", "member", "commune", "phone", "đăng nhập bằng mật khẩu"),
        ("Võ Văn Chín", "0987000111", "elsewhere", "commune_id", "Hãy chọn xã"),
        ("Võ Văn Chín", "0987000111", "hamlet", "commune_id", "Hãy chọn xã"),
        ("", "0987000111", "commune", "full_name", "Chưa nhập họ và tên"),
        ("Võ Văn Chín", "12345", "commune", "phone", "không hợp lệ"),
    ],
)
def test_guest_registration_refusals(world: PlayWorld, name, phone, commune, field, message):  # noqa: ANN001
    round_ = open_round(world.tree.commune, allow_public=True)
    units = {"commune": world.tree.commune, "elsewhere": world.tree.other_commune, "hamlet": world.tree.hamlet}
    users = _count(User)
    with pytest.raises(ValidationError, match=message) as refused:
        play.register_guest(round_, name, world.member.phone if phone == "member" else phone, units[commune].id)
    assert refused.value.field == field and _count(User) == users


def test_no_guests_in_a_members_only_round(world: PlayWorld):
    with pytest.raises(play.NotEligible):
        play.register_guest(world.round, "Võ Văn Chín", "0987000111", world.tree.commune.id)


def test_a_member_without_a_team_takes_a_public_round_for_their_commune(world: PlayWorld):
    round_ = open_round(world.tree.commune, allow_public=True)
    person = world.make.user(RoleCode.MEMBER, world.tree.hamlet2, full_name="Phạm Văn Út")
    assert play.standing(person, round_) == play.Standing(None, world.tree.commune)
    officer = world.make.user(RoleCode.OFFICER, world.tree.commune, full_name="Cán bộ xã")
    assert "cán bộ" in play.standing(officer, round_).reason


# --- answers ---------------------------------------------------------------------------------------------


def _answer(attempt: Attempt, item_id: object, choices: object, seq: object, now: datetime | None = None):  # noqa: ANN202
    return play.answer(attempt.user_id, attempt.id, item_id, choices, seq, now)


def _picks(attempt: Attempt) -> list[list[int]]:
    """What the attempt shows as picked (answers in Redis or in the database alike)."""
    return [item["selected"] for item in play.attempt_view(attempt, play.round_of(attempt))["items"]]


def test_answers_are_saved_by_display_position(world: PlayWorld, answer_store: str):
    attempt = play.start_attempt(world.member, world.round)
    item = attempt.items[0]
    wrong = [p for p in range(len(item.choice_order)) if p not in _right(item)][:1]
    assert _answer(attempt, item.id, _right(item), seq=1).positions == _right(item)
    assert _answer(attempt, item.id, wrong, seq=3).seq == 3
    kept = _answer(attempt, item.id, _right(item), seq=2)  # older, overtaken on the network: ignored
    assert (kept.seq, kept.positions) == (3, wrong)
    assert _picks(attempt)[0] == wrong
    assert play.submit(attempt, world.round)["score"] == 0
    assert item.answer_seq == 3 and item.selected != item.version.correct


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"item_id": "other"}, "item"),
        ({"choices": [9]}, "choices"),
        ({"choices": [-1]}, "choices"),
        ({"choices": "0"}, "choices"),
        ({"choices": [0, 1]}, "choices"),
        ({"seq": 0}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"item_id": True}, "item_id"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_stored(world: PlayWorld, change: dict, field: str, answer_store: str):
    mine = play.start_attempt(world.member, world.round)
    theirs = play.start_attempt(world.make.member(world.team, full_name="Lý Thị Mười").user, world.round)
    values = {"item_id": mine.items[0].id, "choices": [0], "seq": 1, **change}
    if values["item_id"] == "other":
        values["item_id"] = theirs.items[0].id
    with pytest.raises(ValidationError) as refused:
        _answer(mine, values["item_id"], values["choices"], values["seq"])
    assert refused.value.field == field and not isinstance(refused.value, AttemptOver)
    assert _picks(mine) == _picks(theirs) == [[]] * PER_ATTEMPT
    play.submit(mine, world.round)
    assert all(item.selected is None for item in mine.items)


def test_someone_elses_attempt_and_unknown_attempts_are_refused(world: PlayWorld, answer_store: str):
    mine = play.start_attempt(world.member, world.round)
    other = world.make.member(world.team, full_name="Lý Thị Mười").user
    with pytest.raises(PermissionDenied):
        play.answer(other.id, mine.id, mine.items[0].id, [0], 1)
    with pytest.raises(NotFound):
        play.answer(world.member.id, mine.id + 1000, mine.items[0].id, [0], 1)
    assert _picks(mine) == [[]] * PER_ATTEMPT


def test_no_answers_after_the_deadline_or_the_submission(world: PlayWorld, answer_store: str):
    attempt = play.start_attempt(world.member, world.round)
    late = attempt.deadline_at + timedelta(seconds=10)
    with pytest.raises(AttemptOver, match="hết giờ"):
        _answer(attempt, attempt.items[0].id, [0], 1, now=late)
    _answer(attempt, attempt.items[0].id, [0], 1, now=attempt.deadline_at + timedelta(seconds=1))  # grace
    play.submit(attempt, world.round)
    with pytest.raises(AttemptOver, match="đã nộp"):
        _answer(attempt, attempt.items[1].id, [0], 2)
    assert attempt.items[0].selected is not None and attempt.items[1].selected is None


@pytest.mark.parametrize("reveal", [Reveal.AFTER_CLOSE, Reveal.AFTER_SUBMIT])
def test_answers_are_revealed_as_the_round_says(world: PlayWorld, reveal: Reveal):
    round_ = open_round(world.tree.commune, reveal=reveal)
    attempt = play.start_attempt(world.member, round_)
    in_progress = play.attempt_view(attempt, round_)
    assert not in_progress["revealed"] and all("correct" not in i for i in in_progress["items"])
    submitted = play.submit(attempt, round_)
    assert submitted["revealed"] == (reveal == Reveal.AFTER_SUBMIT)
    assert all(("explanation" in i) == submitted["revealed"] for i in submitted["items"])
    after_close = play.attempt_view(attempt, round_, now=round_.closes_at + timedelta(minutes=1))
    assert after_close["revealed"] and all("correct" in i for i in after_close["items"])


def test_reading_a_due_attempt_closes_it(world: PlayWorld, answer_store: str):
    attempt = play.start_attempt(world.member, world.round)
    _answer(attempt, attempt.items[0].id, _right(attempt.items[0]), 1)
    state = play.attempt_view(attempt, world.round, now=attempt.deadline_at + timedelta(minutes=1))
    assert (state["status"], state["score"], state["round_id"]) == (AttemptStatus.SUBMITTED, 1, world.round.id)
    assert attempt.submitted_at == attempt.deadline_at


def test_round_of_names_only_round_attempts(world: PlayWorld):
    attempt = play.start_attempt(world.member, world.round)
    assert play.round_of(attempt) is world.round
    attempt.context = "contest:7"
    assert play.round_of(attempt) is None and play.round_of(None) is None


# --- the round page --------------------------------------------------------------------------------------


def test_overview_for_a_visitor_a_member_and_after_an_attempt(world: PlayWorld):
    assert play.overview(None, world.round).attempts == [] and not play.overview(None, world.round).can_start
    before = play.overview(world.member, world.round)
    assert before.can_start and before.blocker is None and before.standing.team == world.team
    attempt = play.start_attempt(world.member, world.round)
    during = play.overview(world.member, world.round)
    assert during.active is attempt and not during.can_start
    after = play.overview(world.member, world.round, now=attempt.deadline_at + timedelta(minutes=1))
    assert after.active is None and after.attempts == [attempt] and attempt.status == AttemptStatus.SUBMITTED
    assert "một lần" in after.blocker


def test_needs_prediction_only_before_the_first_start(world: PlayWorld):
    round_ = open_round(
        world.tree.commune, prediction_kind=PredictionKind.PERFECT_SCORES,
        attempt_policy=AttemptPolicy.BEST_OF_N, max_attempts=2,
    )
    assert play.overview(world.member, round_).needs_prediction
    play.submit(play.start_attempt(world.member, round_, prediction=3), round_)
    assert not play.overview(world.member, round_).needs_prediction


# --- the demo part ---------------------------------------------------------------------------------------


def test_the_demo_part_plays_the_latest_closed_round_and_the_open_one(world: PlayWorld):
    make, tree = world.make, world.tree
    assert tree.hamlet.name == SHOWCASE_HAMLET  # world.team is the showcase team: kept out of the open round
    make.fill(world.team, 3)
    neighbours = make.team(tree.hamlet2)
    make.fill(neighbours, 4)
    now = utcnow()
    open_round(tree.commune, opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=13))
    closed = open_round(
        tree.commune, attempt_policy=AttemptPolicy.DAILY_BEST, prediction_kind=PredictionKind.PARTICIPANTS,
        opens_at=now - timedelta(days=10), closes_at=now - timedelta(days=3),
    )
    assert not play_demo.DEMO_ATTEMPTS.present()
    play_demo.DEMO_ATTEMPTS.build(random.Random(1))
    assert play_demo.DEMO_ATTEMPTS.present()

    def attempts_in(round_):  # noqa: ANN001, ANN202
        return db.session.scalars(select(Attempt).where(Attempt.context == round_.context)).all()

    played = attempts_in(closed)
    assert len({a.user_id for a in played}) == 8 and len(played) >= 8  # everybody, some on two days
    assert all(a.status == AttemptStatus.SUBMITTED and closed.opens_at <= a.started_at < a.submitted_at
               <= closed.closes_at for a in played)
    assert all(e.prediction is not None for e in db.session.scalars(select(Entry).where(Entry.round_id == closed.id)))
    running = attempts_in(world.round)
    assert {a.user_id for a in running} == {m.user_id for m in active_memberships(neighbours)}
    assert all(a.status == AttemptStatus.SUBMITTED and a.submitted_at <= utcnow() for a in running)
