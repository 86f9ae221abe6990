"""The proposed winners of an award (docs/prizes.md): from the final rankings, the award's
eligibility rules, the staff's exclusions and tie decisions, every candidate's line says whether
they win and why, or why not.

Per audience the prizes are handed out best first: the first ``count`` eligible candidates win the
first prize, the next ones the second, and so on. Where the candidates at a prize boundary are equal
on every key of the ranking (after all tie-breaks), nobody is cut silently: they are TIED until staff
decide ("add": everyone tied wins; "pick": the picked ones win, the others stay next in line).

Rankings are those of competitions.results (rounds, series) and competitions.emulation.scoring
(periods); nothing here ranks people by another rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from itertools import takewhile

from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import select

from competitions import results
from competitions.emulation import scoring
from competitions.emulation.models import CriterionKind
from competitions.emulation.periods import Period
from competitions.emulation.schemes import scheme_for
from competitions.models import Entry, Round, RoundStatus, Series
from competitions.prizes import eligibility
from competitions.prizes.models import (
    Audience,
    Award,
    AwardOwner,
    CollectiveScoring,
    Exclusion,
    PrizeTier,
    TieDecision,
)
from core.db_types import utcnow
from core.extensions import db
from core.org.models import COMMUNE_LEVEL, Unit
from core.teams.models import Team
from core.text import fold

_PRECISION = 9  # scores reached by different sums of fractions compare equal to this many decimals
ADD, PICK = "add", "pick"  # TieDecision.decision


class LineStatus(StrEnum):
    WINNER = "winner"
    NEXT = "next"  # in line, not winning
    EXCLUDED = "excluded"  # taken out by staff (an Exclusion, with its reason)
    INELIGIBLE = "ineligible"  # out by a rule of the award
    TIED = "tied"  # across a prize boundary, waiting for a decision


@dataclass(frozen=True)
class Line:
    audience: str  # Audience
    tier_id: int | None  # the prize won (WINNER) or disputed (TIED)
    tier_label: str
    subject: str  # "p<user id>", "t<team id>", "u<unit id>"
    user_id: int | None
    team_id: int | None
    unit_id: int | None  # the commune-level unit (đơn vị) where there is one
    name: str
    team_name: str
    unit_name: str
    phone: str | None
    rank: int  # in the source ranking: equal on every key, equal rank
    score_text: str  # "9/10", "92,5 điểm", "87 %", "45 người"
    time_text: str  # "3 phút 12 giây" (individuals; teams and units have no time)
    status: LineStatus
    reason: str


@dataclass(frozen=True)
class Tie:
    tier_id: int
    tier_label: str
    subjects: list[str]  # the tied candidates, in ranking order
    places: int  # prizes of the tier left for them (fewer than the subjects)


@dataclass
class Proposal:
    lines: list[Line]
    ties: list[Tie]
    problems: list[str]  # why it cannot be approved yet (empty: it can)

    @property
    def winners(self) -> list[Line]:
        return [line for line in self.lines if line.status == LineStatus.WINNER]

    def of(self, audience: str) -> list[Line]:
        return [line for line in self.lines if line.audience == audience]


# --- texts -----------------------------------------------------------------------------------------


def format_time(ms: int | None) -> str:
    """``192000`` → ``3 phút 12 giây``; milliseconds are shown where there are some (ties are broken
    to the millisecond): ``3 phút 12,4 giây``."""
    if ms is None:
        return ""
    minutes, rest = divmod(ms, 60_000)
    seconds = format_decimal(rest / 1000, format="0.###")
    if minutes:
        return _("%(m)d phút %(s)s giây", m=minutes, s=seconds)
    return _("%(s)s giây", s=seconds)


def format_points(points: float) -> str:
    """``92.5`` → ``92,5 điểm``."""
    return _("%(points)s điểm", points=scoring.format_points(points))


def format_people(count: int) -> str:
    return _("%(n)d người", n=count)


# --- candidates ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """One row of a ranking, best first; ``key`` is every ranking key (equal keys: a tie)."""

    subject: str
    key: tuple
    rank: int
    name: str
    score_text: str
    time_text: str = ""
    user_id: int | None = None
    team_id: int | None = None
    unit_id: int | None = None
    team_name: str = ""
    unit_name: str = ""
    phone: str | None = None
    out: str | None = None  # why the candidate is ineligible outright
    limit: int | None = None  # tiers from this ordinal on are out of reach (series rule "highest")
    limit_reason: str = ""


def _ranked(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    """Sorted by key (then name and subject, for the display only), ranked 1, 2, 2, 4: equal keys
    share a rank, as in competitions.results."""
    ranked: list[_Candidate] = []
    for position, c in enumerate(sorted(candidates, key=lambda c: (c.key, fold(c.name), c.subject)), start=1):
        ranked.append(replace(c, rank=ranked[-1].rank if ranked and ranked[-1].key == c.key else position))
    return ranked


def _communes(unit_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Unit id -> (id, name) of the commune-level unit at or above it (the unit itself when there
    is none, e.g. a province-level guest). Two queries."""
    ids = set(unit_ids)
    if not ids:
        return {}
    units = {u.id: u for u in db.session.execute(select(Unit.id, Unit.name, Unit.path).where(Unit.id.in_(ids)))}
    ancestors = {a for u in units.values() for a in results.path_ids(u.path)}
    communes = {
        u.id: u.name for u in db.session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_(ancestors), Unit.kind.in_([str(k) for k in COMMUNE_LEVEL]))
        )
    }
    found: dict[int, tuple[int, str]] = {}
    for unit_id, unit in units.items():
        above = [a for a in results.path_ids(unit.path) if a in communes]
        found[unit_id] = (above[-1], communes[above[-1]]) if above else (unit_id, unit.name)
    return found


