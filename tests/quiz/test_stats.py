"""Item statistics: difficulty, discrimination, answer time, wrong choices, flags, the export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from openpyxl import load_workbook
from sqlalchemy import event

from core.accounts.roles import RoleCode
from quiz import bank
from quiz.models import AttemptStatus
from quiz.stats import ItemStats, all_item_stats, item_stats, stats_workbook

RIGHT, WRONG = [0], [1]  # quiz.data() questions: A "VNeID" is correct, B is "VssID"


def sit(quiz, user, question, ok: bool, fillers=(), fillers_ok: int = 0, answer_ms: int = 5000):  # noqa: ANN001, ANN201
    """A submitted attempt: ``question`` right or wrong, then the first ``fillers_ok`` fillers right and
    the rest wrong, so that the attempt's score is ``ok + fillers_ok``."""
    answers = [(question, RIGHT if ok else WRONG)]
    answers += [(filler, RIGHT if i < fillers_ok else WRONG) for i, filler in enumerate(fillers)]
    return quiz.attempt(user, answers, answer_ms=answer_ms)


@contextmanager
def statements(session) -> Iterator[list[str]]:  # noqa: ANN001
    session.flush()  # pending rows must not be counted as the function's queries
    engine = session.connection().engine
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_difficulty_discrimination_and_time_on_a_hand_worked_case(session, make, quiz):
    user = make.user()
    question = quiz.question()
    fillers = [quiz.question() for _ in range(5)]
    # (question right?, fillers right) → score; attempt ids rise down the list.
    plan = [(1, 5), (1, 4), (1, 4), (0, 5), (0, 3), (1, 2), (1, 0), (1, 0), (0, 0), (0, 1)]
    attempts = [
        sit(quiz, user, question, bool(ok), fillers, right, answer_ms=1000 * (i + 1))
        for i, (ok, right) in enumerate(plan)
    ]
    assert [a.score for a in attempts] == [6, 5, 5, 5, 3, 3, 1, 1, 0, 1]
    attempts[9].items[0].answer_ms = None  # an answer time that was never recorded is skipped
    session.flush()

    stats = item_stats(question.id)
    assert stats.asked == 10
    assert stats.correct_share == 6 / 10
    # n = 10 → groups of round(2.7) = 3. Ranked by score, then attempt id:
    # a0(6) a1(5) a2(5) | a3(5) a4(3) a5(3) a6(1) | a7(1) a9(1) a8(0).
    # Upper a0 a1 a2: 3 right; lower a7 a9 a8: 1 right. Breaking the ties the other way
    # (a3 above a2, a6 below a9) would give 2 and 2 right, D = 0.
    assert stats.discrimination == (3 - 1) / 3
    assert stats.mean_answer_seconds == sum(range(1, 10)) / 9  # a9's item has no time
    assert stats.wrong_choices == [("VssID", 4), ("Zalo", 0), ("Sổ sức khỏe điện tử", 0)]
    assert stats.small_sample is True
    assert stats.flags == []


def test_wrong_choices_add_up_over_versions_by_their_text(session, make, quiz):
    user = make.user()
    question = quiz.question()
    first_version = question.current
    for chosen in ([1], [1], [2], [0]):  # VssID twice, Zalo once, right once
        quiz.attempt(user, [(question, chosen)])
    reworded = quiz.data(
        text="Ứng dụng nào là ứng dụng định danh điện tử quốc gia (VNeID)?",
        choices=["Zalo", "VNeID", "VssID", "Sổ sức khỏe điện tử (mới)"], correct=[1],
    )
    bank.edit_question(question, reworded, make.admin())
    assert question.current is not first_version
    for chosen in ([0], [0], [0], [2], [1]):  # Zalo three times, VssID once, right once
        quiz.attempt(user, [(question, chosen)])
    unanswered = quiz.attempt(user, [(question, [])])
    unanswered.items[0].selected = None  # as the attempt engine leaves an unanswered item
    session.flush()

    stats = item_stats(question.id)
    assert stats.asked == 10
    assert stats.correct_share == 2 / 10
    assert stats.wrong_choices == [
        ("Zalo", 4), ("VssID", 3), ("Sổ sức khỏe điện tử", 0), ("Sổ sức khỏe điện tử (mới)", 0),
    ]


