"""Rules of the question bank: what a valid question is, versions, review workflow, search."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, insert, select, update

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.pagination import Page, paginate_select
from core.text import clean, fold
from quiz.models import (
    AttemptItem,
    Category,
    Difficulty,
    Question,
    QuestionKind,
    QuestionStatus,
    QuestionTag,
    QuestionVersion,
)

MIN_CHOICES, MAX_CHOICES = 2, 6
LETTERS = "ABCDEF"
TRUE_FALSE_CHOICES = ("Đúng", "Sai")
MAX_TEXT = 2000
MAX_CHOICE = 500
MAX_CATEGORY_NAME, MAX_CATEGORY_DESCRIPTION = 120, 500  # the column widths

DIFFICULTY_LABELS = {
    Difficulty.EASY: _l("Dễ"),
    Difficulty.MEDIUM: _l("Trung bình"),
    Difficulty.HARD: _l("Khó"),
}
KIND_LABELS = {
    QuestionKind.SINGLE: _l("Một đáp án"),
    QuestionKind.MULTIPLE: _l("Nhiều đáp án"),
    QuestionKind.TRUE_FALSE: _l("Đúng/Sai"),
}
STATUS_LABELS = {
    QuestionStatus.DRAFT: _l("Bản nháp"),
    QuestionStatus.APPROVED: _l("Đã duyệt"),
    QuestionStatus.RETIRED: _l("Ngừng sử dụng"),
}

# Words staff write in files, folded, besides the labels themselves.
_DIFFICULTY_WORDS = {
    "de": Difficulty.EASY, "easy": Difficulty.EASY, "muc 1": Difficulty.EASY, "nhan biet": Difficulty.EASY,
    "trung binh": Difficulty.MEDIUM, "tb": Difficulty.MEDIUM, "medium": Difficulty.MEDIUM,
    "muc 2": Difficulty.MEDIUM, "thong hieu": Difficulty.MEDIUM,
    "kho": Difficulty.HARD, "hard": Difficulty.HARD, "muc 3": Difficulty.HARD, "van dung": Difficulty.HARD,
}
_KIND_WORDS = {
    "mot dap an": QuestionKind.SINGLE, "mot lua chon": QuestionKind.SINGLE, "single": QuestionKind.SINGLE,
    "nhieu dap an": QuestionKind.MULTIPLE, "nhieu lua chon": QuestionKind.MULTIPLE,
    "multiple": QuestionKind.MULTIPLE,
    "dung/sai": QuestionKind.TRUE_FALSE, "dung sai": QuestionKind.TRUE_FALSE, "true/false": QuestionKind.TRUE_FALSE,
    "true_false": QuestionKind.TRUE_FALSE,
}
_LETTER_SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|&|\bva\b|\band\b|\s)\s*")
_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def difficulty_label(value: str) -> str:
    return str(DIFFICULTY_LABELS[Difficulty(value)])


def kind_label(value: str) -> str:
    return str(KIND_LABELS[QuestionKind(value)])


def status_label(value: str) -> str:
    return str(STATUS_LABELS[QuestionStatus(value)])


def parse_difficulty(text: str) -> Difficulty | None:
    """``"Trung Bình"``, ``"trung binh"``, ``"TB"`` → MEDIUM; None when not recognised."""
    return _DIFFICULTY_WORDS.get(fold(text))


def parse_kind(text: str) -> QuestionKind | None:
    return _KIND_WORDS.get(fold(text).replace(" / ", "/"))


def parse_letters(text: str) -> list[int] | None:
    """``"B"``, ``"A, C"``, ``"a;c"``, ``"A và C"``, ``"AC"`` → choice indexes; None if unreadable."""
    folded = fold(text)
    if not folded:
        return []
    parts = [part for part in _LETTER_SEPARATORS.split(folded) if part]
    if len(parts) == 1 and parts[0].isalpha() and len(parts[0]) <= len(LETTERS):
        parts = list(parts[0])  # "AC"
    indexes = []
    for part in parts:
        if len(part) != 1 or part.upper() not in LETTERS:
            return None
        indexes.append(LETTERS.index(part.upper()))
    return sorted(set(indexes))


def fingerprint(text: str) -> str:
    """Question text reduced for duplicate detection: no case, accents, punctuation or extra spaces."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())[:500]