def _people(award: Award, rows: Sequence[_Candidate]) -> list[_Candidate]:
    """The individual rules: staff and organisers out; prizes already won in this round or earlier
    in the series; the communes of the people's units."""
    user_ids = [c.user_id for c in rows if c.user_id is not None]
    staff = eligibility.staff_among(award, user_ids)
    prior = eligibility.prior_prizes(award, user_ids)
    communes = _communes(c.unit_id for c in rows if c.unit_id is not None)
    people = []
    for c in rows:
        commune = communes.get(c.unit_id) if c.unit_id is not None else None
        if commune is not None:
            c = replace(c, unit_id=commune[0], unit_name=commune[1])
        if c.user_id in staff:
            c = replace(c, out=eligibility.staff_reason())
        elif c.user_id in prior:
            prize = prior[c.user_id]
            limit = eligibility.prior_limit(award, prize)
            reason = eligibility.prior_reason(award, prize)
            c = replace(c, out=reason) if limit == 0 else replace(c, limit=limit, limit_reason=reason)
        people.append(c)
    return people


def _round_people(award: Award, round_: Round) -> list[_Candidate]:
    rows = [
        _Candidate(
            f"p{s.user_id}", (s.rank,), s.rank, s.full_name, f"{s.score}/{s.max_score}", format_time(s.duration_ms),
            user_id=s.user_id, team_id=s.team_id, unit_id=s.unit_id, team_name=s.team_name or "",
            unit_name=s.unit_name, phone=s.phone,
        )
        for s in results.ranking(round_)
    ]
    return _people(award, rows)


def _series_people(award: Award, series: Series, now: datetime) -> list[_Candidate]:
    standings = results.series_people(series, now)
    # The team and unit of each person's latest round (the standings carry only their names).
    latest: dict[int, tuple[int | None, int | None]] = {}
    rounds = results.series_rounds(series, now)
    if standings:
        for user_id, team_id, unit_id in db.session.execute(
            select(Entry.user_id, Entry.team_id, Entry.unit_id).join(Round, Round.id == Entry.round_id)
            .where(Entry.round_id.in_([r.id for r in rounds])).order_by(Round.opens_at, Round.id)
        ):
            latest[user_id] = (team_id, unit_id)
    rows = [
        _Candidate(
            f"p{s.user_id}", (s.rank,), s.rank, s.full_name,
            _("%(total)d điểm (%(n)d đợt)", total=s.total, n=s.rounds), format_time(s.duration_ms),
            user_id=s.user_id, team_id=latest.get(s.user_id, (None, None))[0],
            unit_id=latest.get(s.user_id, (None, None))[1],
            team_name=s.team_name or "", unit_name=s.unit_name, phone=s.phone,
        )
        for s in standings
    ]
    return _people(award, rows)


