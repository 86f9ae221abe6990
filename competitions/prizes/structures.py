"""Prize structures (cơ cấu giải): what an award gives for a round, a season or an emulation period,
to whom, and the eligibility settings the proposal applies. Checked whole: nothing is written when
any part is wrong, and the message names the field (and the tier row) at fault.

An award's owner is fixed once created (exclusions and tie decisions refer to its candidates); its
prizes and settings change only while it is a draft: an approved award is frozen until an admin
reopens it (competitions.prizes.workflow). Every change leaves an AwardEvent with before and after.

Who: admins everywhere; organisers and officers for the awards whose scope unit is in their scope,
the rule of rounds (competitions.rounds.can_manage). A round's or a season's award takes its scope
unit; an emulation period's award is for a province, district or commune-level unit chosen.
``min_participation`` is typed in percent (0–100) and stored as a share (0–1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from competitions import rounds
from competitions.emulation.periods import Period, PeriodKind
from competitions.emulation.schemes import scheme_for
from competitions.models import Round, Series
from competitions.prizes.models import (
    Audience,
    Award,
    AwardEvent,
    AwardOwner,
    AwardStatus,
    CollectiveScoring,
    PrizeTier,
    SeriesRule,
    TieDecision,
    Winner,
)
from core.accounts.models import User
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.org.models import Unit
from core.org.scope import unit_scope_clause
from core.teams.service import is_staff
from core.text import clean

MAX_TITLE, MAX_LABEL = 200, 80  # column widths
MAX_COUNT = 1000  # prizes of one tier: a sane cap
MAX_VALUE = 10_000_000_000  # VND of one prize
MAX_POINTS_PER_WINNER = 100

OWNER_LABELS = {
    AwardOwner.ROUND: _l("Đợt thi"),
    AwardOwner.SERIES: _l("Mùa thi"),
    AwardOwner.EMULATION: _l("Kỳ thi đua"),
}
STATUS_LABELS = {
    AwardStatus.DRAFT: _l("Đang xét"),
    AwardStatus.APPROVED: _l("Đã phê duyệt"),
    AwardStatus.PUBLISHED: _l("Đã công bố"),
}
AUDIENCE_LABELS = {
    Audience.INDIVIDUAL: _l("Cá nhân"),
    Audience.TEAM: _l("Tổ CNSCĐ"),
    Audience.UNIT: _l("Tập thể (đơn vị)"),
}
SERIES_RULE_LABELS = {
    SeriesRule.HIGHEST: _l("Người đã đạt giải ở đợt trước chỉ nhận thêm giải cao hơn"),
    SeriesRule.FIRST: _l("Mỗi người chỉ đạt giải một lần trong mùa thi"),
}
SCORING_LABELS = {
    CollectiveScoring.PARTICIPATION_RATE: _l("Tỷ lệ tham gia (người dự thi ÷ thành viên các tổ)"),
    CollectiveScoring.PARTICIPANTS: _l("Số người tham gia"),
    CollectiveScoring.POINTS: _l("Điểm: tỷ lệ tham gia (%) cộng điểm cho mỗi cá nhân đạt giải của đơn vị"),
}


# --- input ---------------------------------------------------------------------------------------


@dataclass
class AwardSettings:
    """The eligibility settings (docs/prizes.md); field names are the form fields' names."""

    exclude_staff: bool = True
    series_rule: str = SeriesRule.HIGHEST
    min_participation: float | None = None  # team prizes: percent of members, 0–100
    min_band: str | None = None  # team prizes by emulation: a band of the period's scheme
    collective_scoring: str = CollectiveScoring.PARTICIPATION_RATE
    points_per_winner: int | None = 5  # CollectiveScoring.POINTS


@dataclass
class AwardInput:
    title: str
    owner: str  # AwardOwner
    round_id: int | None = None
    series_id: int | None = None
    period: str | None = None  # an emulation period key ("2026-Q4")
    scope_unit_id: int | None = None  # emulation: the unit whose teams compete
    settings: AwardSettings = field(default_factory=AwardSettings)


@dataclass
class TierInput:
    audience: str
    label: str
    count: int | None
    value_vnd: int | None = None


