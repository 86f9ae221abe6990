"""Who may win (docs/prizes.md): the award's eligibility settings as reasons a candidate is out.

Each rule reads the database once for all candidates of an award (never a query per person):
staff and the contest's organisers, prizes already won in the same round or earlier in the series,
and the team rules (minimum participation, minimum emulation band).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from flask_babel import format_percent
from flask_babel import gettext as _
from sqlalchemy import select

from competitions.emulation.schemes import NOT_DONE, band_label
from competitions.models import Round, RoundStatus, Series
from competitions.prizes.models import Audience, Award, AwardOwner, AwardStatus, PrizeTier, SeriesRule, Winner
from core.accounts.models import User
from core.accounts.permissions import STAFF
from core.extensions import db

DECIDED = (AwardStatus.APPROVED, AwardStatus.PUBLISHED)  # a Winner row of these statuses is a prize won


def staff_reason() -> str:
    return _("Cán bộ, ban tổ chức không tham gia xét giải")


def organisers(award: Award) -> set[int]:
    """Who created the contest: the round's creator; for a series, its creator and its rounds'."""
    if award.owner == AwardOwner.ROUND:
        creator = db.session.scalar(select(Round.created_by_id).where(Round.id == award.round_id))
        return {creator} if creator else set()
    if award.owner == AwardOwner.SERIES:
        series = db.session.get(Series, award.series_id)
        ids = set(db.session.scalars(select(Round.created_by_id).where(Round.series_id == award.series_id)))
        ids.add(series.created_by_id if series else None)
        return {i for i in ids if i}
    return set()


def staff_among(award: Award, user_ids: Collection[int]) -> set[int]:
    """The candidates out under ``exclude_staff``: accounts with a staff role and the organisers."""
    if not award.exclude_staff or not user_ids:
        return set()
    # All staff accounts (hundreds), not an IN list of every participant (tens of thousands).
    staff = set(db.session.scalars(select(User.id).where(User.role_code.in_([str(r) for r in STAFF]))))
    return (staff | organisers(award)) & set(user_ids)


@dataclass(frozen=True)
class PriorPrize:
    """A prize a person already holds that limits this award (one prize per round; series rule)."""

    ordinal: int  # the prize's place among its award's individual prizes, 0 = the best
    label: str
    round_title: str
    same_round: bool  # another award of this very round


def _ordinals(award_ids: Collection[int]) -> dict[int, int]:
    """Tier id -> its place among its award's individual tiers (positions need not be contiguous)."""
    tiers = db.session.execute(
        select(PrizeTier.id, PrizeTier.award_id)
        .where(PrizeTier.award_id.in_(list(award_ids)), PrizeTier.audience == Audience.INDIVIDUAL)
        .order_by(PrizeTier.award_id, PrizeTier.position, PrizeTier.id)
    ).all()
    ordinals: dict[int, int] = {}
    seen: dict[int, int] = {}
    for tier_id, award_id in tiers:
        ordinals[tier_id] = seen.get(award_id, 0)
        seen[award_id] = ordinals[tier_id] + 1
    return ordinals