def _team_rows(award: Award, rows: Sequence[_Candidate], participation: dict[str, float | None],
               bands: dict[str, str] | None = None, order: dict[str, int] | None = None) -> list[_Candidate]:
    """The team rules (minimum participation, minimum band) and the teams' communes."""
    communes = _communes(c.unit_id for c in rows if c.unit_id is not None)
    teams = []
    for c in rows:
        commune = communes.get(c.unit_id) if c.unit_id is not None else None
        if commune is not None:
            c = replace(c, unit_id=commune[0], unit_name=commune[1])
        reason = eligibility.participation_reason(award, participation.get(c.subject))
        if reason is None and bands is not None and order is not None:
            reason = eligibility.band_reason(award, bands[c.subject], order)
        teams.append(replace(c, out=reason) if reason else c)
    return teams


def _team_units(team_ids: Iterable[int]) -> dict[int, int]:
    ids = list(team_ids)
    return dict(db.session.execute(select(Team.id, Team.unit_id).where(Team.id.in_(ids))).all()) if ids else {}


def _round_teams(award: Award, round_: Round) -> list[_Candidate]:
    # Teams without any participant are no candidates: nobody of them took part.
    ranked = [t for t in results.team_results(round_) if t.participants]
    return _ranked_teams(award, ranked, [t.score for t in ranked])


def _series_teams(award: Award, series: Series, now: datetime) -> list[_Candidate]:
    ranked = [t for t in results.series_teams(series, now) if t.rounds]
    return _ranked_teams(award, ranked, [t.total for t in ranked])


def _ranked_teams(
    award: Award, ranked: Sequence[results.TeamResult | results.SeriesTeamStanding], points: Sequence[float]
) -> list[_Candidate]:
    """Candidates from a round's or a season's team ranking, with the points each one shows."""
    units = _team_units(t.team_id for t in ranked)
    rows = [
        _Candidate(f"t{t.team_id}", (t.rank,), t.rank, t.name, format_points(shown), team_id=t.team_id,
                   unit_id=units.get(t.team_id), team_name=t.name, unit_name=t.unit_name)
        for t, shown in zip(ranked, points, strict=True)
    ]
    return _team_rows(award, rows, {f"t{t.team_id}": t.participation for t in ranked})


def _quiz_participation(score: scoring.TeamScore) -> float | None:
    for criterion in score.criteria:
        if criterion.kind == CriterionKind.QUIZ_PARTICIPATION:
            return criterion.ratio
    return None


def _period_teams(award: Award, scores: Sequence[scoring.TeamScore], order: dict[str, int]) -> list[_Candidate]:
    rows = [
        _Candidate(f"t{s.team_id}", (-round(s.points, _PRECISION),), 0, s.team_name, format_points(s.points),
                   team_id=s.team_id, unit_id=s.unit_id, team_name=s.team_name, unit_name=s.unit_name)
        for s in scores
    ]
    participation = {f"t{s.team_id}": _quiz_participation(s) for s in scores}
    bands = {f"t{s.team_id}": s.band for s in scores}
    return _team_rows(award, _ranked(rows), participation, bands, order)


def _period_units(award: Award, period: Period, scores: Sequence[scoring.TeamScore], now: datetime) -> list[_Candidate]:
    units = scoring.unit_scores(period, award.scope_unit, scoring.COMMUNE, now, scores=scores)
    rows = [
        _Candidate(f"u{u.unit_id}", (-round(u.points, _PRECISION),), 0, u.name, format_points(u.points),
                   unit_id=u.unit_id, unit_name=u.name)
        for u in units
    ]
    return _ranked(rows)


# --- collective prizes of rounds and series --------------------------------------------------------


@dataclass
class _UnitFigures:
    """A commune's participation over the award's rounds."""

    unit_id: int
    name: str
    participants: int = 0  # everyone who took part (guests included); summed over the rounds
    rates: list[float] = field(default_factory=list)  # member participation per round with members

    @property
    def rate(self) -> float | None:
        return sum(self.rates) / len(self.rates) if self.rates else None