def award_input(award: Award) -> AwardInput:
    """What the award holds, as the edit form shows it."""
    share = award.min_participation
    return AwardInput(
        title=award.title, owner=award.owner, round_id=award.round_id, series_id=award.series_id,
        period=award.period, scope_unit_id=award.scope_unit_id,
        settings=AwardSettings(
            exclude_staff=award.exclude_staff, series_rule=award.series_rule,
            min_participation=None if share is None else round(share * 100, 2),
            min_band=award.min_band, collective_scoring=award.collective_scoring,
            points_per_winner=award.points_per_winner,
        ),
    )


def tier_inputs(award: Award) -> list[TierInput]:
    return [TierInput(t.audience, t.label, t.count, t.value_vnd) for t in award.tiers]


# --- who may -------------------------------------------------------------------------------------


def can_manage(user: User, award: Award) -> bool:
    """Staff whose scope holds the award's scope unit; admins everywhere."""
    return rounds.can_manage(user, award.scope_unit)


def require_manage(user: User, award: Award) -> None:
    if not can_manage(user, award):
        raise PermissionDenied


def awards_for(user: User, status: str | None = None, owner: str | None = None) -> list[Award]:
    """The awards a staff member manages, newest first; optionally of one status or owner kind."""
    if not is_staff(user):
        raise PermissionDenied
    query = select(Award).join(Unit, Award.scope_unit_id == Unit.id).where(unit_scope_clause(user))
    if status:
        query = query.where(Award.status == status)
    if owner:
        query = query.where(Award.owner == owner)
    return list(db.session.scalars(query.order_by(Award.created_at.desc(), Award.id.desc())))


def owner_label(award: Award) -> str:
    """"Đợt thi: Tuần 1 (…)", "Mùa thi: Thi tuần – Quý 1/2027", "Kỳ thi đua: Quý 4/2026 · Xã X"."""
    kind = str(OWNER_LABELS[AwardOwner(award.owner)])
    if award.owner == AwardOwner.ROUND:
        name = db.session.get(Round, award.round_id).title  # type: ignore[union-attr]
    elif award.owner == AwardOwner.SERIES:
        name = db.session.get(Series, award.series_id).title  # type: ignore[union-attr]
    else:
        name = f"{Period.parse(award.period or '').label} · {award.scope_unit.name}"
    return f"{kind}: {name}"


# --- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owner:
    owner: AwardOwner
    scope: Unit
    round_: Round | None = None
    series: Series | None = None
    period: Period | None = None

    def default_title(self) -> str:
        # Stored data, in Vietnamese like round titles: it is printed on certificates.
        if self.round_ is not None:
            return f"Giải thưởng {self.round_.title}"
        if self.series is not None:
            return f"Giải thưởng {self.series.title}"
        assert self.period is not None
        number, year = self.period.number, self.period.year
        span = {PeriodKind.MONTH: f"tháng {number}/{year}", PeriodKind.QUARTER: f"quý {number}/{year}",
                PeriodKind.YEAR: f"năm {year}"}[self.period.kind]
        return f"Giải thưởng thi đua {span} – {self.scope.name}"


def _check_unit_scope(unit: Unit, actor: User, field_name: str, message: str) -> None:
    if not rounds.can_manage(actor, unit):
        raise ValidationError(message, field=field_name)


def _check_owner(data: AwardInput, actor: User) -> _Owner:
    if data.owner == AwardOwner.ROUND:
        round_ = db.session.get(Round, data.round_id) if data.round_id else None
        if round_ is None:
            raise ValidationError(_("Hãy chọn một đợt thi có thật."), field="round_id")
        _check_unit_scope(round_.scope_unit, actor, "round_id",
                          _("Đợt thi “%(t)s” nằm ngoài phạm vi của bạn.", t=round_.title))
        return _Owner(AwardOwner.ROUND, round_.scope_unit, round_=round_)
    if data.owner == AwardOwner.SERIES:
        series = db.session.get(Series, data.series_id) if data.series_id else None
        if series is None:
            raise ValidationError(_("Hãy chọn một mùa thi có thật."), field="series_id")
        _check_unit_scope(series.scope_unit, actor, "series_id",
                          _("Mùa thi “%(t)s” nằm ngoài phạm vi của bạn.", t=series.title))
        return _Owner(AwardOwner.SERIES, series.scope_unit, series=series)
    if data.owner == AwardOwner.EMULATION:
        period = Period.parse(data.period or "", field="period")
        unit = db.session.get(Unit, data.scope_unit_id) if data.scope_unit_id else None
        if unit is None:
            raise ValidationError(_("Hãy chọn đơn vị xét giải thi đua."), field="scope_unit_id")
        if unit.kind_enum not in rounds.SCOPE_KINDS:
            raise ValidationError(
                _("Giải thi đua xét trong một tỉnh, huyện hoặc xã/phường/đặc khu, không phải ấp hay doanh nghiệp."),
                field="scope_unit_id",
            )
        _check_unit_scope(unit, actor, "scope_unit_id",
                          _("Đơn vị “%(u)s” nằm ngoài phạm vi của bạn.", u=unit.name))
        return _Owner(AwardOwner.EMULATION, unit, period=period)
    raise ValidationError(_("Hãy chọn giải xét cho đợt thi, mùa thi hay kỳ thi đua."), field="owner")