def prior_prizes(award: Award, user_ids: Collection[int]) -> dict[int, PriorPrize]:
    """Per person: the best individual prize already decided (approved or published) in another
    award of the same round, or, for a round of a series, in an earlier round of the series. Only
    rounds awarded: a series' own award has no earlier rounds to look at."""
    if award.owner != AwardOwner.ROUND or not user_ids:
        return {}
    round_ = db.session.get(Round, award.round_id)
    if round_ is None:
        return {}
    rounds = [round_.id]
    if round_.series_id is not None:
        rounds += db.session.scalars(
            select(Round.id).where(
                Round.series_id == round_.series_id, Round.status == RoundStatus.PUBLISHED, Round.id != round_.id,
                (Round.opens_at < round_.opens_at) | ((Round.opens_at == round_.opens_at) & (Round.id < round_.id)),
            )
        ).all()
    rows = db.session.execute(
        select(Winner.user_id, Winner.tier_id, PrizeTier.label, Award.id, Round.id, Round.title)
        .join(PrizeTier, PrizeTier.id == Winner.tier_id)
        .join(Award, Award.id == Winner.award_id)
        .join(Round, Round.id == Award.round_id)
        .where(
            Award.owner == AwardOwner.ROUND, Award.round_id.in_(rounds), Award.id != award.id,
            Award.status.in_([str(s) for s in DECIDED]), PrizeTier.audience == Audience.INDIVIDUAL,
        )
    ).all()
    # The season's winners are few; filtered here rather than by an IN list of every participant.
    candidates = set(user_ids)
    rows = [row for row in rows if row[0] in candidates]
    ordinals = _ordinals({row[3] for row in rows})
    best: dict[int, PriorPrize] = {}
    for user_id, tier_id, label, _award_id, round_id, title in rows:
        prize = PriorPrize(ordinals[tier_id], label, title, round_id == round_.id)
        held = best.get(user_id)
        # the same round outranks the series (it excludes outright); then the better prize
        if held is None or (prize.same_round, -prize.ordinal) > (held.same_round, -held.ordinal):
            best[user_id] = prize
    return best


def prior_limit(award: Award, prize: PriorPrize) -> int:
    """The first tier ordinal the person may no longer win: 0 (nothing) for a prize of the same
    round or under the "first" rule; under "highest", the tiers better than the prize held."""
    if prize.same_round or award.series_rule == SeriesRule.FIRST:
        return 0
    return prize.ordinal


def prior_reason(award: Award, prize: PriorPrize) -> str:
    if prize.same_round:
        return _("Đã nhận %(prize)s của đợt thi này: mỗi người chỉ nhận một giải mỗi đợt.", prize=prize.label)
    if award.series_rule == SeriesRule.FIRST:
        return _("Đã đoạt %(prize)s ở %(round)s cùng mùa thi: mỗi người chỉ nhận giải lần đầu.",
                 prize=prize.label, round=prize.round_title)
    return _("Đã đoạt %(prize)s ở %(round)s cùng mùa thi: chỉ được xét giải cao hơn.",
             prize=prize.label, round=prize.round_title)


# --- team rules ------------------------------------------------------------------------------------


def format_share(share: float) -> str:
    """``0.875`` → ``87,5 %``."""
    return format_percent(share, format="#,##0.# %")


def participation_reason(award: Award, participation: float | None) -> str | None:
    """Why a team is out under ``min_participation`` (a share of its members, 0–1), or None."""
    if award.min_participation is None:
        return None
    if participation is None:
        return _("Không có số liệu tham gia thi của tổ để xét tỷ lệ tham gia tối thiểu %(min)s.",
                 min=format_share(award.min_participation))
    if round(participation, 9) < round(award.min_participation, 9):
        return _("Tỷ lệ tham gia %(rate)s thấp hơn mức tối thiểu %(min)s.",
                 rate=format_share(participation), min=format_share(award.min_participation))
    return None


def band_order(bands: Sequence[str]) -> dict[str, int]:
    """The scheme's bands best first, then the fallback band (Chưa hoàn thành) last."""
    order = {name: index for index, name in enumerate(bands)}
    order.setdefault(NOT_DONE, len(bands))
    return order


def band_reason(award: Award, band: str, order: dict[str, int]) -> str | None:
    """Why a team is out under ``min_band``, or None. An unknown minimum band is a problem of the
    award (``proposal`` reports it), not of the team."""
    if not award.min_band or award.min_band not in order:
        return None
    if order.get(band, len(order)) > order[award.min_band]:
        return _("Xếp loại “%(band)s” thấp hơn mức tối thiểu “%(min)s”.",
                 band=band_label(band), min=band_label(award.min_band))
    return None