_CATEGORY_NOISE = re.compile(r"[\s\-–—&,.]+|\bva\b")


def category_key(name: str) -> str:
    """"Kỹ năng số & an toàn thông tin" and "ky nang so va an toan thong tin" share one key."""
    return " ".join(_CATEGORY_NOISE.sub(" ", fold(name)).split())


def find_category(name: str) -> Category | None:
    """Matched case- and accent-insensitively, whatever dash or "&"/"và" the file uses."""
    key = category_key(name)
    return next((c for c in db.session.scalars(select(Category)) if category_key(c.name) == key), None)


def categories(active_only: bool = True) -> list[Category]:
    query = select(Category).order_by(Category.position, Category.name)
    if active_only:
        query = query.where(Category.active)
    return list(db.session.scalars(query))


def category_question_counts() -> dict[int, int]:
    """How many questions each category holds (any status), for the categories screen."""
    query = select(Question.category_id, func.count()).group_by(Question.category_id)
    return dict(db.session.execute(query).all())


def save_category(name: str, description: str = "", category: Category | None = None, active: bool = True) -> Category:
    name, description = clean(name), clean(description)
    if not name:
        raise ValidationError(_("Chưa nhập tên lĩnh vực."), field="name")
    if len(name) > MAX_CATEGORY_NAME:
        raise ValidationError(_("Tên lĩnh vực dài quá %(n)d ký tự.", n=MAX_CATEGORY_NAME), field="name")
    if len(description) > MAX_CATEGORY_DESCRIPTION:
        raise ValidationError(
            _("Mô tả dài quá %(n)d ký tự.", n=MAX_CATEGORY_DESCRIPTION), field="description"
        )
    other = find_category(name)
    if other is not None and other is not category:
        raise ValidationError(_("Đã có lĩnh vực “%(n)s”.", n=other.name), field="name")
    if category is None:
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
        category = Category(position=position)
        db.session.add(category)
    category.name, category.description, category.active = name, description, active
    db.session.flush()
    return category


@dataclass
class QuestionInput:
    """A question as typed in a form or read from a spreadsheet row, before validation."""

    text: str
    choices: list[str]
    correct: list[int]
    category_id: int | None
    difficulty: str
    kind: str | None = None  # None: inferred (True/False choices, or more than one correct)
    explanation: str = ""
    source: str = ""
    tags: list[str] = field(default_factory=list)