def existing_award(data: AwardInput) -> Award | None:
    """The award of the round, season, or period and unit that ``data`` names, if there is one
    (one award per owner: a second would hand out the same prizes twice)."""
    if data.owner == AwardOwner.ROUND:
        clause = Award.round_id == data.round_id
    elif data.owner == AwardOwner.SERIES:
        clause = Award.series_id == data.series_id
    elif data.owner == AwardOwner.EMULATION:
        clause = (Award.owner == AwardOwner.EMULATION) & (Award.period == data.period) & (
            Award.scope_unit_id == data.scope_unit_id)
    else:
        return None
    return db.session.scalar(select(Award).where(clause).order_by(Award.id).limit(1))


def _check_title(title: str, owner: _Owner) -> str:
    title = clean(title) or owner.default_title()[:MAX_TITLE]
    if len(title) > MAX_TITLE:
        raise ValidationError(_("Tên giải thưởng dài quá %(n)d ký tự.", n=MAX_TITLE), field="title")
    return title


def _check_tiers(tiers: list[TierInput], owner: _Owner) -> list[PrizeTier]:
    if not tiers:
        raise ValidationError(_("Cơ cấu giải cần ít nhất một giải: hãy nhập tên và số lượng ở một dòng."),
                              field="tiers")
    seen: set[tuple[str, str]] = set()
    checked = []
    for row, tier in enumerate(tiers, start=1):
        try:
            audience = Audience(tier.audience)
        except ValueError:
            raise ValidationError(_("Chưa chọn đối tượng nhận giải."), field="tiers", row=row) from None
        if owner.owner == AwardOwner.EMULATION and audience == Audience.INDIVIDUAL:
            raise ValidationError(
                _("Kỳ thi đua xếp hạng tổ và đơn vị, không xếp hạng cá nhân: chọn đối tượng là tổ hoặc tập thể."),
                field="tiers", row=row,
            )
        label = clean(tier.label)
        if not label:
            raise ValidationError(_("Chưa nhập tên giải (ví dụ Giải Nhất)."), field="tiers", row=row)
        if len(label) > MAX_LABEL:
            raise ValidationError(_("Tên giải dài quá %(n)d ký tự.", n=MAX_LABEL), field="tiers", row=row)
        if (str(audience), label.casefold()) in seen:
            raise ValidationError(
                _("Giải “%(l)s” cho đối tượng %(a)s đã có ở dòng trên; mỗi giải chỉ nhập một dòng.",
                  l=label, a=str(AUDIENCE_LABELS[audience]).lower()),
                field="tiers", row=row,
            )
        seen.add((str(audience), label.casefold()))
        if tier.count is None or not 1 <= tier.count <= MAX_COUNT:
            raise ValidationError(_("Số lượng giải phải từ 1 đến %(n)d.", n=MAX_COUNT), field="tiers", row=row)
        if tier.value_vnd is not None and tier.value_vnd < 0:
            raise ValidationError(_("Giá trị giải không được âm."), field="tiers", row=row)
        if tier.value_vnd is not None and tier.value_vnd > MAX_VALUE:
            raise ValidationError(_("Giá trị giải quá lớn."), field="tiers", row=row)
        checked.append(PrizeTier(audience=str(audience), label=label, count=tier.count,
                                 value_vnd=tier.value_vnd, position=row))
    return checked


