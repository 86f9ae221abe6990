"""Item statistics: how each question of the bank behaved once it was answered.

Definitions (classical test theory):

- Only submitted attempts count. Every item of one counts as asked; an item left unanswered
  counts as asked and wrong.
- Difficulty index p = correct / asked.
- Discrimination D = p(upper group) − p(lower group) (Kelley's 27 %): the n submitted attempts
  that contained the question are ranked by their total ``score``, ties by attempt id (lower id
  ranks higher, so the result never depends on the database's row order); the upper group is the
  first g, the lower group the last g, g = max(1, round(0.27·n)) with halves rounded up.
  None when the two groups would overlap (n = 1).
- Mean answer time: the mean of the items' ``answer_ms`` in seconds, items without one skipped.
  ``answer_ms`` is the time since the attempt's previous save, or its start for the first one
  (quiz.attempts.save_answer): the time spent on that answer.
- Wrong choices: every wrong choice picked in an item counts once, keyed by the choice text as
  shown, so the versions of a question add up where a rewording kept a choice's text. Choices that
  were wrong in an asked version but never picked are listed with 0: a distractor nobody picks
  does no work.
- Flags, raised only from ``ITEM_STATS_MIN_SAMPLE`` (20) times asked on (below it ``small_sample``):
  p < ``ITEM_STATS_LOW_P`` (0.10), D < 0, and, as a softer note, p > ``ITEM_STATS_HIGH_P`` (0.95).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, Text, case, cast, func, select

from core.extensions import db
from quiz.bank import difficulty_label
from quiz.models import Attempt, AttemptItem, AttemptStatus, Question, QuestionVersion

DEFAULT_MIN_SAMPLE = 20
DEFAULT_LOW_P = 0.10
DEFAULT_HIGH_P = 0.95


@dataclass(frozen=True)
class ItemStats:
    question_id: int
    asked: int
    correct_share: float  # difficulty index p, 0..1
    discrimination: float | None  # D, -1..1
    mean_answer_seconds: float | None
    wrong_choices: list[tuple[str, int]]  # (choice text, times picked), most picked first
    flags: list[str]
    small_sample: bool


def item_stats(question_id: int) -> ItemStats | None:
    """None when the question was never part of a submitted attempt."""
    return all_item_stats([question_id]).get(question_id)


def all_item_stats(question_ids: Iterable[int] | None = None) -> dict[int, ItemStats]:
    """Statistics of the given questions (all when None) that were asked, in two queries whatever
    their number."""
    ids = None if question_ids is None else sorted(set(question_ids))
    if ids == []:
        return {}
    wrong = _wrong_choices(ids)
    min_sample, low_p, high_p = _settings()
    result = {}
    for question_id, asked, correct, timed, total_ms, group, upper, lower in db.session.execute(_totals(ids)):
        share = correct / asked
        # One subtraction, one division: D is exact for the fractions tests work out by hand.
        discrimination = (upper - lower) / group if 2 * group <= asked else None
        small = asked < min_sample
        result[question_id] = ItemStats(
            question_id=question_id,
            asked=asked,
            correct_share=share,
            discrimination=discrimination,
            mean_answer_seconds=total_ms / timed / 1000 if timed else None,
            wrong_choices=wrong.get(question_id, []),
            flags=[] if small else _flags(share, discrimination, low_p, high_p),
            small_sample=small,
        )
    return result


def _settings() -> tuple[int, float, float]:
    config = current_app.config
    return (
        config.get("ITEM_STATS_MIN_SAMPLE", DEFAULT_MIN_SAMPLE),
        config.get("ITEM_STATS_LOW_P", DEFAULT_LOW_P),
        config.get("ITEM_STATS_HIGH_P", DEFAULT_HIGH_P),
    )


def _submitted_items(query: Select, ids: Sequence[int] | None) -> Select:
    query = (
        query.select_from(AttemptItem)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .join(QuestionVersion, QuestionVersion.id == AttemptItem.version_id)
        .where(Attempt.status == AttemptStatus.SUBMITTED)
    )
    return query if ids is None else query.where(QuestionVersion.question_id.in_(ids))


def _totals(ids: Sequence[int] | None) -> Select:
    """Per question: asked, correct, items timed, their total ms, group size, correct in the upper
    and in the lower group. The ranking is done by window functions so that the database, not
    Python, holds the items (SQLite >= 3.25 and PostgreSQL both have them)."""
    question_id = QuestionVersion.question_id
    ranked = _submitted_items(
        select(
            question_id.label("question_id"),
            case((AttemptItem.is_correct.is_(True), 1), else_=0).label("ok"),  # unanswered: NULL or False
            AttemptItem.answer_ms.label("ms"),
            func.row_number()
            .over(partition_by=question_id, order_by=(Attempt.score.desc(), Attempt.id))
            .label("place"),
            func.count().over(partition_by=question_id).label("n"),
        ),
        ids,
    ).subquery()
    # max(1, round(0.27·n)), halves up, in integers: no float rounding differs between backends.
    group = case((ranked.c.n < 2, 1), else_=(27 * ranked.c.n + 50) // 100)
    return select(
        ranked.c.question_id,
        func.count(),
        func.sum(ranked.c.ok),
        func.count(ranked.c.ms),
        func.sum(ranked.c.ms),
        func.max(group),
        func.sum(case((ranked.c.place <= group, ranked.c.ok), else_=0)),
        func.sum(case((ranked.c.place > ranked.c.n - group, ranked.c.ok), else_=0)),
    ).group_by(ranked.c.question_id)


def _wrong_choices(ids: Sequence[int] | None) -> dict[int, list[tuple[str, int]]]:
    """Items grouped by version and selection: a handful of rows per version however many items."""
    selection = cast(AttemptItem.selected, Text)  # PostgreSQL cannot group a json column itself
    query = _submitted_items(
        select(QuestionVersion.question_id, QuestionVersion.choices, QuestionVersion.correct, selection, func.count()),
        ids,
    )
    # Grouping by the version's primary key lets both backends return its other columns.
    query = query.group_by(QuestionVersion.id, selection).order_by(QuestionVersion.question_id, QuestionVersion.number)
    picks: dict[int, dict[str, int]] = {}
    for question_id, choices, correct, selected, times in db.session.execute(query):
        counts = picks.setdefault(question_id, {})
        wrong = [index for index in range(len(choices)) if index not in correct]
        for index in wrong:
            counts.setdefault(choices[index], 0)
        # Unanswered is SQL NULL or JSON null, depending on how the item was written.
        for index in (json.loads(selected) or []) if selected else []:
            if index in wrong:
                counts[choices[index]] += times
    # sorted() is stable: ties keep the authoring order of the first version that had the text.
    return {qid: sorted(counts.items(), key=lambda item: -item[1]) for qid, counts in picks.items()}


def _flags(share: float, discrimination: float | None, low_p: float, high_p: float) -> list[str]:
    flags = []
    if share < low_p:
        flags.append(_("Gần như không ai trả lời đúng (%(p)s)", p=_percent(share)))
    if discrimination is not None and discrimination < 0:
        flags.append(_(
            "Nhóm điểm cao trả lời đúng ít hơn nhóm điểm thấp (D = %(d)s): hãy kiểm tra đáp án",
            d=_signed(discrimination),
        ))
    if share > high_p:
        flags.append(_("Gần như ai cũng trả lời đúng (%(p)s): câu hỏi có quá dễ không?", p=_percent(share)))
    return flags


def _signed(value: float) -> str:
    # Two decimals, more only where two would show a flagged −1/270 as "-0,00".
    return format_decimal(value, format="0.00" if abs(value) >= 0.01 else "0.00##")


def _percent(share: float) -> str:
    # One decimal where it matters: 9.6 % must not read "10%" next to a 10 % threshold.
    return format_percent(share, format="#,##0.#%")


def stats_workbook(stats: dict[int, ItemStats]) -> bytes:
    """An .xlsx of one row per question, by id. Shares, D and times are numbers (Excel sorts and
    formats them in the reader's locale), not text."""
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(list(stats))))}
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Thống kê câu hỏi")
    headers = [
        _("Mã câu hỏi"), _("Nội dung câu hỏi"), _("Lĩnh vực"), _("Mức độ"), _("Số lần hỏi"), _("Tỷ lệ đúng"),
        _("Độ phân biệt (D)"), _("Thời gian trả lời TB (giây)"), _("Phương án sai được chọn nhiều nhất"),
        _("Cảnh báo"),
    ]
    sheet.append(headers)
    fill = PatternFill("solid", fgColor="DDE7F3")
    widths = [10, 60, 24, 12, 10, 10, 12, 14, 36, 60]
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = Font(bold=True), fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    for question_id in sorted(stats):
        sheet.append(_row(questions[question_id], stats[question_id]))
        row = sheet.max_row
        sheet.cell(row=row, column=6).number_format = "0.0%"
        sheet.cell(row=row, column=7).number_format = "0.00"
        sheet.cell(row=row, column=8).number_format = "0.0"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(question: Question, item: ItemStats) -> list[object]:
    picked = next(((text, times) for text, times in item.wrong_choices if times), None)
    return [
        question.id,
        question.current.text,
        question.category.name,
        difficulty_label(question.difficulty),
        item.asked,
        item.correct_share,
        item.discrimination,
        item.mean_answer_seconds,
        f"{picked[0]} ({picked[1]})" if picked else None,
        "; ".join(item.flags) or None,
    ]