def parse_tags(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for raw in re.split(r"[,;]", text or ""):
        tag = clean(raw).lower()[:60]
        if tag and fold(tag) not in seen:
            seen[fold(tag)] = tag
    return list(seen.values())


def validate(data: QuestionInput) -> QuestionInput:
    """Clean and check a question; raises ValidationError naming the field at fault."""
    text = "\n".join(clean(line) for line in (data.text or "").replace("\r\n", "\n").split("\n")).strip()
    if not text:
        raise ValidationError(_("Chưa nhập nội dung câu hỏi."), field="text")
    if len(text) > MAX_TEXT:
        raise ValidationError(_("Câu hỏi dài quá %(n)d ký tự.", n=MAX_TEXT), field="text")
    try:
        chosen_kind = QuestionKind(data.kind) if data.kind else None
    except ValueError:
        raise ValidationError(_("Loại câu hỏi không hợp lệ."), field="kind") from None
    choices = [clean(choice) for choice in data.choices]
    if chosen_kind == QuestionKind.TRUE_FALSE and not any(choices):
        choices = list(TRUE_FALSE_CHOICES)  # a form need not make people type "Đúng" and "Sai"
    while choices and not choices[-1]:
        choices.pop()
    if any(not choice for choice in choices):
        letter = LETTERS[choices.index("")]
        raise ValidationError(
            _("Phương án %(l)s để trống trong khi các phương án sau có nội dung.", l=letter), field="choices"
        )
    if len(choices) < MIN_CHOICES:
        raise ValidationError(_("Câu hỏi cần ít nhất %(n)d phương án.", n=MIN_CHOICES), field="choices")
    if len(choices) > MAX_CHOICES:
        raise ValidationError(_("Câu hỏi có nhiều nhất %(n)d phương án.", n=MAX_CHOICES), field="choices")
    if any(len(choice) > MAX_CHOICE for choice in choices):
        raise ValidationError(_("Mỗi phương án dài nhiều nhất %(n)d ký tự.", n=MAX_CHOICE), field="choices")
    folded = [fold(choice) for choice in choices]
    if len(set(folded)) != len(folded):
        raise ValidationError(_("Có hai phương án giống nhau."), field="choices")
    correct = sorted(set(data.correct))
    if not correct:
        raise ValidationError(_("Chưa chọn đáp án đúng."), field="correct")
    missing = [LETTERS[i] if i < len(LETTERS) else str(i) for i in correct if i >= len(choices)]
    if missing:
        raise ValidationError(
            _("Đáp án đúng %(l)s không có phương án tương ứng.", l=", ".join(missing)), field="correct"
        )
    kind = chosen_kind or _infer_kind(folded, correct)
    if kind == QuestionKind.TRUE_FALSE and folded != [fold(c) for c in TRUE_FALSE_CHOICES]:
        raise ValidationError(_("Câu Đúng/Sai phải có đúng hai phương án “Đúng” và “Sai”."), field="choices")
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and len(correct) != 1:
        raise ValidationError(_("Câu một đáp án chỉ có một đáp án đúng."), field="correct")
    if kind == QuestionKind.MULTIPLE and len(correct) < 2:
        raise ValidationError(_("Câu nhiều đáp án cần ít nhất hai đáp án đúng."), field="correct")
    if data.category_id is None or db.session.get(Category, data.category_id) is None:
        raise ValidationError(_("Chưa chọn lĩnh vực."), field="category_id")
    try:
        difficulty = Difficulty(data.difficulty)
    except ValueError:
        raise ValidationError(_("Chưa chọn mức độ."), field="difficulty") from None
    return QuestionInput(
        text=text, choices=choices, correct=correct, category_id=data.category_id, difficulty=difficulty,
        kind=kind, explanation=clean_multiline(data.explanation), source=clean(data.source)[:300],
        tags=parse_tags(",".join(data.tags)),
    )


def clean_multiline(text: str | None) -> str:
    return "\n".join(clean(line) for line in (text or "").replace("\r\n", "\n").split("\n")).strip()


def _infer_kind(folded_choices: list[str], correct: list[int]) -> QuestionKind:
    if folded_choices == [fold(c) for c in TRUE_FALSE_CHOICES]:
        return QuestionKind.TRUE_FALSE
    return QuestionKind.MULTIPLE if len(correct) > 1 else QuestionKind.SINGLE


def find_duplicate(text: str, exclude_id: int | None = None) -> Question | None:
    query = select(Question).where(Question.fingerprint == fingerprint(text))
    if exclude_id is not None:
        query = query.where(Question.id != exclude_id)
    return db.session.scalars(query.limit(1)).first()


def _check_duplicate(text: str, exclude_id: int | None) -> None:
    other = find_duplicate(text, exclude_id)
    if other is not None:
        raise ValidationError(
            _("Câu hỏi này trùng với câu #%(id)d đã có trong ngân hàng.", id=other.id), field="text"
        )


def _wording(data: QuestionInput, author: User | None) -> dict[str, object]:
    """A version's columns, from validated input."""
    return {
        "kind": data.kind, "text": data.text, "choices": data.choices, "correct": data.correct,
        "explanation": data.explanation, "source": data.source, "category_id": data.category_id,
        "difficulty": data.difficulty, "created_by_id": author.id if author else None,
    }


def _listing(wording: QuestionInput | QuestionVersion, tags: list[str]) -> dict[str, object]:
    """What lists filter and search on, copied from the current wording onto the question."""
    return {
        "category_id": wording.category_id, "difficulty": wording.difficulty, "fingerprint": fingerprint(wording.text),
        "search_text": fold(" ".join([wording.text, *wording.choices, wording.explanation, wording.source, *tags])),
        "updated_at": utcnow(),
    }


def _new_version(question: Question, data: QuestionInput, author: User | None, number: int) -> QuestionVersion:
    version = QuestionVersion(question=question, number=number, **_wording(data, author))
    db.session.add(version)
    return version


def _sync(question: Question, version: QuestionVersion, tags: list[str]) -> None:
    question.current = version
    for name, value in _listing(version, tags).items():
        setattr(question, name, value)
    question.tags = [QuestionTag(name=tag) for tag in tags]


def create_question(
    data: QuestionInput, author: User | None, status: QuestionStatus = QuestionStatus.DRAFT,
    check_duplicates: bool = True,
) -> Question:
    data = validate(data)
    if check_duplicates:
        _check_duplicate(data.text, None)
    question = Question(status=QuestionStatus.DRAFT, author_id=author.id if author else None)
    db.session.add(question)
    version = _new_version(question, data, author, number=1)
    _sync(question, version, data.tags)
    if status == QuestionStatus.APPROVED:
        _mark_approved(question, author)
    db.session.flush()
    return question


def create_questions(
    inputs: Sequence[QuestionInput], author: User | None, status: QuestionStatus = QuestionStatus.DRAFT
) -> list[int]:
    """Many new questions in a few statements, for an import that checked duplicates for the whole
    file itself (create_question goes through the unit of work one question at a time: several
    times slower for thousands). Returns their ids, in order."""
    inputs = [validate(data) for data in inputs]
    if not inputs:
        return []
    common = {"status": QuestionStatus.DRAFT, "author_id": author.id if author else None}
    if status == QuestionStatus.APPROVED:
        common |= _approval(author)
    ids = list(db.session.scalars(
        insert(Question).returning(Question.id, sort_by_parameter_order=True),
        [{**common, **_listing(data, data.tags)} for data in inputs],
    ))
    version_ids = db.session.scalars(
        insert(QuestionVersion).returning(QuestionVersion.id, sort_by_parameter_order=True),
        [{"question_id": id_, "number": 1, **_wording(data, author)} for id_, data in zip(ids, inputs, strict=True)],
    )
    db.session.execute(
        update(Question), [{"id": id_, "current_version_id": v} for id_, v in zip(ids, version_ids, strict=True)]
    )
    tags = [{"question_id": id_, "name": tag} for id_, data in zip(ids, inputs, strict=True) for tag in data.tags]
    if tags:
        db.session.execute(insert(QuestionTag), tags)
    return ids


def was_asked(version: QuestionVersion) -> bool:
    return bool(db.session.scalar(select(exists().where(AttemptItem.version_id == version.id))))


def find_version(question: Question, number: int) -> QuestionVersion | None:
    return next((version for version in question.versions if version.number == number), None)


def edit_question(question: Question, data: QuestionInput, editor: User) -> Question:
    """A question already shown in an attempt gets a new version; otherwise it is corrected in place."""
    require_edit(editor, question)
    data = validate(data)
    _check_duplicate(data.text, question.id)
    current = question.current
    if current is not None and was_asked(current):
        version = _new_version(question, data, editor, number=current.number + 1)
    else:
        version = current
        for name in ("kind", "text", "choices", "correct", "explanation", "source", "category_id", "difficulty"):
            setattr(version, name, getattr(data, name))
    db.session.flush()
    _sync(question, version, data.tags)
    db.session.flush()
    return question


# --- review workflow ---------------------------------------------------------------------------


def can_author(user: User) -> bool:
    """Department staff write and approve; Youth Union organisers propose drafts."""
    return user.role_code in (RoleCode.ADMIN, RoleCode.ORGANISER)


def can_review(user: User) -> bool:
    return user.role_code == RoleCode.ADMIN


def can_edit(user: User, question: Question) -> bool:
    if can_review(user):
        return True
    return (
        user.role_code == RoleCode.ORGANISER and question.author_id == user.id
        and question.status == QuestionStatus.DRAFT
    )


def require_edit(user: User, question: Question) -> None:
    if not can_edit(user, question):
        raise PermissionDenied


def _approval(actor: User | None) -> dict[str, object]:
    return {
        "status": QuestionStatus.APPROVED, "approved_by_id": actor.id if actor else None, "approved_at": utcnow(),
        "retired_by_id": None, "retired_at": None,
    }


def _mark_approved(question: Question, actor: User | None) -> None:
    for name, value in _approval(actor).items():
        setattr(question, name, value)


def approve(questions: Iterable[Question], actor: User) -> int:
    """Draft or retired → approved. Returns how many changed; approved ones are left as they are."""
    if not can_review(actor):
        raise PermissionDenied
    changed = 0
    for question in questions:
        if question.status != QuestionStatus.APPROVED:
            _mark_approved(question, actor)
            changed += 1
    db.session.flush()
    return changed


def retire(questions: Iterable[Question], actor: User) -> int:
    """Draft or approved → retired: never drawn again; past attempts keep showing it."""
    if not can_review(actor):
        raise PermissionDenied
    changed = 0
    for question in questions:
        if question.status != QuestionStatus.RETIRED:
            question.status = QuestionStatus.RETIRED
            question.retired_by_id = actor.id
            question.retired_at = utcnow()
            changed += 1
    db.session.flush()
    return changed


def questions_by_ids(ids: Sequence[int]) -> list[Question]:
    if not ids:
        return []
    return list(db.session.scalars(select(Question).where(Question.id.in_(ids))))


# --- finding questions -------------------------------------------------------------------------


@dataclass
class BankFilter:
    q: str = ""
    category_id: int | None = None
    difficulty: str | None = None
    status: str | None = None
    tag: str | None = None


def filter_query(criteria: BankFilter) -> Select[tuple[Question]]:
    """Questions matching the filter, newest first. Search is accent-insensitive ("chuyen doi so"
    finds "chuyển đổi số") because ``search_text`` is stored folded."""
    query = select(Question).order_by(Question.id.desc())
    for word in fold(criteria.q).split():
        query = query.where(Question.search_text.contains(word, autoescape=True))
    if criteria.category_id:
        query = query.where(Question.category_id == criteria.category_id)
    if criteria.difficulty:
        query = query.where(Question.difficulty == criteria.difficulty)
    if criteria.status:
        query = query.where(Question.status == criteria.status)
    if criteria.tag:
        tag = clean(criteria.tag).lower()
        query = query.where(Question.tags.any(QuestionTag.name == tag))
    return query


def search(criteria: BankFilter, page: int | None = None, per_page: int = 25) -> Page[Question]:
    return paginate_select(filter_query(criteria), page, per_page)


def all_tags() -> list[str]:
    return list(db.session.scalars(select(QuestionTag.name).distinct().order_by(QuestionTag.name)))


def approved_pool(category_id: int | None = None, difficulty: str | None = None) -> Select[tuple[Question]]:
    """The questions a quiz may draw from: approved only, never drafts or retired ones."""
    return filter_query(BankFilter(category_id=category_id, difficulty=difficulty, status=QuestionStatus.APPROVED))