def _check_settings(settings: AwardSettings, owner: _Owner, tiers: list[PrizeTier]) -> dict[str, object]:
    try:
        series_rule = SeriesRule(settings.series_rule)
    except ValueError:
        raise ValidationError(_("Hãy chọn quy tắc đạt giải trong mùa thi."), field="series_rule") from None
    try:
        scoring = CollectiveScoring(settings.collective_scoring)
    except ValueError:
        raise ValidationError(_("Hãy chọn cách xếp hạng giải tập thể."), field="collective_scoring") from None
    team_prizes = any(t.audience == Audience.TEAM for t in tiers)
    share = None
    if settings.min_participation is not None:
        if not 0 <= settings.min_participation <= 100:
            raise ValidationError(_("Tỷ lệ tham gia tối thiểu phải từ 0 đến 100 (phần trăm)."),
                                  field="min_participation")
        if not team_prizes:
            raise ValidationError(
                _("Tỷ lệ tham gia tối thiểu chỉ áp dụng cho giải tổ, mà cơ cấu chưa có giải tổ nào."),
                field="min_participation",
            )
        share = settings.min_participation / 100
    band = clean(settings.min_band) or None
    if band is not None:
        if owner.period is None:
            raise ValidationError(
                _("Mức xếp loại tối thiểu chỉ dùng cho giải xét theo kỳ thi đua, không dùng cho đợt thi hay mùa thi."),
                field="min_band",
            )
        if not team_prizes:
            raise ValidationError(
                _("Mức xếp loại tối thiểu chỉ áp dụng cho giải tổ, mà cơ cấu chưa có giải tổ nào."), field="min_band"
            )
        names = {str(b["name"]).casefold(): str(b["name"]) for b in scheme_for(owner.period).bands}
        if band.casefold() not in names:
            raise ValidationError(
                _("“%(b)s” không phải mức xếp loại của bộ tiêu chí áp dụng cho kỳ này (%(names)s).",
                  b=band, names=", ".join(names.values())),
                field="min_band",
            )
        band = names[band.casefold()]
    points = settings.points_per_winner
    if scoring == CollectiveScoring.POINTS:
        if points is None or not 0 <= points <= MAX_POINTS_PER_WINNER:
            raise ValidationError(
                _("Điểm cho mỗi cá nhân đạt giải phải từ 0 đến %(n)d.", n=MAX_POINTS_PER_WINNER),
                field="points_per_winner",
            )
    elif points is None or not 0 <= points <= MAX_POINTS_PER_WINNER:
        points = AwardSettings.points_per_winner  # unused by the other methods: keep the default
    return {
        "exclude_staff": bool(settings.exclude_staff), "series_rule": str(series_rule), "min_participation": share,
        "min_band": band, "collective_scoring": str(scoring), "points_per_winner": points,
    }


def _values(data: AwardInput, tiers: list[TierInput], actor: User, award: Award | None = None,
            ) -> tuple[dict[str, object], list[PrizeTier]]:
    """The award's columns and its tiers; raises ValidationError naming the first field at fault."""
    owner = _check_owner(data, actor)
    duplicate = existing_award(AwardInput(
        "", str(owner.owner), round_id=owner.round_.id if owner.round_ else None,
        series_id=owner.series.id if owner.series else None, period=owner.period.key if owner.period else None,
        scope_unit_id=owner.scope.id,
    ))
    if duplicate is not None and duplicate is not award:
        raise ValidationError(
            _("Đã có cơ cấu giải “%(t)s” cho %(o)s này: hãy sửa cơ cấu đó.",
              t=duplicate.title, o=str(OWNER_LABELS[owner.owner]).lower()),
            field={AwardOwner.ROUND: "round_id", AwardOwner.SERIES: "series_id"}.get(owner.owner, "period"),
        )
    title = _check_title(data.title, owner)
    checked = _check_tiers(tiers, owner)
    values = {
        "title": title, "owner": str(owner.owner),
        "round_id": owner.round_.id if owner.round_ else None,
        "series_id": owner.series.id if owner.series else None,
        "period": owner.period.key if owner.period else None,
        "scope_unit_id": owner.scope.id,
        **_check_settings(data.settings, owner, checked),
    }
    return values, checked


# --- changes -------------------------------------------------------------------------------------


