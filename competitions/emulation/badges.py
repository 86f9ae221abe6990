"""Badges (huy hiệu): rules are data (BadgeRule rows), evaluated by the function registered for
their ``kind`` in KINDS, with thresholds from ``rule.params``.

- A report verified (competitions.signals.report_changed) evaluates the report rules
  (first_to_target); a round closed (competitions.signals.round_closed) the round rules.
- Awards are idempotent: a holder ("t<team id>" / "m<user id>") earns a rule once per occasion
  (the database's unique key; duplicates are skipped, never an error), and each award is
  announced in the team feed (a member's badge in the feed of the team they competed for).
- ``evaluate_all`` replays every rule over past data (the ``flask emulation badges`` command).

Streak rules never count a streak twice: after a 4-week streak the next award needs 4 more weeks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager

from competitions import results, signals
from competitions.emulation import feed, levels
from competitions.emulation.models import (
    ActivityKind,
    ActivityReport,
    BadgeAward,
    BadgeRule,
    BadgeSubject,
    ReportLine,
    ReportStatus,
    Target,
)
from competitions.emulation.periods import Period
from competitions.models import Entry, PeriodKind, Round, RoundStatus
from competitions.play import commune_of
from core.accounts.models import User
from core.db_types import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Team
from quiz.models import Attempt

DETAIL_LENGTH = 300  # BadgeAward.detail
INSERT_BATCH = 1000  # awards per INSERT: well under the bound-parameter limits of SQLite and PostgreSQL
NAME_LENGTH, DESCRIPTION_LENGTH, ICON_LENGTH = 120, 300, 8  # BadgeRule columns


# --- parameters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One threshold of a rule kind, with the range an admin may set it to."""

    name: str
    label: Any  # a lazy message
    kind: type  # int or float
    minimum: float
    maximum: float

    def parse(self, raw: object) -> int | float:
        """The typed value of what was entered ("0,8" and "0.8" alike); a clear error otherwise."""
        text = str(raw if raw is not None else "").strip().replace(",", ".")
        try:
            value: int | float | None = self.kind(text)
        except ValueError:
            value = None
        if value is None or not self.minimum <= value <= self.maximum:
            raise ValidationError(
                _("%(label)s phải là một số từ %(a)s đến %(b)s.", label=self.label, a=format_number(self.minimum),
                  b=format_number(self.maximum)),
                field=f"param_{self.name}",
            )
        return value


def format_number(value: float) -> str:
    """A threshold as typed in the reader's locale ("0,8" in Vietnamese); Param.parse reads both marks."""
    return format_decimal(value, format="0.##")


def percent(share: float) -> str:
    return format_percent(share, format="#,##0.#%")


WEEKS = Param("weeks", _l("Số tuần liên tiếp"), int, 2, 52)
RANK = Param("rank", _l("Hạng từ 1 đến"), int, 1, 100)
RATE = Param("rate", _l("Tỉ lệ tham gia tối thiểu (0–1)"), float, 0.05, 1)
RATIO = Param("ratio", _l("Tỉ lệ chỉ tiêu phải đạt (1 = 100%)"), float, 0.1, 10)


def check_params(kind: str, raw: dict[str, object]) -> dict[str, int | float]:
    """The params of a rule of ``kind``, typed and in range (ValidationError naming the field)."""
    found = KINDS.get(kind)
    if found is None:
        raise ValidationError(_("Loại quy tắc “%(kind)s” không được hỗ trợ.", kind=kind), field="kind")
    return {param.name: param.parse(raw.get(param.name)) for param in found.params}


# --- awarding --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An award about to be made: to a team (``user_id`` None) or a member (with their team of the day)."""

    occasion: str
    detail: str
    team_id: int | None
    user_id: int | None = None
    user_name: str = ""

    @property
    def holder(self) -> str:
        return f"m{self.user_id}" if self.user_id is not None else f"t{self.team_id}"