def _unit_figures(rounds: Sequence[Round]) -> list[_UnitFigures]:
    figures: dict[int, _UnitFigures] = {}
    for round_ in rounds:
        for u in results.unit_results(round_):
            if u.level != results.COMMUNE:
                continue
            found = figures.setdefault(u.unit_id, _UnitFigures(u.unit_id, u.name))
            found.participants += u.participants
            if u.participation is not None:
                found.rates.append(u.participation)
    return list(figures.values())


def _collective(award: Award, rounds: Sequence[Round], people: Sequence[Line]) -> list[_Candidate]:
    """Communes scored by the award's collective scoring (docs/prizes.md); ``people``: the lines of
    the individual prizes, whose winners count in the points formula."""
    method = award.collective_scoring
    winners: defaultdict[int, int] = defaultdict(int)
    for line in people:
        if line.status == LineStatus.WINNER and line.unit_id is not None:
            winners[line.unit_id] += 1
    rows = []
    for u in _unit_figures(rounds):
        rate = round(u.rate, _PRECISION) if u.rate is not None else None
        out = None
        if method == CollectiveScoring.PARTICIPANTS:
            key: tuple = (-u.participants, -(rate or 0))
            text = format_people(u.participants)
        elif method == CollectiveScoring.POINTS:
            points = (rate or 0) * 100 + award.points_per_winner * winners[u.unit_id]
            key = (-round(points, _PRECISION), -(rate or 0), -u.participants)
            text = format_points(points)
        else:
            key = (-(rate or 0), -u.participants)
            text = eligibility.format_share(rate) if rate is not None else "—"
        if rate is None and method != CollectiveScoring.PARTICIPANTS:
            out = _("Đơn vị không có thành viên tổ CNSCĐ để tính tỷ lệ tham gia.")
        rows.append(_Candidate(f"u{u.unit_id}", key, 0, u.name, text, unit_id=u.unit_id, unit_name=u.name,
                               out=out))
    return _ranked(rows)


# --- handing out the prizes ------------------------------------------------------------------------


def _line(audience: str, c: _Candidate, status: LineStatus, reason: str, tier: PrizeTier | None = None) -> Line:
    return Line(audience, tier.id if tier else None, tier.label if tier else "", c.subject, c.user_id, c.team_id,
                c.unit_id, c.name, c.team_name, c.unit_name, c.phone, c.rank, c.score_text, c.time_text, status,
                reason)


def _decision_for(decisions: Sequence[TieDecision], tier: PrizeTier, group: Sequence[_Candidate],
                  places: int) -> TieDecision | None:
    """The latest active decision on this tier that is about exactly this tied group (a decision
    about another group is stale: the data changed since, the tie is flagged again). A pick must
    name exactly ``places`` of the tied candidates."""
    subjects = {c.subject for c in group}
    for decision in reversed(decisions):
        if not decision.active or decision.tier_id != tier.id or set(decision.tied or []) != subjects:
            continue
        if decision.decision == ADD:
            return decision
        picked = set(decision.picked or [])
        if decision.decision == PICK and picked <= subjects and len(picked) == places:
            return decision
    return None