def test_each_wrong_choice_of_a_multiple_answer_item_counts(session, make, quiz):
    user = make.user()
    question = quiz.question(choices=["VNeID", "VssID", "Zalo", "Sổ sức khỏe điện tử"], correct=[0, 3])
    for chosen in ([0, 1, 2], [0, 1], [0, 3]):
        quiz.attempt(user, [(question, chosen)])

    stats = item_stats(question.id)
    assert stats.correct_share == 1 / 3
    assert stats.wrong_choices == [("VssID", 2), ("Zalo", 1)]


def test_flags_for_a_broken_an_inverted_and_a_too_easy_question(session, make, quiz):
    user = make.user()
    inverted, broken, easy = quiz.question(), quiz.question(), quiz.question()
    fillers = [quiz.question() for _ in range(4)]
    # 20 attempts → groups of 5: the top five (4 fillers right) get `inverted` right once, the
    # bottom five (none right) three times, the middle ten (2 right) five times.
    rows = [(i == 0, 4) for i in range(5)] + [(i < 5, 2) for i in range(10)] + [(i < 3, 0) for i in range(5)]
    scores = []
    for i, (ok, right) in enumerate(rows):
        attempt = quiz.attempt(user, [
            (inverted, RIGHT if ok else WRONG),
            (broken, RIGHT if i == 10 else WRONG),  # one right, in the middle, where `inverted` is wrong
            (easy, RIGHT),
            *[(filler, RIGHT if n < right else WRONG) for n, filler in enumerate(fillers)],
        ])
        scores.append(attempt.score)
    assert scores == [6, 5, 5, 5, 5] + [4, 4, 4, 4, 4, 4, 3, 3, 3, 3] + [2, 2, 2, 1, 1]  # groups do not overlap

    stats = all_item_stats([inverted.id, broken.id, easy.id])
    assert stats[inverted.id].correct_share == 9 / 20
    assert stats[inverted.id].discrimination == (1 - 3) / 5
    assert stats[inverted.id].small_sample is False
    assert stats[inverted.id].flags == [
        "Nhóm điểm cao trả lời đúng ít hơn nhóm điểm thấp (D = -0,40): hãy kiểm tra đáp án"
    ]
    assert stats[broken.id].correct_share == 1 / 20
    assert stats[broken.id].discrimination == 0
    assert stats[broken.id].flags == ["Gần như không ai trả lời đúng (5%)"]
    assert stats[easy.id].flags == ["Gần như ai cũng trả lời đúng (100%): câu hỏi có quá dễ không?"]


def test_no_flags_below_the_minimum_sample_which_is_a_setting(session, make, quiz, app, monkeypatch):
    user = make.user()
    question = quiz.question()
    for _ in range(19):
        sit(quiz, user, question, ok=False)

    stats = item_stats(question.id)
    assert (stats.correct_share, stats.small_sample, stats.flags) == (0, True, [])

    monkeypatch.setitem(app.config, "ITEM_STATS_MIN_SAMPLE", 19)
    stats = item_stats(question.id)
    assert (stats.small_sample, stats.flags) == (False, ["Gần như không ai trả lời đúng (0%)"])
    monkeypatch.setitem(app.config, "ITEM_STATS_LOW_P", 0.0)
    assert item_stats(question.id).flags == []


def test_only_submitted_attempts_count_and_unanswered_is_wrong(session, make, quiz):
    user, other = make.user(), make.user(RoleCode.MEMBER, full_name="Trần Văn Bình")
    question, only_once, only_in_progress, never = quiz.question(), quiz.question(), quiz.question(), quiz.question()
    sit(quiz, user, question, ok=True, fillers=[only_once], fillers_ok=1, answer_ms=5000)
    unanswered = sit(quiz, user, question, ok=False, answer_ms=9000)
    item = unanswered.items[0]
    item.selected = item.is_correct = item.answer_ms = None  # never answered, not even graded
    running = quiz.attempt(other, [(question, [2]), (only_in_progress, RIGHT)], answer_ms=1000)
    running.status, running.submitted_at = AttemptStatus.IN_PROGRESS, None
    session.flush()

    stats = item_stats(question.id)
    assert stats.asked == 2
    assert stats.correct_share == 1 / 2
    assert stats.discrimination == 1.0  # n = 2: groups of one, the answered attempt above the other
    assert stats.mean_answer_seconds == 5.0
    assert stats.wrong_choices == [("VssID", 0), ("Zalo", 0), ("Sổ sức khỏe điện tử", 0)]
    assert item_stats(only_once.id).discrimination is None  # one attempt cannot make two groups
    assert item_stats(only_in_progress.id) is None
    assert item_stats(never.id) is None
    assert only_in_progress.id not in all_item_stats()