def _trim(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _award(rule: BadgeRule, candidates: Sequence[Candidate]) -> list[BadgeAward]:
    """Insert the awards not made yet (a statement per batch; an existing or concurrently made
    award is skipped by the unique key) and announce the new ones in the team feeds."""
    now = utcnow()
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    awards: list[BadgeAward] = []
    for start in range(0, len(candidates), INSERT_BATCH):
        rows = [
            {"rule_id": rule.id, "holder": c.holder, "team_id": c.team_id, "user_id": c.user_id,
             "occasion": c.occasion, "detail": _trim(c.detail, DETAIL_LENGTH), "awarded_at": now}
            for c in candidates[start:start + INSERT_BATCH]
        ]
        statement = (
            insert(BadgeAward).values(rows)
            .on_conflict_do_nothing(index_elements=["rule_id", "holder", "occasion"])
            .returning(BadgeAward.id)
        )
        ids = list(db.session.scalars(statement))
        if ids:
            awards += db.session.scalars(select(BadgeAward).where(BadgeAward.id.in_(ids)).order_by(BadgeAward.id))
    names = {c.holder: c.user_name for c in candidates}
    badge = f"{rule.icon} “{rule.name}”"
    lines = []
    with feed.product_language():
        for award in awards:
            if award.team_id is None:
                continue  # a guest of a public round has no team feed
            if award.user_id is None:
                text = _("Tổ đạt huy hiệu %(badge)s: %(detail)s", badge=badge, detail=award.detail)
            else:
                text = _("%(name)s đạt huy hiệu %(badge)s: %(detail)s", name=names[award.holder], badge=badge,
                         detail=award.detail)
            lines.append(feed.Line(award.team_id, feed.FeedKind.BADGE, text))
    feed.post_many(lines)
    return awards


def _existing(rule: BadgeRule, occasions: set[str]) -> set[tuple[str, str]]:
    """(holder, occasion) of the rule's awards on these occasions."""
    if not occasions:
        return set()
    return set(db.session.execute(
        select(BadgeAward.holder, BadgeAward.occasion)
        .where(BadgeAward.rule_id == rule.id, BadgeAward.occasion.in_(occasions))
    ).all())


def _round_occasion(round_: Round) -> str:
    return f"round:{round_.id}"


# --- report rules ----------------------------------------------------------------------------------


def _lock_commune(commune: Unit) -> None:
    """Serialise the first-to-target awards of one commune: of two verifications committed at
    once, the second waits and then sees the first one's award (PostgreSQL row lock; SQLite
    serialises writers anyway)."""
    db.session.execute(select(Unit.id).where(Unit.id == commune.id).with_for_update())


def first_to_target(rule: BadgeRule, report: ActivityReport) -> list[BadgeAward]:
    """The first team of its commune to reach ``ratio`` of its monthly target for an activity.
    Achievements count the verified reports up to this one's verification, so replaying past
    reports in the order they were verified finds the same first team."""
    if report.status != ReportStatus.VERIFIED:
        return []
    team = report.team
    commune = commune_of(team.unit)
    if commune is None:
        return []
    ratio = float(rule.params["ratio"])  # type: ignore[arg-type]
    targets = dict(db.session.execute(
        select(Target.activity_id, Target.quantity).where(
            Target.team_id == team.id, Target.period == report.month, Target.quantity > 0,
            Target.activity_id.in_([line.activity_id for line in report.lines if line.quantity > 0]),
        )
    ).all())
    if not targets:
        return []
    counted = [ActivityReport.team_id == team.id, ActivityReport.month == report.month,
               ActivityReport.status == ReportStatus.VERIFIED, ReportLine.activity_id.in_(targets)]
    if report.reviewed_at is not None:
        counted.append(or_(ActivityReport.reviewed_at <= report.reviewed_at, ActivityReport.id == report.id))
    achieved = dict(db.session.execute(
        select(ReportLine.activity_id, func.sum(ReportLine.quantity))
        .join(ActivityReport, ActivityReport.id == ReportLine.report_id)
        .where(*counted).group_by(ReportLine.activity_id)
    ).all())
    reached = [activity for activity, target in targets.items() if (achieved.get(activity) or 0) >= ratio * target]
    if not reached:
        return []
    activities = {a.id: a for a in db.session.scalars(select(ActivityKind).where(ActivityKind.id.in_(reached)))}
    _lock_commune(commune)
    occasions = {a.id: f"{report.month}:{a.code}:c{commune.id}" for a in activities.values()}
    taken = {occasion for _holder, occasion in _existing(rule, set(occasions.values()))}
    month = Period.parse(report.month).label
    candidates = []
    with feed.product_language():
        for activity_id in reached:
            if occasions[activity_id] in taken:
                continue  # another team of the commune got there first
            detail = _("tổ đầu tiên của %(commune)s đạt %(pct)s chỉ tiêu “%(activity)s” %(month)s",
                       commune=commune.name, pct=percent(ratio), activity=activities[activity_id].name, month=month)
            candidates.append(Candidate(occasions[activity_id], detail, team.id))
    return _award(rule, candidates)


# --- round rules -----------------------------------------------------------------------------------


def _weekly_rounds_until(round_: Round) -> list[Round]:
    """Closed weekly rounds up to ``round_`` (opened no later) whose area overlaps its area, in order:
    the rounds among which a team's or a member's consecutive weeks are counted."""
    scope = round_.scope_unit.path
    return list(db.session.scalars(
        select(Round).join(Unit, Unit.id == Round.scope_unit_id)
        .where(
            Round.period_kind == PeriodKind.WEEKLY, Round.status == RoundStatus.PUBLISHED,
            Round.finalised_at.is_not(None), Round.opens_at <= round_.opens_at,
            or_(Unit.path.startswith(scope), func.substr(scope, 1, func.length(Unit.path)) == Unit.path),
        )
        .options(contains_eager(Round.scope_unit))
        .order_by(Round.opens_at, Round.id)
    ))


def _last_weeks(rounds: Sequence[Round], round_: Round, path: str, weeks: int) -> list[Round] | None:
    """The last ``weeks`` of ``rounds`` open to someone of the unit at ``path``, ending with
    ``round_``; None when there are fewer."""
    mine = [r.id for r in rounds if path.startswith(r.scope_unit.path)]
    if round_.id not in mine:
        return None
    end = mine.index(round_.id) + 1
    if end < weeks:
        return None
    by_id = {r.id: r for r in rounds}
    return [by_id[i] for i in mine[end - weeks:end]]


def _new_streaks(rule: BadgeRule, streaks: dict[str, list[Round]]) -> set[str]:
    """The holders whose streak shares no round with one already awarded (a streak counts once)."""
    earlier = {_round_occasion(r) for streak in streaks.values() for r in streak[:-1]}
    awarded = _existing(rule, earlier)
    return {holder for holder, streak in streaks.items()
            if not any((holder, _round_occasion(r)) in awarded for r in streak[:-1])}


def participation_streak(rule: BadgeRule, round_: Round) -> list[BadgeAward]:
    """``weeks`` consecutive weekly rounds in which at least ``rate`` of the team's members took part."""
    if round_.period_kind != PeriodKind.WEEKLY:
        return []
    weeks, rate = int(rule.params["weeks"]), float(rule.params["rate"])  # type: ignore[arg-type]
    cache: dict[int, dict[int, float]] = {}

    def participation(r: Round) -> dict[int, float]:
        if r.id not in cache:
            cache[r.id] = {t.team_id: t.participation for t in results.team_results(r) if t.members}
        return cache[r.id]

    qualified = {team_id for team_id, share in participation(round_).items() if share >= rate}
    if not qualified:
        return []
    rounds = _weekly_rounds_until(round_)
    paths = dict(db.session.execute(
        select(Team.id, Unit.path).join(Unit, Unit.id == Team.unit_id).where(Team.id.in_(qualified))
    ).all())
    streaks: dict[str, list[Round]] = {}
    for team_id in qualified:
        streak = _last_weeks(rounds, round_, paths[team_id], weeks)
        if streak and all(participation(r).get(team_id, 0.0) >= rate for r in streak):
            streaks[f"t{team_id}"] = streak
    fresh = _new_streaks(rule, streaks)
    with feed.product_language():
        detail = _("%(n)d đợt thi tuần liên tiếp có từ %(pct)s thành viên dự thi, đến “%(round)s”", n=weeks,
                   pct=percent(rate), round=round_.title)
    return _award(rule, [Candidate(_round_occasion(round_), detail, int(h[1:])) for h in sorted(fresh)])


def team_top_finish(rule: BadgeRule, round_: Round) -> list[BadgeAward]:
    """Rank ``rank`` or better in the round's team ranking (teams that took part)."""
    best = int(rule.params["rank"])  # type: ignore[call-overload]
    with feed.product_language():
        candidates = [
            Candidate(_round_occasion(round_), _("hạng %(rank)d tập thể trong “%(round)s”", rank=t.rank,
                                                 round=round_.title), t.team_id)
            for t in results.team_results(round_) if t.rank <= best and t.participants and t.score > 0
        ]
    return _award(rule, candidates)


def _takers(rounds: Sequence[Round], user_ids: set[int]) -> dict[int, set[int]]:
    """Per round: which of these people submitted an attempt in it."""
    by_context = {r.context: r.id for r in rounds}
    taken: dict[int, set[int]] = defaultdict(set)
    rows = db.session.execute(
        select(Attempt.context, Attempt.user_id).distinct()
        .where(Attempt.context.in_(by_context), Attempt.submitted_at.is_not(None), Attempt.user_id.in_(user_ids))
    )
    for context, user_id in rows:
        taken[by_context[context]].add(user_id)
    return taken


def round_streak(rule: BadgeRule, round_: Round) -> list[BadgeAward]:
    """A member took ``weeks`` consecutive weekly rounds (of those open to their unit)."""
    if round_.period_kind != PeriodKind.WEEKLY:
        return []
    weeks = int(rule.params["weeks"])  # type: ignore[call-overload]
    entries = db.session.execute(
        select(Entry.user_id, Entry.team_id, Unit.path, User.full_name)
        .join(Unit, Unit.id == Entry.unit_id).join(User, User.id == Entry.user_id)
        .where(Entry.round_id == round_.id)
    ).all()
    rounds = _weekly_rounds_until(round_)
    taken = _takers(rounds, {e.user_id for e in entries})
    streaks: dict[str, list[Round]] = {}
    people = {}
    for entry in entries:
        streak = _last_weeks(rounds, round_, entry.path, weeks)
        if streak and all(entry.user_id in taken[r.id] for r in streak):
            streaks[f"m{entry.user_id}"] = streak
            people[f"m{entry.user_id}"] = entry
    fresh = _new_streaks(rule, streaks)
    with feed.product_language():
        detail = _("dự thi %(n)d đợt thi tuần liên tiếp, đến “%(round)s”", n=weeks, round=round_.title)
    return _award(rule, [
        Candidate(_round_occasion(round_), detail, people[h].team_id, people[h].user_id, people[h].full_name)
        for h in sorted(fresh)
    ])


def top_finish(rule: BadgeRule, round_: Round) -> list[BadgeAward]:
    """Rank ``rank`` or better among the round's individuals (with a score above zero)."""
    best = int(rule.params["rank"])  # type: ignore[call-overload]
    candidates = []
    with feed.product_language():
        for standing in results.ranking(round_):
            if standing.rank > best:
                break  # ranked best first
            if standing.score > 0:
                detail = _("hạng %(rank)d cá nhân trong “%(round)s”", rank=standing.rank, round=round_.title)
                candidates.append(Candidate(_round_occasion(round_), detail, standing.team_id, standing.user_id,
                                            standing.full_name))
    return _award(rule, candidates)


# --- the registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A rule kind: who earns it, on what (a verified report or a closed round), its evaluator,
    its thresholds and how to earn it in words."""

    label: Any  # a lazy message
    subject: BadgeSubject
    on: type  # ActivityReport or Round
    evaluate: Callable[[BadgeRule, Any], list[BadgeAward]]
    params: tuple[Param, ...]
    explain: Callable[[dict[str, Any]], str]


KINDS: dict[str, Kind] = {
    "first_to_target": Kind(
        _l("Về đích đầu tiên trong xã"), BadgeSubject.TEAM, ActivityReport, first_to_target, (RATIO,),
        lambda p: _("Là tổ đầu tiên của xã đạt %(pct)s chỉ tiêu tháng của một hoạt động (tính theo báo cáo đã "
                    "được xác nhận). Mỗi xã, mỗi tháng, mỗi hoạt động chỉ một tổ.", pct=percent(float(p["ratio"]))),
    ),
    "participation_streak": Kind(
        _l("Chuỗi tuần tham gia đông đủ (tổ)"), BadgeSubject.TEAM, Round, participation_streak, (WEEKS, RATE),
        lambda p: _("%(n)d đợt thi tuần liên tiếp có từ %(pct)s thành viên của tổ dự thi.", n=int(p["weeks"]),
                    pct=percent(float(p["rate"]))),
    ),
    "team_top_finish": Kind(
        _l("Thứ hạng tập thể trong đợt thi"), BadgeSubject.TEAM, Round, team_top_finish, (RANK,),
        lambda p: _("Tổ xếp hạng từ 1 đến %(n)d trong bảng xếp hạng tập thể của một đợt thi.", n=int(p["rank"])),
    ),
    "round_streak": Kind(
        _l("Chuỗi tuần dự thi (cá nhân)"), BadgeSubject.MEMBER, Round, round_streak, (WEEKS,),
        lambda p: _("Dự thi %(n)d đợt thi tuần liên tiếp.", n=int(p["weeks"])),
    ),
    "top_finish": Kind(
        _l("Thứ hạng cá nhân trong đợt thi"), BadgeSubject.MEMBER, Round, top_finish, (RANK,),
        lambda p: _("Xếp hạng cá nhân từ 1 đến %(n)d trong một đợt thi.", n=int(p["rank"])),
    ),
}


def how_to_earn(rule: BadgeRule) -> str:
    """The rule in words, from its current thresholds."""
    return KINDS[rule.kind].explain(rule.params)


def usable(rule: BadgeRule) -> bool:
    """Whether the rule's kind is known and its stored params are valid (a rule edited outside the
    admin screen may not be)."""
    try:
        check_params(rule.kind, rule.params or {})
    except ValidationError:
        return False
    return True


def _active_rules(on: type) -> list[BadgeRule]:
    """The active rules evaluated on a report or a round. An unusable one is skipped and logged: it
    must not stop the verification or the round closing that evaluates the rules."""
    rules = db.session.scalars(select(BadgeRule).where(BadgeRule.active.is_(True)).order_by(BadgeRule.id))
    chosen = []
    for rule in rules:
        if not usable(rule):
            current_app.logger.error("badge rule %s skipped: kind %r, params %r", rule.code, rule.kind, rule.params)
        elif KINDS[rule.kind].on is on:
            chosen.append(rule)
    return chosen


def evaluate(subject: ActivityReport | Round) -> list[BadgeAward]:
    """Evaluate every active rule that applies to a verified report or a closed round."""
    awards: list[BadgeAward] = []
    for rule in _active_rules(type(subject)):
        awards += KINDS[rule.kind].evaluate(rule, subject)
    return awards


# --- signals and the replay ------------------------------------------------------------------------


def _on_report_changed(report: ActivityReport, before: str | None = None, **_extra: object) -> None:
    if report.status == ReportStatus.VERIFIED and before != ReportStatus.VERIFIED:
        evaluate(report)


def _on_round_closed(round_: Round, **_extra: object) -> None:
    evaluate(round_)


def connect() -> None:
    """Connect the signals on which badges are evaluated, then those of the team feed and levels
    (a level reached after a badge is announced after it)."""
    signals.report_changed.connect(_on_report_changed)
    signals.round_closed.connect(_on_round_closed)
    feed.connect()
    levels.connect()


def evaluate_all(since: Period | None = None) -> int:
    """Replay every active rule over past data, in the order things happened: verified reports
    by verification time, closed rounds by opening. Awards already made are kept, not repeated.
    Returns the number of new awards."""
    reports = select(ActivityReport).where(ActivityReport.status == ReportStatus.VERIFIED)
    rounds = select(Round).where(Round.status == RoundStatus.PUBLISHED, Round.finalised_at.is_not(None))
    if since is not None:
        reports = reports.where(ActivityReport.month >= since.months[0].key)
        rounds = rounds.where(Round.opens_at >= since.starts_at)
    count = 0
    happened: list[tuple[datetime, int, ActivityReport | Round]] = [
        (report.reviewed_at or report.filed_at, 0, report) for report in db.session.scalars(reports)
    ]
    happened += [(round_.closes_at, 1, round_) for round_ in db.session.scalars(rounds)]
    for _moment, _order, subject in sorted(happened, key=lambda h: (h[0], h[1], h[2].id)):
        count += len(evaluate(subject))
    return count


# --- display ---------------------------------------------------------------------------------------


def team_badges(team: Team) -> list[BadgeAward]:
    """The team's own badges, latest first."""
    return list(db.session.scalars(
        select(BadgeAward).where(BadgeAward.team_id == team.id, BadgeAward.user_id.is_(None))
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc())
    ))


