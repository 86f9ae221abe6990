"""The question bank's rules: valid questions, versions, review workflow, search."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from quiz import bank
from quiz.models import Category, QuestionKind, QuestionStatus, QuestionVersion


def test_fresh_database_has_the_five_default_categories(session):
    names = [c.name for c in bank.categories()]
    assert names == [
        "Chính quyền số", "Kinh tế số", "Xã hội số", "Chủ trương – chính sách", "Kỹ năng số & an toàn thông tin",
    ]


@pytest.mark.parametrize("written", [
    "chính quyền số", "CHINH QUYEN SO", "Chinh quyen so ",
])
def test_categories_are_found_case_and_accent_insensitively(session, written):
    assert bank.find_category(written).name == "Chính quyền số"


def test_category_dash_and_ampersand_variants(session):
    assert bank.find_category("Chu truong - chinh sach").name == "Chủ trương – chính sách"
    assert bank.find_category("Kỹ năng số và an toàn thông tin").name == "Kỹ năng số & an toàn thông tin"
    assert bank.find_category("Thể thao") is None


@pytest.mark.parametrize(("written", "letters"), [
    ("B", [1]), ("A, C", [0, 2]), ("a;c", [0, 2]), ("A và C", [0, 2]), ("AC", [0, 2]), ("c , a", [0, 2]),
    ("F", [5]), ("", []),
])
def test_correct_letters_in_every_way_staff_write_them(written, letters):
    assert bank.parse_letters(written) == letters


@pytest.mark.parametrize("written", ["G", "1", "A hoặc B", "đáp án A"])
def test_unreadable_letters(written):
    assert bank.parse_letters(written) is None


@pytest.mark.parametrize(
    ("written", "level"), [("Dễ", "easy"), ("trung bình", "medium"), ("KHÓ", "hard"), ("TB", "medium")]
)
def test_difficulty_words(written, level):
    assert bank.parse_difficulty(written) == level


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"text": "  "}, "text", "Chưa nhập nội dung câu hỏi"),
    ({"choices": ["Chỉ một"]}, "choices", "ít nhất 2 phương án"),
    ({"choices": ["1", "2", "3", "4", "5", "6", "7"]}, "choices", "nhiều nhất 6 phương án"),
    ({"choices": ["A", "", "C"]}, "choices", "Phương án B để trống"),
    ({"choices": ["Có", "có"]}, "choices", "hai phương án giống nhau"),
    ({"correct": []}, "correct", "Chưa chọn đáp án đúng"),
    ({"correct": [4]}, "correct", "Đáp án đúng E không có phương án"),
    ({"kind": "single", "correct": [0, 1]}, "correct", "chỉ có một đáp án đúng"),
    ({"kind": "multiple", "correct": [0]}, "correct", "ít nhất hai đáp án đúng"),
    ({"kind": "true_false"}, "choices", "“Đúng” và “Sai”"),
    ({"category_id": None}, "category_id", "Chưa chọn lĩnh vực"),
    ({"difficulty": "rất khó"}, "difficulty", "Chưa chọn mức độ"),
])
def test_invalid_questions_are_refused_with_the_field_at_fault(session, quiz, overrides, field, message):
    before = session.scalar(select(func.count()).select_from(QuestionVersion))
    with pytest.raises(ValidationError) as caught:
        bank.create_question(quiz.data(**overrides), None)
    assert caught.value.field == field and message in caught.value.message
    assert session.scalar(select(func.count()).select_from(QuestionVersion)) == before


def test_kind_is_inferred(session, quiz):
    tf = quiz.question(choices=["Đúng", "Sai"], correct=[1])
    multi = quiz.question(correct=[0, 3])
    single = quiz.question()
    assert (tf.current.kind, multi.current.kind, single.current.kind) == (
        QuestionKind.TRUE_FALSE, QuestionKind.MULTIPLE, QuestionKind.SINGLE)


def test_text_keeps_line_breaks_and_trims(session, quiz):
    question = quiz.question(text="  Dòng một  \r\n   Dòng   hai ")
    assert question.current.text == "Dòng một\nDòng hai"


def test_duplicates_are_compared_on_normalised_text(session, quiz):
    first = quiz.question(text="Ngày Chuyển đổi số quốc gia là ngày nào?")
    with pytest.raises(ValidationError, match=f"#{first.id}"):
        quiz.question(text="  ngay chuyen doi so QUỐC GIA la ngay nao ")


def test_editing_an_unasked_question_corrects_it_in_place(session, quiz, make):
    admin = make.user(RoleCode.ADMIN, username="so.admin")
    question = quiz.question()
    bank.edit_question(question, quiz.data(text="Văn bản đã sửa?"), admin)
    assert [v.text for v in question.versions] == ["Văn bản đã sửa?"]


def test_editing_an_asked_question_creates_a_version_and_past_attempts_keep_theirs(session, quiz, make):
    admin = make.user(RoleCode.ADMIN, username="so.admin")
    player = make.user()
    question = quiz.question(choices=["A1", "B1", "C1"], correct=[0])
    attempt = quiz.attempt(player, [(question, [0])])
    bank.edit_question(question, quiz.data(text="Câu hỏi mới?", choices=["A2", "B2", "C2"], correct=[2]), admin)
    session.expire_all()
    assert [v.number for v in question.versions] == [1, 2]
    assert question.current.number == 2 and question.current.correct == [2]
    shown = attempt.items[0].version
    assert (shown.choices, shown.correct, shown.number) == (["A1", "B1", "C1"], [0], 1)
    # a second edit before anyone sees version 2 corrects version 2 in place
    again = quiz.data(text="Câu hỏi mới, sửa lại?", choices=["A2", "B2", "C2"], correct=[1])
    bank.edit_question(question, again, admin)
    assert [v.number for v in question.versions] == [1, 2]


def test_review_workflow_records_who_and_when(session, quiz, make):
    admin = make.user(RoleCode.ADMIN, username="so.admin")
    organiser = make.user(RoleCode.ORGANISER)
    draft = quiz.question(status=QuestionStatus.DRAFT, author=organiser)
    with pytest.raises(PermissionDenied):
        bank.approve([draft], organiser)
    assert bank.approve([draft], admin) == 1
    assert (draft.status, draft.approved_by_id) == ("approved", admin.id) and draft.approved_at is not None
    assert bank.retire([draft], admin) == 1
    assert (draft.status, draft.retired_by_id) == ("retired", admin.id)
    assert bank.approve([draft], admin) == 1 and draft.retired_at is None


def test_organiser_edits_only_own_drafts(session, quiz, make):
    organiser = make.user(RoleCode.ORGANISER)
    other = make.user(RoleCode.ORGANISER)
    own = quiz.question(status=QuestionStatus.DRAFT, author=organiser)
    assert bank.can_edit(organiser, own) and not bank.can_edit(other, own)
    bank.approve([own], make.user(RoleCode.ADMIN, username="so.admin"))
    assert not bank.can_edit(organiser, own)
    with pytest.raises(PermissionDenied):
        bank.edit_question(own, quiz.data(), organiser)


def test_only_approved_questions_are_in_the_draw_pool(session, quiz, make):
    approved = quiz.question()
    quiz.question(status=QuestionStatus.DRAFT)
    retired = quiz.question()
    bank.retire([retired], make.user(RoleCode.ADMIN, username="so.admin"))
    pool = list(session.scalars(bank.approved_pool()))
    assert pool == [approved]


def test_search_is_accent_insensitive_and_filters_combine(session, quiz):
    hit = quiz.question(text="Mục tiêu chuyển đổi số của tỉnh là gì?", tags=["chuyển đổi số"], difficulty="hard")
    quiz.question(text="Ví điện tử dùng để làm gì?")
    found = bank.search(bank.BankFilter(q="chuyen doi so")).items
    assert found == [hit]
    assert bank.search(bank.BankFilter(q="CHUYỂN ĐỔI", difficulty="easy")).items == []
    assert bank.search(bank.BankFilter(tag="chuyển đổi số")).items == [hit]
    assert bank.search(bank.BankFilter(q="50%_")).items == []  # LIKE wildcards are escaped


def test_categories_are_editable(session):
    category = session.scalar(select(Category).where(Category.name == "Xã hội số"))
    bank.save_category("Xã hội số và giáo dục", "Học trực tuyến", category)
    assert bank.find_category("xa hoi so va giao duc") is category
    with pytest.raises(ValidationError, match="Đã có lĩnh vực"):
        bank.save_category("kinh te so")