def _hand_out(audience: str, tiers: Sequence[PrizeTier], candidates: Sequence[_Candidate],
              excluded: dict[str, str], decisions: Sequence[TieDecision]) -> tuple[list[Line], list[Tie]]:
    """The lines of one audience, in ranking order, and its open ties."""
    decided: dict[str, Line] = {}
    available: list[_Candidate] = []
    for c in candidates:
        if c.subject in excluded:
            decided[c.subject] = _line(audience, c, LineStatus.EXCLUDED, excluded[c.subject])
        elif c.out:
            decided[c.subject] = _line(audience, c, LineStatus.INELIGIBLE, c.out)
        else:
            available.append(c)
    ties: list[Tie] = []
    for ordinal, tier in enumerate(tiers):
        # Out of reach from this prize on (series rule "highest"): the prizes only get lower.
        for c in [c for c in available if c.limit is not None and c.limit <= ordinal]:
            decided[c.subject] = _line(audience, c, LineStatus.INELIGIBLE, c.limit_reason)
            available.remove(c)
        places = tier.count
        while places > 0 and available:
            group = list(takewhile(lambda c: c.key == available[0].key, available))  # equal keys
            if len(group) <= places:
                for c in group:
                    decided[c.subject] = _line(audience, c, LineStatus.WINNER, _won(tier, c), tier)
                    available.remove(c)
                places -= len(group)
                continue
            decision = _decision_for(decisions, tier, group, places)
            if decision is None:
                # Until staff decide, the tied take the rest of this prize and the next prizes go on
                # after them (what "add" would give); approval waits for the decision.
                reason = _("Đồng hạng %(rank)d: %(n)d ứng viên tranh %(places)d %(prize)s, chờ quyết định.",
                           rank=group[0].rank, n=len(group), places=places, prize=tier.label)
                for c in group:
                    decided[c.subject] = _line(audience, c, LineStatus.TIED, reason, tier)
                    available.remove(c)
                ties.append(Tie(tier.id, tier.label, [c.subject for c in group], places))
            else:
                picked = set(decision.tied) if decision.decision == ADD else set(decision.picked)
                why = _("%(prize)s (hạng %(rank)d, quyết định khi đồng hạng: %(reason)s)",
                        prize=tier.label, rank=group[0].rank, reason=decision.reason)
                for c in group:
                    if c.subject in picked:
                        decided[c.subject] = _line(audience, c, LineStatus.WINNER, why, tier)
                        available.remove(c)
            places = 0
    for number, c in enumerate(available, start=1):
        decided[c.subject] = _line(audience, c, LineStatus.NEXT, _("Kế tiếp thứ %(n)d (hạng %(rank)d).",
                                                                    n=number, rank=c.rank))
    return [decided[c.subject] for c in candidates], ties


def _won(tier: PrizeTier, c: _Candidate) -> str:
    return _("%(prize)s (hạng %(rank)d).", prize=tier.label, rank=c.rank)


# --- closing ---------------------------------------------------------------------------------------


def _round_problem(round_: Round, now: datetime) -> str | None:
    """Why a round's results are not final yet (finalising it when it can be), or None."""
    if round_.status != RoundStatus.PUBLISHED:
        return _("Đợt thi “%(title)s” chưa được công bố.", title=round_.title)
    if now < round_.closes_at:
        return _("Đợt thi “%(title)s” chưa kết thúc (đóng lúc %(at)s).", title=round_.title,
                 at=results.format_moment(round_.closes_at))
    results.finalise(round_, now)
    if round_.finalised_at is None:
        return _("Đợt thi “%(title)s” còn bài thi đang làm dở: chờ hết giờ làm bài để chốt kết quả.",
                 title=round_.title)
    return None


def _closing_problems(award: Award, now: datetime) -> list[str]:
    if award.owner == AwardOwner.ROUND:
        round_ = db.session.get(Round, award.round_id)
        if round_ is None:
            return [_("Không tìm thấy đợt thi của giải.")]
        problem = _round_problem(round_, now)
        return [problem] if problem else []
    if award.owner == AwardOwner.SERIES:
        rounds = list(db.session.scalars(
            select(Round).where(Round.series_id == award.series_id, Round.status == RoundStatus.PUBLISHED)
            .order_by(Round.opens_at, Round.id)
        ))
        if not rounds:
            return [_("Mùa thi chưa có đợt thi nào được công bố.")]
        return [p for p in (_round_problem(r, now) for r in rounds) if p]
    period = Period.parse(award.period or "")
    if now < period.ends_at:
        return [_("Kỳ thi đua %(period)s chưa kết thúc.", period=period.label)]
    return []


def closed(award: Award, now: datetime) -> bool:
    """The award's rankings are final: its round published, closed and finalised (a series: every
    published round of it); an emulation period ended. Finalises closed rounds on the way."""
    return not _closing_problems(award, now)


# --- the proposal ----------------------------------------------------------------------------------


def _tiers(award: Award) -> dict[str, list[PrizeTier]]:
    tiers: dict[str, list[PrizeTier]] = defaultdict(list)
    for tier in sorted(award.tiers, key=lambda t: (t.position, t.id)):
        tiers[tier.audience].append(tier)
    return tiers