def member_badges(user: User) -> list[BadgeAward]:
    """The person's badges, latest first."""
    return list(db.session.scalars(
        select(BadgeAward).where(BadgeAward.user_id == user.id)
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc())
    ))


def award_counts() -> dict[int, int]:
    """How many times each rule has been awarded (the gallery shows it)."""
    return dict(db.session.execute(
        select(BadgeAward.rule_id, func.count()).group_by(BadgeAward.rule_id)
    ).all())


# --- admin -----------------------------------------------------------------------------------------


def all_rules() -> list[BadgeRule]:
    return list(db.session.scalars(select(BadgeRule).order_by(BadgeRule.id)))


@dataclass(frozen=True)
class RuleInput:
    name: str
    description: str
    icon: str
    active: bool
    params: dict[str, object]  # as entered, by param name


def _text(value: str, limit: int, label: str, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(_("Hãy nhập %(label)s.", label=label), field=field)
    if len(value) > limit:
        raise ValidationError(_("%(label)s dài tối đa %(n)d ký tự.", label=label.capitalize(), n=limit), field=field)
    return value


def update_rule(rule: BadgeRule, data: RuleInput) -> BadgeRule:
    """Change a rule's wording, icon, thresholds and whether it is awarded; every value is checked
    before anything changes. Awards already made stay."""
    name = _text(data.name, NAME_LENGTH, _("tên huy hiệu"), "name")
    description = _text(data.description, DESCRIPTION_LENGTH, _("mô tả"), "description")
    icon = _text(data.icon, ICON_LENGTH, _("biểu tượng"), "icon")
    params = check_params(rule.kind, data.params)
    rule.name, rule.description, rule.icon, rule.active, rule.params = name, description, icon, data.active, params
    db.session.flush()
    return rule

