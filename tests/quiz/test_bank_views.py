"""The bank screens: list, search and filters, bulk review, the question form, the question page
with its versions and statistics, the categories; and who may open each of them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from core.accounts.roles import RoleCode
from quiz import bank
from quiz.models import Category, Question, QuestionStatus, QuestionVersion
from quiz.stats import ItemStats
from tests.factories import field_errors, flashes


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def form(quiz, **overrides: object) -> dict[str, object]:  # noqa: ANN001
    """A filled question form as the browser posts it; ``choices`` is a list of up to six."""
    values: dict[str, object] = {
        "kind": "single",
        "text": "Ứng dụng nào là ứng dụng định danh điện tử quốc gia?",
        "choices": ["VNeID", "VssID", "Zalo"],
        "correct": ["A"],
        "category_id": quiz.category().id,
        "difficulty": "easy",
        "explanation": "VNeID do Bộ Công an phát triển.",
        "source": "Quyết định 06/QĐ-TTg",
        "tags": "vneid, Dịch vụ công",
    }
    values.update(overrides)
    choices = values.pop("choices")
    values.update({f"choices-{i}": choices[i] if i < len(choices) else "" for i in range(6)})
    return values


def page_of(response) -> str:  # noqa: ANN001
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


# --- who sees the bank ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [RoleCode.OFFICER, RoleCode.MEMBER])
def test_only_admins_and_organisers_open_the_bank(make, quiz, login, client, role):
    question = quiz.question()
    login(make.user(role))
    for url in ("/bank/", "/bank/new", f"/bank/{question.id}", f"/bank/{question.id}/versions/1",
                f"/bank/{question.id}/edit", "/bank/categories"):
        assert client.get(url).status_code == 403, url
    assert client.post("/bank/review", data={"ids": [question.id], "action": "retire"}).status_code == 403
    assert "Ngân hàng câu hỏi" not in page_of(client.get("/"))


def test_anonymous_visitors_are_sent_to_sign_in(quiz, client):
    question = quiz.question()
    for url in ("/bank/", f"/bank/{question.id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_organisers_write_but_do_not_review(make, quiz, login, client):
    question = quiz.question(status=QuestionStatus.DRAFT)
    login(make.user(RoleCode.ORGANISER))
    home = page_of(client.get("/"))
    assert home.count('href="/bank/"') == 2  # the menu and the tile
    listing = page_of(client.get("/bank/"))
    assert "Soạn câu hỏi mới" in listing and 'name="ids"' not in listing and "/bank/categories" not in listing
    detail = page_of(client.get(f"/bank/{question.id}"))
    assert "đáp án đúng" in detail.lower() and 'value="approve"' not in detail
    assert client.post(f"/bank/{question.id}/review", data={"action": "approve"}).status_code == 403
    assert client.post("/bank/review", data={"ids": [question.id], "action": "approve"}).status_code == 403
    assert client.get("/bank/categories").status_code == 403
    assert question.status == QuestionStatus.DRAFT


# --- the question form ---------------------------------------------------------------------------


def test_a_new_question_is_a_draft_with_everything_shown_on_its_page(make, quiz, login, client, session):
    organiser = make.user(RoleCode.ORGANISER, full_name="Phạm Thị Đoàn")
    login(organiser)
    response = client.post("/bank/new", data=form(quiz, text="Dòng một\nDòng hai?", difficulty="medium"))
    question = session.scalars(select(Question)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/bank/{question.id}")
    assert (question.status, question.author_id) == ("draft", organiser.id)
    assert question.tag_names == ["dịch vụ công", "vneid"]
    page = page_of(client.get(f"/bank/{question.id}"))
    assert flashes(page, "success") == [f"Đã lưu câu hỏi #{question.id} (bản nháp)."]
    assert "Dòng một<br>\nDòng hai?" in page
    for shown in ("VNeID", "VssID", "Zalo", "Một đáp án", "Chính quyền số", "Trung bình",
                  "VNeID do Bộ Công an phát triển.", "Quyết định 06/QĐ-TTg", "Phạm Thị Đoàn", "Bản nháp",
                  "Thống kê câu hỏi"):
        assert shown in page, shown
    assert re.search(r"VNeID <span class=\"badge ok\">✓ Đáp án đúng</span>", page)
    assert 'href="/bank/?tag=vneid"' in page
    assert re.search(r"<dt>Ngày tạo</dt><dd>\d\d/\d\d/\d{4} \d\d:\d\d</dd>", page)


def test_multiple_choice_and_true_false(make, quiz, login, client, session):
    login(make.admin())
    client.post("/bank/new", data=form(quiz, kind="multiple", correct=["A", "C"]))
    client.post("/bank/new", data=form(quiz, kind="true_false", text="VNeID là ứng dụng miễn phí?", choices=[],
                                       correct=["A"]))
    multiple, true_false = session.scalars(select(QuestionVersion).order_by(QuestionVersion.id))
    assert (multiple.kind, multiple.correct) == ("multiple", [0, 2])
    assert (true_false.kind, true_false.choices, true_false.correct) == ("true_false", ["Đúng", "Sai"], [0])


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"text": "   "}, "text", "Chưa nhập nội dung câu hỏi."),
    ({"choices": ["Chỉ một"]}, "choices", "Câu hỏi cần ít nhất 2 phương án."),
    ({"choices": ["A", "", "C"]}, "choices", "Phương án B để trống trong khi các phương án sau có nội dung."),
    ({"correct": []}, "correct", "Chưa chọn đáp án đúng."),
    ({"correct": ["A", "B"]}, "correct", "Câu một đáp án chỉ có một đáp án đúng."),
    ({"correct": ["E"]}, "correct", "Đáp án đúng E không có phương án tương ứng."),
    ({"kind": "multiple"}, "correct", "Câu nhiều đáp án cần ít nhất hai đáp án đúng."),
    ({"kind": "rất lạ"}, "kind", "Loại câu hỏi không hợp lệ."),
    ({"category_id": 0}, "category_id", "Chưa chọn lĩnh vực."),
    ({"difficulty": ""}, "difficulty", "Chưa chọn mức độ."),
])
def test_bad_input_names_the_field_and_writes_nothing(make, quiz, login, client, session, overrides, field, message):
    login(make.admin())
    page = page_of(client.post("/bank/new", data=form(quiz, **overrides)))
    assert field_errors(page, field) == [message]
    assert count(session, Question) == 0 and count(session, QuestionVersion) == 0


def test_the_form_keeps_what_was_typed_after_an_error(make, quiz, login, client):
    login(make.admin())
    page = page_of(client.post("/bank/new", data=form(quiz, choices=["Một", "Hai", "Ba"], correct=["B", "C"])))
    assert field_errors(page, "correct") == ["Câu một đáp án chỉ có một đáp án đúng."]
    assert 'value="Ba"' in page
    assert 'value="B" id="correct-B" checked' in page and 'value="A" id="correct-A">' in page


def test_a_duplicate_is_refused_on_the_text_field(make, quiz, login, client, session):
    first = quiz.question(text="Ngày Chuyển đổi số quốc gia là ngày nào?")
    login(make.admin())
    page = page_of(client.post("/bank/new", data=form(quiz, text="ngay chuyen doi so quoc gia la ngay nao")))
    assert field_errors(page, "text") == [f"Câu hỏi này trùng với câu #{first.id} đã có trong ngân hàng."]
    assert count(session, Question) == 1


def test_user_text_is_escaped_everywhere(make, quiz, login, client):
    login(make.admin())
    evil = "<script>alert(1)</script>"
    question = quiz.question(text=f"Câu {evil}\ndòng hai", choices=[f"A {evil}", "B"], explanation=f"Vì {evil}",
                             source=evil, tags=[evil])
    for url in ("/bank/", f"/bank/{question.id}", f"/bank/{question.id}/versions/1", f"/bank/{question.id}/edit"):
        page = page_of(client.get(url))
        assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


# --- editing and versions ------------------------------------------------------------------------


def test_organisers_edit_only_their_own_drafts(make, quiz, login, client):
    organiser = make.user(RoleCode.ORGANISER)
    own = quiz.question(status=QuestionStatus.DRAFT, author=organiser)
    others = quiz.question(status=QuestionStatus.DRAFT, author=make.user(RoleCode.ORGANISER))
    approved = quiz.question(author=organiser)
    login(organiser)
    assert "Sửa câu hỏi" in page_of(client.get(f"/bank/{own.id}"))
    assert "Sửa câu hỏi" not in page_of(client.get(f"/bank/{others.id}"))
    edit = page_of(client.get(f"/bank/{own.id}/edit"))
    assert 'value="VNeID"' in edit and 'value="A" id="correct-A" checked' in edit and 'value="vneid"' in edit
    response = client.post(f"/bank/{own.id}/edit", data=form(quiz, text="Đã sửa lại?"))
    assert response.status_code == 302 and own.current.text == "Đã sửa lại?"
    for question in (others, approved):
        assert client.get(f"/bank/{question.id}/edit").status_code == 403
        assert client.post(f"/bank/{question.id}/edit", data=form(quiz, text="Không được sửa")).status_code == 403
    assert approved.current.text != "Không được sửa"


def test_a_bad_edit_writes_nothing(make, quiz, login, client, session):
    question = quiz.question(text="Câu gốc?")
    login(make.admin())
    page = page_of(client.post(f"/bank/{question.id}/edit", data=form(quiz, text="Câu đã sửa?", correct=[])))
    assert field_errors(page, "correct") == ["Chưa chọn đáp án đúng."]
    session.expire_all()
    assert question.current.text == "Câu gốc?"


def test_editing_an_asked_question_adds_a_version_and_the_old_one_stays_visible(make, quiz, login, client):
    writer = make.admin("Trần Văn Soạn")
    question = quiz.question(author=writer, choices=["Cũ A", "Cũ B", "Cũ C"], correct=[1], text="Câu hỏi cũ?")
    quiz.attempt(make.user(), [(question, [1])])
    editor = make.admin("Lê Thị Sửa")
    login(editor)
    edit = page_of(client.get(f"/bank/{question.id}/edit"))
    assert "khi lưu sẽ tạo phiên bản 2" in edit
    client.post(f"/bank/{question.id}/edit", data=form(quiz, text="Câu hỏi mới?", choices=["Mới A", "Mới B"],
                                                      correct=["A"]))
    page = page_of(client.get(f"/bank/{question.id}"))
    assert flashes(page, "success") == ["Đã lưu phiên bản 2; các bài thi cũ vẫn giữ phiên bản đã hỏi."]
    assert "Câu hỏi mới?" in page and "Câu hỏi cũ?" not in page
    rows = re.findall(r"<tr>\s*<td>(\d)(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page, flags=re.S)
    assert [(number, author) for number, _current, _date, author in rows] == [
        ("1", "Trần Văn Soạn"), ("2", "Lê Thị Sửa")]
    assert "Đang dùng" in rows[1][1] and "Đang dùng" not in rows[0][1]
    old = page_of(client.get(f"/bank/{question.id}/versions/1"))
    assert "Câu hỏi cũ?" in old and "Câu hỏi mới?" not in old and "hiện đang dùng phiên bản 2" in old
    assert re.search(r"Cũ B <span class=\"badge ok\">✓ Đáp án đúng</span>", old) and "Cũ A <span" not in old
    assert "<dt>Đáp án đúng</dt><dd>B</dd>" in old
    assert client.get(f"/bank/{question.id}/versions/3").status_code == 404
    assert client.get("/bank/999999").status_code == 404


def test_editing_an_unasked_question_keeps_one_version(make, quiz, login, client):
    question = quiz.question()
    login(make.admin())
    assert "khi lưu sẽ tạo phiên bản" not in page_of(client.get(f"/bank/{question.id}/edit"))
    client.post(f"/bank/{question.id}/edit", data=form(quiz, text="Sửa tại chỗ?"))
    assert [v.text for v in question.versions] == ["Sửa tại chỗ?"]


# --- review --------------------------------------------------------------------------------------


def test_admin_approves_and_retires_one_question_and_the_page_says_who_and_when(make, quiz, login, client):
    question = quiz.question(status=QuestionStatus.DRAFT)
    login(make.admin("Võ Thị Duyệt"))
    response = client.post(f"/bank/{question.id}/review", data={"action": "approve"})
    assert response.status_code == 302 and question.status == "approved"
    page = page_of(client.get(f"/bank/{question.id}"))
    assert flashes(page, "success") == ["Đã duyệt 1 câu hỏi."]
    assert re.search(r"<dt>Người duyệt</dt>\s*<dd>Võ Thị Duyệt · \d\d/\d\d/\d{4} \d\d:\d\d</dd>", page)
    assert 'value="approve"' not in page and 'value="retire"' in page
    client.post(f"/bank/{question.id}/review", data={"action": "retire"})
    page = page_of(client.get(f"/bank/{question.id}"))
    assert question.status == "retired" and re.search(r"<dt>Người cho ngừng sử dụng</dt>\s*<dd>Võ Thị Duyệt · ", page)
    assert client.post(f"/bank/{question.id}/review", data={"action": "delete"}).status_code == 400


def test_bulk_approve_and_retire_return_to_the_same_list(make, quiz, login, client):
    drafts = [quiz.question(status=QuestionStatus.DRAFT, difficulty="hard") for _ in range(3)]
    login(make.admin())
    listing = page_of(client.get("/bank/?difficulty=hard"))
    assert 'action="/bank/review?page=1&amp;difficulty=hard"' in listing
    response = client.post("/bank/review?page=1&difficulty=hard&_external=1",
                           data={"ids": [drafts[0].id, drafts[1].id], "action": "approve"})
    assert response.status_code == 302 and response.headers["Location"] == "/bank/?page=1&difficulty=hard"
    assert [q.status for q in drafts] == ["approved", "approved", "draft"]
    assert flashes(page_of(client.get("/bank/")), "success") == ["Đã duyệt 2 câu hỏi."]
    client.post("/bank/review", data={"ids": [q.id for q in drafts], "action": "retire"})
    assert [q.status for q in drafts] == ["retired"] * 3
    client.post("/bank/review", data={"action": "approve"})
    assert flashes(page_of(client.get("/bank/"))) == ["Chưa chọn câu hỏi nào."]
    assert [q.status for q in drafts] == ["retired"] * 3


# --- search, filters, pages ----------------------------------------------------------------------


def test_search_is_accent_insensitive_and_filters_combine(make, quiz, login, client, session):
    other = session.scalar(select(Category).where(Category.name == "Kinh tế số"))
    hit = quiz.question(text="Mục tiêu chuyển đổi số của tỉnh là gì?", tags=["kế hoạch"], difficulty="hard")
    wallet = quiz.question(text="Ví điện tử dùng để làm gì?", category_id=other.id, status=QuestionStatus.DRAFT)
    login(make.admin())

    def found(query: str) -> set[str]:
        page = page_of(client.get(f"/bank/?{query}"))
        return {text for text in ("Mục tiêu chuyển đổi số", "Ví điện tử") if text in page}

    assert found("q=chuyen+doi+so") == {"Mục tiêu chuyển đổi số"}
    assert found(f"category_id={other.id}") == {"Ví điện tử"}
    assert found("difficulty=hard") == {"Mục tiêu chuyển đổi số"}
    assert found("status=draft") == {"Ví điện tử"}
    assert found("tag=kế+hoạch") == {"Mục tiêu chuyển đổi số"}
    assert found("q=vi+dien+tu&status=approved") == set()
    assert found("category_id=abc&difficulty=") == {"Mục tiêu chuyển đổi số", "Ví điện tử"}
    page = page_of(client.get(f"/bank/?q=vi&category_id={other.id}&status=draft"))
    assert 'value="vi"' in page and f'<option selected value="{other.id}">Kinh tế số</option>' in page
    assert '<option selected value="draft">Bản nháp</option>' in page
    assert hit.id != wallet.id


def test_the_list_pages_and_keeps_its_filters(make, quiz, login, client):
    for i in range(27):
        quiz.question(text=f"Câu kiểm tra số {i + 1:02d}?")
    quiz.question(text="Một câu khác hẳn?")
    login(make.admin())
    first = page_of(client.get("/bank/?q=kiem+tra"))
    assert "27 câu hỏi" in first and "Trang 1 / 2" in first and 'href="/bank/?page=2&amp;q=kiem+tra"' in first
    assert "Câu kiểm tra số 27?" in first and "Câu kiểm tra số 03?" in first and "Câu kiểm tra số 02?" not in first
    second = page_of(client.get("/bank/?q=kiem+tra&page=2"))
    assert "Câu kiểm tra số 02?" in second and "Câu kiểm tra số 01?" in second and "Một câu khác" not in second


# --- statistics ----------------------------------------------------------------------------------


def test_statistics_come_from_the_answers(make, quiz, login, client):
    never, asked = quiz.question(), quiz.question()
    quiz.attempt(make.user(), [(asked, [1])], answer_ms=12500)  # one wrong answer: "VssID"
    login(make.admin())
    assert "Chưa có ai trả lời câu này." in page_of(client.get(f"/bank/{never.id}"))
    page = page_of(client.get(f"/bank/{asked.id}"))
    assert "Chưa có ai trả lời" not in page and "Mới có 1 lượt trả lời" in page
    for shown in ("<dt>Số lượt trả lời</dt><dd>1</dd>", "<dt>Tỷ lệ trả lời đúng</dt><dd>0%</dd>",
                  "<dd>12,5 giây</dd>", "<td>VssID</td><td>1</td>"):
        assert shown in page, shown
    assert re.search(r"<dt>Độ phân biệt</dt>\s*<dd>—</dd>", page)  # one attempt: no groups to compare


def test_statistics_warnings_are_shown(make, quiz, login, client, monkeypatch):
    question = quiz.question()
    flagged = ItemStats(
        question_id=question.id, asked=40, correct_share=0.075, discrimination=-0.25, mean_answer_seconds=None,
        wrong_choices=[("Zalo", 30)], flags=["Gần như không ai trả lời đúng (7,5%)"], small_sample=False,
    )
    monkeypatch.setattr("quiz.views.item_stats", {question.id: flagged}.get)
    login(make.admin())
    page = page_of(client.get(f"/bank/{question.id}"))
    for shown in ("<li>Gần như không ai trả lời đúng (7,5%)</li>", "<dd>7,5%</dd>", "<dd>-0,25</dd>"):
        assert shown in page, shown
    assert "lượt trả lời: các số liệu" not in page


# --- categories ----------------------------------------------------------------------------------


def test_categories_list_with_their_question_counts(make, quiz, login, client):
    quiz.question()
    quiz.question()
    login(make.admin())
    page = page_of(client.get("/bank/categories"))
    assert re.search(r">Chính quyền số</a></td>\s*<td>Dịch vụ công[^<]*</td>\s*<td>2</td>", page)
    assert re.search(r">Kinh tế số</a></td>\s*<td>[^<]*</td>\s*<td>0</td>", page)


def test_admin_adds_renames_and_deactivates_a_category(make, quiz, login, client, session):
    login(make.admin())
    response = client.post("/bank/categories/new", data={"name": " Thể thao  số ", "description": "Thử"})
    assert response.status_code == 302
    category = bank.find_category("the thao so")
    assert (category.name, category.description, category.active) == ("Thể thao số", "Thử", True)
    client.post(f"/bank/categories/{category.id}/edit", data={"name": "Văn hóa số", "description": ""})
    assert (category.name, category.active) == ("Văn hóa số", False)
    assert "Ngừng dùng" in page_of(client.get("/bank/categories"))
    assert "Văn hóa số" not in page_of(client.get("/bank/new"))
    assert "Văn hóa số (ngừng dùng)" in page_of(client.get("/bank/"))  # still a filter


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "  "}, "name", "Chưa nhập tên lĩnh vực."),
    ({"name": "kinh te so"}, "name", "Đã có lĩnh vực “Kinh tế số”."),
    ({"name": "Mới", "description": "x" * 501}, "description", "Mô tả dài quá 500 ký tự."),
])
def test_bad_category_names_write_nothing(make, login, client, session, data, field, message):
    login(make.admin())
    before = count(session, Category)
    page = page_of(client.post("/bank/categories/new", data=data))
    assert field_errors(page, field) == [message]
    assert count(session, Category) == before


def test_a_question_in_a_deactivated_category_keeps_it_when_edited(make, quiz, login, client):
    question = quiz.question()
    category = question.category
    bank.save_category(category.name, category.description, category, active=False)
    login(make.admin())
    page = page_of(client.get(f"/bank/{question.id}/edit"))
    assert f'<option selected value="{category.id}">Chính quyền số (ngừng dùng)</option>' in page
    client.post(f"/bank/{question.id}/edit", data=form(quiz, text="Vẫn lĩnh vực cũ?", category_id=category.id))
    assert question.current.text == "Vẫn lĩnh vực cũ?" and question.category_id == category.id
