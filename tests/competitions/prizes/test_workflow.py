"""The prize decision (competitions.prizes.workflow): exclusions, tie decisions, approval (not before
closing, not with a tie, once only, one of two concurrent admins), stale forms, reopening, publishing
(notifications, board labels) and the audit log. The world: tests/competitions/prizes/worlds_workflow.py."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import func, select, update

from competitions import board_feed
from competitions.prizes import notifications, workflow
from competitions.prizes.models import Award, AwardEvent, AwardStatus, Exclusion, Notification, TieDecision, Winner
from competitions.prizes.proposal import LineStatus, propose
from core.accounts.models import User
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from leaderboard import changes, service
from tests.competitions.prizes.worlds_workflow import AFTER, BEFORE, World, build
from tests.factories import Factory
from tests.race import race_database

STALE = "vừa được người khác thay đổi"


@pytest.fixture
def w(make: Factory) -> World:
    return build(make)


@pytest.fixture
def plain(make: Factory) -> World:
    """No tie: Bình (70 s) ahead of Cường (90 s)."""
    return build(make, tie=False)


def status_of(world: World, name: str) -> tuple[str, str]:
    line = next(line for line in propose(world.award, AFTER).lines if line.subject == world.p(name))
    return line.status, line.tier_label


def actions(award: Award) -> list[str]:
    return list(db.session.scalars(select(AwardEvent.action).where(AwardEvent.award_id == award.id)
                                   .order_by(AwardEvent.id)))


def count(model: type, award: Award) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(model.award_id == award.id))


def settle(world: World, actor: User | None = None) -> TieDecision:
    return workflow.settle_tie(world.award, world.tier("Giải Nhì").id, "pick", [world.p("Cường")],
                               "Hội đồng chọn theo bài dự đoán", actor or world.officer, now=AFTER)


def approved(world: World) -> Award:
    settle(world)
    return workflow.approve(world.award, world.admin, now=AFTER)


# --- exclusions ----------------------------------------------------------------------------------


def test_excluding_needs_a_reason_and_writes_nothing_without_one(plain: World):
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            workflow.exclude(plain.award, plain.p("An"), reason, plain.officer, now=AFTER)
        assert error.value.field == "reason"
    assert (count(Exclusion, plain.award), count(AwardEvent, plain.award), plain.award.version) == (0, 0, 1)
    assert status_of(plain, "An") == (LineStatus.WINNER, "Giải Nhất")


def test_excluding_a_winner_moves_the_next_in_line_up(plain: World):
    assert [status_of(plain, n) for n in ("An", "Bình", "Cường")] == [
        (LineStatus.WINNER, "Giải Nhất"), (LineStatus.WINNER, "Giải Nhì"), (LineStatus.NEXT, ""),
    ]
    exclusion = workflow.exclude(plain.award, plain.p("An"), "Dùng hai tài khoản", plain.officer, now=AFTER)

    assert (exclusion.reason, exclusion.actor_id, exclusion.active) == ("Dùng hai tài khoản", plain.officer.id, True)
    assert status_of(plain, "An") == (LineStatus.EXCLUDED, "")
    assert [status_of(plain, n) for n in ("Bình", "Cường")] == [
        (LineStatus.WINNER, "Giải Nhất"), (LineStatus.WINNER, "Giải Nhì"),
    ]
    assert plain.award.version == 2
    event = db.session.scalar(select(AwardEvent).where(AwardEvent.award_id == plain.award.id))
    assert (event.action, event.reason, event.actor_id) == ("excluded", "Dùng hai tài khoản", plain.officer.id)
    assert event.detail["name"] == "Nguyễn Văn An" and event.detail["tier"] == "Giải Nhất"


def test_only_candidates_of_the_proposal_can_be_excluded_and_only_once(plain: World, make: Factory):
    stranger = make.user(full_name="Người Ngoài")
    with pytest.raises(ValidationError, match="không có trong danh sách đề xuất"):
        workflow.exclude(plain.award, f"p{stranger.id}", "Không thi", plain.officer, now=AFTER)
    workflow.exclude(plain.award, plain.p("Dũng"), "Gian lận", plain.officer, now=AFTER)
    with pytest.raises(ValidationError, match="đã bị loại"):
        workflow.exclude(plain.award, plain.p("Dũng"), "Gian lận lần nữa", plain.officer, now=AFTER)
    assert count(Exclusion, plain.award) == 1


def test_withdrawing_an_exclusion_puts_the_candidate_back_and_keeps_the_history(plain: World):
    workflow.exclude(plain.award, plain.p("An"), "Nghi gian lận", plain.officer, now=AFTER)
    workflow.withdraw_exclusion(plain.award, plain.p("An"), plain.officer, reason="Đã xác minh", now=AFTER)

    assert status_of(plain, "An") == (LineStatus.WINNER, "Giải Nhất")
    assert status_of(plain, "Cường") == (LineStatus.NEXT, "")
    assert [e.active for e in plain.award.exclusions] == [False]
    assert actions(plain.award) == ["excluded", "restored"] and plain.award.version == 3
    with pytest.raises(ValidationError, match="hiện không bị loại"):
        workflow.withdraw_exclusion(plain.award, plain.p("An"), plain.officer, now=AFTER)


def test_review_steps_are_for_staff_who_manage_the_award(plain: World):
    for outsider in (plain.elsewhere, plain.people["An"]):
        with pytest.raises(PermissionDenied):
            workflow.exclude(plain.award, plain.p("Dũng"), "Lý do", outsider, now=AFTER)
    assert count(Exclusion, plain.award) == 0


# --- ties ----------------------------------------------------------------------------------------


def test_a_tie_blocks_approval_until_staff_decide(w: World):
    assert status_of(w, "Bình") == status_of(w, "Cường") == (LineStatus.TIED, "Giải Nhì")
    with pytest.raises(ValidationError, match="đồng hạng"):
        workflow.approve(w.award, w.admin, now=AFTER)
    assert (w.award.status, count(Winner, w.award), count(AwardEvent, w.award)) == ("draft", 0, 0)


def test_settling_a_tie_by_adding_a_prize(w: World):
    workflow.settle_tie(w.award, w.tier("Giải Nhì").id, "add", [], "Cùng điểm, cùng thời gian", w.officer, now=AFTER)
    assert status_of(w, "Bình") == status_of(w, "Cường") == (LineStatus.WINNER, "Giải Nhì")
    assert propose(w.award, AFTER).ties == []
    decision = w.award.tie_decisions[0]
    assert (decision.decision, sorted(decision.tied), decision.picked) == (
        "add", sorted([w.p("Bình"), w.p("Cường")]), [],
    )


def test_settling_a_tie_by_picking(w: World):
    settle(w)
    assert status_of(w, "Cường") == (LineStatus.WINNER, "Giải Nhì")
    assert status_of(w, "Bình") == (LineStatus.NEXT, "")
    event = db.session.scalar(select(AwardEvent).where(AwardEvent.award_id == w.award.id))
    assert (event.action, event.reason) == ("tie_settled", "Hội đồng chọn theo bài dự đoán")
    assert event.detail["picked"] == [w.p("Cường")] and event.detail["decision"] == "pick"


@pytest.mark.parametrize(("decision", "picked", "reason", "message"), [
    ("pick", ["Cường"], "", "lý do"),
    ("pick", ["An"], "Chọn người khác", "trong số những người đồng hạng"),
    ("pick", ["Bình", "Cường"], "Chọn cả hai", "chọn đúng 1"),
    ("pick", [], "Không chọn ai", "chọn đúng 1"),
    ("split", [], "Chia đôi", "cách xử lý"),
])
def test_a_tie_decision_must_be_well_formed(w: World, decision: str, picked: list[str], reason: str, message: str):
    with pytest.raises(ValidationError, match=message):
        workflow.settle_tie(w.award, w.tier("Giải Nhì").id, decision, [w.p(n) for n in picked], reason, w.officer,
                            now=AFTER)
    assert (count(TieDecision, w.award), w.award.version) == (0, 1)


def test_a_tie_decision_needs_an_open_tie_on_that_prize(w: World):
    with pytest.raises(ValidationError, match="Không còn trường hợp đồng hạng"):
        workflow.settle_tie(w.award, w.tier("Giải Nhất").id, "add", [], "Thêm giải", w.officer, now=AFTER)
    settle(w)
    with pytest.raises(ValidationError, match="Không còn trường hợp đồng hạng"):
        settle(w)


# --- approval ------------------------------------------------------------------------------------


def test_approval_freezes_the_winners(w: World):
    settle(w)
    workflow.approve(w.award, w.admin, now=AFTER)

    assert (w.award.status, w.award.approved_by_id, w.award.approved_at, w.award.version) == (
        AwardStatus.APPROVED, w.admin.id, AFTER, 3,
    )
    rows = [(x.position, x.tier.label, x.subject, x.name, x.team_name, x.unit_name, x.rank) for x in w.award.winners]
    assert rows == [
        (1, "Giải Nhất", w.p("An"), "Nguyễn Văn An", "Tổ Ấp Phước Lợi", "Xã Châu Thành", 1),
        (2, "Giải Nhì", w.p("Cường"), "Lê Văn Cường", "Tổ Ấp Phước Lợi", "Xã Châu Thành", 2),
        (3, "Giải tổ xuất sắc", f"t{w.team.id}", "Tổ Ấp Phước Lợi", "Tổ Ấp Phước Lợi", "Xã Châu Thành", 1),
        (4, "Giải tập thể", f"u{w.tree.commune.id}", "Xã Châu Thành", "", "Xã Châu Thành", 1),
    ]
    first = w.award.winners[0]
    assert (first.phone, first.score_text, first.user_id) == (w.people["An"].phone, "3/3", w.people["An"].id)
    # frozen: renaming the person later does not change the decision
    w.people["An"].full_name = "Tên Đã Đổi"
    db.session.flush()
    db.session.expire(first)
    assert first.name == "Nguyễn Văn An"
    assert actions(w.award) == ["tie_settled", "approved"]
    event = workflow.audit(w.award)[-1]
    assert [x["name"] for x in event.winners] == ["Nguyễn Văn An", "Lê Văn Cường", "Tổ Ấp Phước Lợi", "Xã Châu Thành"]


def test_approval_is_impossible_before_the_round_closes(plain: World):
    with pytest.raises(ValidationError, match="chưa kết thúc"):
        workflow.approve(plain.award, plain.admin, now=BEFORE)
    assert (plain.award.status, plain.award.version, count(Winner, plain.award), count(AwardEvent, plain.award)) == (
        "draft", 1, 0, 0,
    )


def test_approving_twice_is_a_clear_error(plain: World):
    workflow.approve(plain.award, plain.admin, now=AFTER)
    with pytest.raises(ValidationError, match="đã được phê duyệt rồi"):
        workflow.approve(plain.award, plain.admin2, now=AFTER)
    assert (count(Winner, plain.award), actions(plain.award), plain.award.approved_by_id) == (
        4, ["approved"], plain.admin.id,
    )


def test_only_admins_approve_and_reopen(plain: World):
    for actor in (plain.officer, plain.colleague, plain.elsewhere):
        with pytest.raises(PermissionDenied):
            workflow.approve(plain.award, actor, now=AFTER)
    assert plain.award.status == "draft"
    workflow.approve(plain.award, plain.admin, now=AFTER)
    with pytest.raises(PermissionDenied):
        workflow.reopen(plain.award, plain.officer, "Sai sót")
    assert plain.award.status == "approved"


def test_nothing_changes_silently_after_approval(plain: World):
    workflow.approve(plain.award, plain.admin, now=AFTER)
    with pytest.raises(ValidationError, match="mở lại kèm lý do"):
        workflow.exclude(plain.award, plain.p("An"), "Phát hiện gian lận", plain.officer, now=AFTER)
    assert count(Exclusion, plain.award) == 0 and count(Winner, plain.award) == 4


def test_a_stale_form_is_refused(plain: World):
    seen = plain.award.version
    workflow.exclude(plain.award, plain.p("Em"), "Trùng tài khoản", plain.officer, seen_version=seen, now=AFTER)
    with pytest.raises(ValidationError, match=STALE):
        workflow.exclude(plain.award, plain.p("Dũng"), "Trùng tài khoản", plain.officer, seen_version=seen, now=AFTER)
    with pytest.raises(ValidationError, match=STALE):
        workflow.approve(plain.award, plain.admin, seen_version=seen, now=AFTER)
    assert (plain.award.status, count(Exclusion, plain.award), count(Winner, plain.award)) == ("draft", 1, 0)
    workflow.approve(plain.award, plain.admin, seen_version=plain.award.version, now=AFTER)
    assert plain.award.status == "approved"


def test_a_change_made_elsewhere_since_loading_is_refused(plain: World):
    """Another transaction moved the version on after this session loaded the award: refused,
    whatever the form said."""
    db.session.execute(update(Award).where(Award.id == plain.award.id).values(version=Award.version + 1)
                       .execution_options(synchronize_session=False))
    assert plain.award.version == 1  # this session still sees the old one
    with pytest.raises(ValidationError, match=STALE):
        workflow.approve(plain.award, plain.admin, now=AFTER)
    assert count(Winner, plain.award) == 0


# --- reopening -----------------------------------------------------------------------------------


def test_reopening_needs_a_reason_and_keeps_the_history(w: World):
    approved(w)
    with pytest.raises(ValidationError) as error:
        workflow.reopen(w.award, w.admin2, "  ")
    assert error.value.field == "reason" and w.award.status == "approved"

    workflow.reopen(w.award, w.admin2, "Phát hiện người đoạt giải Nhì là cán bộ tổ chức")

    assert (w.award.status, w.award.approved_by_id, w.award.approved_at, count(Winner, w.award)) == (
        "draft", None, None, 0,
    )
    assert actions(w.award) == ["tie_settled", "approved", "reopened"]
    entry = workflow.audit(w.award)[-1]
    assert (entry.actor, entry.reason) == ("Hồ Quản Trị Hai", "Phát hiện người đoạt giải Nhì là cán bộ tổ chức")
    assert [x["name"] for x in entry.winners][:2] == ["Nguyễn Văn An", "Lê Văn Cường"]
    # the review goes on: the tie decision still applies; exclude, approve again
    workflow.exclude(w.award, w.p("Cường"), "Cán bộ tổ chức", w.officer, now=AFTER)
    workflow.approve(w.award, w.admin, now=AFTER)
    assert [x.name for x in w.award.winners][:2] == ["Nguyễn Văn An", "Trần Thị Bình"]


def test_reopening_a_draft_is_refused(plain: World):
    with pytest.raises(ValidationError, match="chưa được phê duyệt"):
        workflow.reopen(plain.award, plain.admin, "Xét lại")
    assert count(AwardEvent, plain.award) == 0


# --- publishing ----------------------------------------------------------------------------------


def test_published_winners_are_marked_on_the_round_boards(w: World):
    """The round's people, teams and communes boards put the prize before the winners' second line."""
    approved(w)
    people, teams, communes = (f"{w.round.context}:{kind}" for kind in ("people", "teams", "communes"))

    def subs(board: str) -> dict[str, str]:
        service.rebuild(board)
        return {row["member"]: row["sub"] for row in service.view(board, 100).top}

    assert not any("🏆" in sub for sub in subs(people).values())  # approved is not yet published
    workflow.publish(w.award, w.officer)
    marked = subs(people)
    assert marked[str(w.people["An"].id)].startswith("🏆 Giải Nhất · ")
    assert marked[str(w.people["Cường"].id)].startswith("🏆 Giải Nhì · ")
    assert [m for m, sub in marked.items() if "🏆" in sub] == [str(w.people["An"].id), str(w.people["Cường"].id)]
    assert subs(teams)[str(w.team.id)].startswith("🏆 Giải tổ xuất sắc · ")
    assert subs(communes)[str(w.tree.commune.id)].startswith("🏆 Giải tập thể · ")


def test_publishing_needs_an_approved_decision(plain: World):
    with pytest.raises(ValidationError, match="chưa được phê duyệt"):
        workflow.publish(plain.award, plain.officer)
    assert plain.award.status == "draft"


def test_publishing_notifies_the_winners_and_marks_the_boards(w: World):
    approved(w)
    with pytest.raises(PermissionDenied):
        workflow.publish(w.award, w.elsewhere)
    workflow.publish(w.award, w.officer)

    assert (w.award.status, w.award.published_at is not None) == ("published", True)
    link = f"/prizes/{w.award.id}"
    told = {(n.user_id, n.text, n.link) for n in db.session.scalars(select(Notification))}
    title = w.award.title
    assert told == {
        (w.people["An"].id, f"Chúc mừng! Bạn đoạt Giải Nhất — {title}.", link),
        (w.people["Cường"].id, f"Chúc mừng! Bạn đoạt Giải Nhì — {title}.", link),
        # the team prize: its leader and deputy
        (w.people["An"].id, f"Chúc mừng! Tổ Ấp Phước Lợi đoạt Giải tổ xuất sắc — {title}.", link),
        (w.people["Bình"].id, f"Chúc mừng! Tổ Ấp Phước Lợi đoạt Giải tổ xuất sắc — {title}.", link),
        # the collective prize: the commune's staff
        (w.officer.id, f"Chúc mừng! Xã Châu Thành đoạt Giải tập thể — {title}.", link),
        (w.colleague.id, f"Chúc mừng! Xã Châu Thành đoạt Giải tập thể — {title}.", link),
    }
    assert len(notifications.unread(w.people["An"])) == 2
    assert workflow.prize_labels("round", w.round.id) == {
        w.p("An"): "Giải Nhất", w.p("Cường"): "Giải Nhì", f"t{w.team.id}": "Giải tổ xuất sắc",
        f"u{w.tree.commune.id}": "Giải tập thể",
    }
    assert db.session.info[board_feed._PENDING][w.round.context] == {changes.EVERYTHING}  # rebuilt after commit
    with pytest.raises(ValidationError, match="đã được công bố rồi"):
        workflow.publish(w.award, w.officer)
    assert actions(w.award) == ["tie_settled", "approved", "published"]


def test_board_labels_are_for_published_decisions_only(w: World):
    approved(w)
    assert workflow.prize_labels("round", w.round.id) == {}
    workflow.publish(w.award, w.officer)
    assert workflow.prize_labels("round", w.round.id)[w.p("An")] == "Giải Nhất"
    assert workflow.prize_labels("round", w.round.id + 1) == {}


def test_reopening_a_published_decision_unpublishes_it(w: World):
    approved(w)
    workflow.publish(w.award, w.officer)
    notifications.mark_read(w.people["An"])  # An has read hers; the others have not
    workflow.reopen(w.award, w.admin, "Khiếu nại về giải tập thể được chấp nhận")

    assert (w.award.status, w.award.published_at, count(Winner, w.award)) == ("draft", None, 0)
    assert workflow.prize_labels("round", w.round.id) == {}
    left = {n.user_id for n in db.session.scalars(select(Notification))}
    assert left == {w.people["An"].id}  # unread ones are taken back, read ones stay
    entry = db.session.scalar(select(AwardEvent).where(AwardEvent.action == "reopened"))
    assert entry.detail["unpublished"] is True and entry.detail["notifications_withdrawn"] == 4
    assert "gỡ trang kết quả công khai" in workflow.audit(w.award)[-1].summary


def test_every_step_is_in_the_audit_log(w: World):
    workflow.exclude(w.award, w.p("Em"), "Nộp bài hộ", w.officer, now=AFTER)
    workflow.withdraw_exclusion(w.award, w.p("Em"), w.officer, now=AFTER)
    settle(w)
    workflow.approve(w.award, w.admin, now=AFTER)
    workflow.publish(w.award, w.officer)
    workflow.reopen(w.award, w.admin2, "Sai tên đơn vị")

    log = workflow.audit(w.award)
    assert [(e.action, e.actor, e.reason) for e in log] == [
        ("excluded", "Cán Bộ Châu Thành", "Nộp bài hộ"),
        ("restored", "Cán Bộ Châu Thành", ""),
        ("tie_settled", "Cán Bộ Châu Thành", "Hội đồng chọn theo bài dự đoán"),
        ("approved", "Lê Quản Trị", ""),
        ("published", "Cán Bộ Châu Thành", ""),
        ("reopened", "Hồ Quản Trị Hai", "Sai tên đơn vị"),
    ]
    assert [e.label for e in log] == ["Loại khỏi danh sách", "Rút lại việc loại", "Xử lý đồng hạng", "Phê duyệt",
                                      "Công bố", "Mở lại"]
    assert log[0].summary == "Võ Thị Em" and "Lê Văn Cường" in log[2].summary
    assert w.award.version == 7


# --- two admins at once, on two real connections -------------------------------------------------


@pytest.fixture
def race_engine(app: Flask) -> Iterator[sa.Engine]:
    with race_database("award_race") as engine:
        yield engine


def _at_once(app: Flask, steps: list[Callable[[threading.Barrier], str]]) -> list[str]:
    """Each step in its own thread, app context and transaction; all load first, then act together.
    Returns "ok" or the refusal message per step."""
    barrier = threading.Barrier(len(steps))
    answers = [""] * len(steps)

    def run(index: int) -> None:
        with app.app_context():
            try:
                answers[index] = steps[index](barrier)
                db.session.commit()
            except ValidationError as error:
                db.session.rollback()
                answers[index] = error.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_admins_approving_at_once_exactly_one_succeeds(app: Flask, race_engine: sa.Engine):
    with app.app_context():
        world = build(Factory(), tie=False)
        ids = (world.award.id, world.admin.id, world.admin2.id)
        db.session.commit()
        db.session.remove()
    award_id, first, second = ids

    def approve_as(admin_id: int) -> Callable[[threading.Barrier], str]:
        def step(barrier: threading.Barrier) -> str:
            award, admin = db.session.get(Award, award_id), db.session.get(User, admin_id)
            assert award.status == AwardStatus.DRAFT  # both saw a draft
            barrier.wait()
            workflow.approve(award, admin, now=AFTER)
            return "ok"
        return step

    answers = _at_once(app, [approve_as(first), approve_as(second)])

    assert sorted(a == "ok" for a in answers) == [False, True], answers
    assert any(STALE in a or "đã được phê duyệt" in a for a in answers), answers
    with app.app_context():
        award = db.session.get(Award, award_id)
        winner_admin = first if answers[0] == "ok" else second
        assert (award.status, award.version, award.approved_by_id) == ("approved", 2, winner_admin)
        assert db.session.scalar(select(func.count()).select_from(Winner).where(Winner.award_id == award_id)) == 4
        assert [e.action for e in award.events] == ["approved"]
        db.session.remove()


def test_the_audit_log_reads_the_structure_changes_too(plain: World):
    tiers = [{"audience": "individual", "label": "Giải Nhất", "count": 1, "value_vnd": None},
             {"audience": "individual", "label": "Giải Nhì", "count": 2, "value_vnd": 500000}]
    db.session.add(AwardEvent(award_id=plain.award.id, actor_id=plain.officer.id, action="changed",
                              detail={"before": {"tiers": tiers[:1]}, "after": {"tiers": tiers}}))
    db.session.flush()
    entry = workflow.audit(plain.award)[-1]
    assert (entry.label, entry.actor, entry.summary) == ("Sửa cơ cấu giải", "Cán Bộ Châu Thành",
                                                          "Giải Nhất × 1, Giải Nhì × 2")