def _tie_problem(tie: Tie, audience: str) -> str:
    return _("%(prize)s (%(audience)s): %(n)d ứng viên đồng hạng tranh %(places)d giải, cần quyết định "
             "thêm giải hoặc chọn người.", prize=tie.tier_label, audience=audience_label(audience),
             n=len(tie.subjects), places=tie.places)


def audience_label(audience: str) -> str:
    return {Audience.INDIVIDUAL: _("cá nhân"), Audience.TEAM: _("tổ CNSCĐ"), Audience.UNIT: _("đơn vị")}[
        Audience(audience)
    ]


def _sources(award: Award, now: datetime, problems: list[str]) -> dict[str, Callable[[list[Line]], list[_Candidate]]]:
    """Per audience the award can give: how to read its ranked candidates (units last: the points
    formula counts the individual winners)."""
    if award.owner == AwardOwner.ROUND:
        round_ = db.session.get(Round, award.round_id)
        if round_ is None:
            return {}
        return {
            Audience.INDIVIDUAL: lambda _people: _round_people(award, round_),
            Audience.TEAM: lambda _people: _round_teams(award, round_),
            Audience.UNIT: lambda people: _collective(award, [round_], people),
        }
    if award.owner == AwardOwner.SERIES:
        series = db.session.get(Series, award.series_id)
        if series is None:
            return {}
        return {
            Audience.INDIVIDUAL: lambda _people: _series_people(award, series, now),
            Audience.TEAM: lambda _people: _series_teams(award, series, now),
            Audience.UNIT: lambda people: _collective(award, results.series_rounds(series, now), people),
        }
    period = Period.parse(award.period or "")
    order = eligibility.band_order([str(b["name"]) for b in scheme_for(period).bands])
    if award.min_band and award.min_band not in order:
        problems.append(_("Mức xếp loại tối thiểu “%(band)s” không có trong bộ tiêu chí thi đua của kỳ.",
                          band=award.min_band))
    scores: list[scoring.TeamScore] = []

    def teams(_people: list[Line]) -> list[_Candidate]:
        scores[:] = scoring.team_scores(period, award.scope_unit, now)
        return _period_teams(award, scores, order)

    def units(_people: list[Line]) -> list[_Candidate]:
        return _period_units(award, period, scores or scoring.team_scores(period, award.scope_unit, now), now)

    return {Audience.TEAM: teams, Audience.UNIT: units}


def propose(award: Award, now: datetime | None = None) -> Proposal:
    """The proposed winners of ``award`` with every candidate's line, the open ties and what stands
    in the way of approval. Reads the active exclusions and tie decisions; writes nothing (but
    finalises a closed round, as the results pages do)."""
    now = now or utcnow()
    problems = _closing_problems(award, now)
    tiers = _tiers(award)
    if not tiers:
        problems.append(_("Chưa có giải nào trong cơ cấu giải."))
    sources = _sources(award, now, problems)
    # Read, not the award's collections: those may have been loaded before the latest step.
    excluded = dict(db.session.execute(
        select(Exclusion.subject, Exclusion.reason).where(Exclusion.award_id == award.id, Exclusion.active)
        .order_by(Exclusion.id)
    ).all())
    decisions = list(db.session.scalars(
        select(TieDecision).where(TieDecision.award_id == award.id, TieDecision.active).order_by(TieDecision.id)
    ))
    lines: list[Line] = []
    ties: list[Tie] = []
    for audience in (Audience.INDIVIDUAL, Audience.TEAM, Audience.UNIT):
        if not tiers.get(audience):
            continue
        source = sources.get(audience)
        if source is None:  # emulation individuals (a missing round or series is a closing problem)
            if award.owner == AwardOwner.EMULATION:
                problems.append(_("Giải của kỳ thi đua không xét cho %(audience)s.",
                                  audience=audience_label(audience)))
            continue
        audience_lines, audience_ties = _hand_out(audience, tiers[audience], source(lines), excluded, decisions)
        lines += audience_lines
        ties += audience_ties
        problems += [_tie_problem(tie, audience) for tie in audience_ties]
    return Proposal(lines, ties, problems)