def snapshot(award: Award) -> dict[str, object]:
    """The structure as the audit log keeps it."""
    return {
        "title": award.title, "owner": award.owner, "round_id": award.round_id, "series_id": award.series_id,
        "period": award.period, "scope_unit_id": award.scope_unit_id,
        "exclude_staff": award.exclude_staff, "series_rule": award.series_rule,
        "min_participation": award.min_participation, "min_band": award.min_band,
        "collective_scoring": award.collective_scoring, "points_per_winner": award.points_per_winner,
        "tiers": [{"audience": t.audience, "label": t.label, "count": t.count, "value_vnd": t.value_vnd}
                  for t in award.tiers],
    }


def create_award(data: AwardInput, tiers: list[TierInput], actor: User) -> Award:
    """A new award (a draft) with its prizes; nothing is written when anything is invalid."""
    if not is_staff(actor):
        raise PermissionDenied
    values, checked = _values(data, tiers, actor)
    award = Award(status=AwardStatus.DRAFT, created_by_id=actor.id, version=1, tiers=checked, **values)
    db.session.add(award)
    db.session.flush()
    db.session.add(AwardEvent(award=award, actor_id=actor.id, action="created", detail={"after": snapshot(award)}))
    db.session.flush()
    return award


def _lock(award: Award, seen_version: int | None) -> None:
    """Hold the award row until the transaction ends, so an approval cannot slip between the check
    and the change (PostgreSQL; SQLite serialises writers), and refuse a stale form or a frozen award."""
    db.session.flush()
    row = db.session.execute(
        select(Award.status, Award.version).where(Award.id == award.id).with_for_update()
    ).one()
    if row.status != AwardStatus.DRAFT:
        raise ValidationError(
            _("Giải thưởng đã được phê duyệt nên cơ cấu giải không thể sửa; cần quản trị viên mở lại (kèm lý do)."),
            field="tiers",
        )
    if seen_version is not None and row.version != seen_version:
        raise ValidationError(
            _("Giải thưởng vừa được người khác thay đổi. Hãy tải lại trang và xem lại trước khi lưu.")
        )


def _merge_tiers(award: Award, checked: list[PrizeTier]) -> None:
    """Keep the rows of the prizes that stay (same audience and name), so the tie decisions taken on
    them still apply; a removed prize with a decision on it cannot be dropped silently."""
    old = {(t.audience, t.label.casefold()): t for t in award.tiers}
    pairs = [(new, old.pop((new.audience, new.label.casefold()), None)) for new in checked]
    dropped = {t.id: t.label for t in old.values()}
    if dropped:
        used = db.session.scalar(select(TieDecision.tier_id).where(TieDecision.tier_id.in_(dropped)).limit(1))
        if used is None:
            used = db.session.scalar(select(Winner.tier_id).where(Winner.tier_id.in_(dropped)).limit(1))
        if used is not None:
            raise ValidationError(
                _("Không thể bỏ giải “%(l)s”: đã có quyết định xử lý đồng hạng cho giải này.", l=dropped[used]),
                field="tiers",
            )
    for new, tier in pairs:
        if tier is not None:
            tier.label, tier.count, tier.value_vnd, tier.position = new.label, new.count, new.value_vnd, new.position
    award.tiers = [tier or new for new, tier in pairs]


def update_award(award: Award, data: AwardInput, tiers: list[TierInput], actor: User,
                 seen_version: int | None = None) -> Award:
    """Change the prizes and settings of a draft award (its owner stays); nothing is written when
    anything is invalid. A change bumps ``version`` (review forms opened before it are stale)."""
    require_manage(actor, award)
    _lock(award, seen_version)
    data = replace(data, owner=award.owner, round_id=award.round_id, series_id=award.series_id,
                   period=award.period, scope_unit_id=award.scope_unit_id)
    values, checked = _values(data, tiers, actor, award)
    before = snapshot(award)
    _merge_tiers(award, checked)  # checks before changing anything
    for name, value in values.items():
        setattr(award, name, value)
    db.session.flush()
    after = snapshot(award)
    if after != before:
        award.version += 1
        db.session.add(AwardEvent(award=award, actor_id=actor.id, action="changed",
                                  detail={"before": before, "after": after}))
        db.session.flush()
    return award