def test_all_item_stats_agrees_with_item_stats_in_a_fixed_number_of_queries(session, make, quiz):
    user = make.user()
    questions = [quiz.question() for _ in range(2)]
    for i in range(3):
        quiz.attempt(user, [(q, RIGHT if (i + n) % 2 else WRONG) for n, q in enumerate(questions)])
    with statements(session) as few:
        small = all_item_stats(q.id for q in questions)
    questions += [quiz.question() for _ in range(8)]
    for i in range(6):
        quiz.attempt(user, [(q, RIGHT if (i * n) % 3 else [i % 4]) for n, q in enumerate(questions)],
                     answer_ms=700 * i)
    with statements(session) as many:
        everything = all_item_stats()

    assert len(few) == len(many) == 2
    assert set(small) == {q.id for q in questions[:2]}
    assert set(everything) == {q.id for q in questions}
    for question in questions:
        assert everything[question.id] == item_stats(question.id)
    assert all_item_stats([questions[3].id]) == {questions[3].id: everything[questions[3].id]}
    with statements(session) as none:
        assert all_item_stats([]) == {}
    assert none == []


def test_workbook_has_the_header_and_one_row_per_question(session, quiz):
    easy = quiz.question(text="Ứng dụng nào dùng để khai báo định danh điện tử?")
    hard = quiz.question(text="Nền tảng nào là Cổng Dịch vụ công quốc gia?", category_id=quiz.category("Kinh tế số").id,
                         difficulty="hard")
    stats = {
        hard.id: ItemStats(hard.id, 25, 0.04, -0.2, None, [("Zalo", 20), ("Khác", 3), ("VssID", 0)], [
            "Gần như không ai trả lời đúng (4%)", "Nhóm điểm cao trả lời đúng ít hơn nhóm điểm thấp (D = -0,20)",
        ], False),
        easy.id: ItemStats(easy.id, 3, 2 / 3, None, 12.5, [("VssID", 0)], [], True),
    }

    sheet = load_workbook(io.BytesIO(stats_workbook(stats))).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == [
        "Mã câu hỏi", "Nội dung câu hỏi", "Lĩnh vực", "Mức độ", "Số lần hỏi", "Tỷ lệ đúng", "Độ phân biệt (D)",
        "Thời gian trả lời TB (giây)", "Phương án sai được chọn nhiều nhất", "Cảnh báo",
    ]
    assert rows[1:] == [
        [easy.id, "Ứng dụng nào dùng để khai báo định danh điện tử?", "Chính quyền số", "Dễ", 3, 2 / 3, None, 12.5,
         None, None],
        [hard.id, "Nền tảng nào là Cổng Dịch vụ công quốc gia?", "Kinh tế số", "Khó", 25, 0.04, -0.2, None,
         "Zalo (20)",
         "Gần như không ai trả lời đúng (4%); Nhóm điểm cao trả lời đúng ít hơn nhóm điểm thấp (D = -0,20)"],
    ]
    assert sheet["F2"].number_format == "0.0%"
    assert sheet.freeze_panes == "A2"


def test_statistics_are_exportable_from_the_bank_and_the_command_line(app, client, login, make, quiz, tmp_path):
    import io

    from openpyxl import load_workbook

    from core.accounts.roles import RoleCode

    question = quiz.question()
    quiz.attempt(make.user(), [(question, [0])])
    login(make.user(RoleCode.ADMIN, username="so.thongke"))
    response = client.get("/bank/stats.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [question.id]
    target = tmp_path / "thong-ke.xlsx"
    result = app.test_cli_runner().invoke(args=["quiz", "stats", str(target)])
    assert result.exit_code == 0 and "1 câu hỏi" in result.output
    assert load_workbook(target).active.max_row == 2
