"""Presets of prize structures as Vietnamese provinces award them (DOMAIN.md, contest practice):
a starting point that fills the form, changed freely before saving. Prize names are stored data
in Vietnamese (they are printed on the certificates), like the scheme's band names."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from competitions.prizes.models import Audience, AwardOwner, CollectiveScoring
from competitions.prizes.structures import AwardInput, AwardSettings, TierInput
from core.errors import ValidationError

FIRST, SECOND, THIRD, CONSOLATION = "Giải Nhất", "Giải Nhì", "Giải Ba", "Giải Khuyến khích"
GOOD = "Hoàn thành tốt"  # the scheme's second band (migration 0006): team prizes need at least it


@dataclass(frozen=True)
class Preset:
    name: str
    title: LazyString
    description: LazyString
    owners: tuple[AwardOwner, ...]  # what it suits
    tiers: tuple[TierInput, ...]
    settings: AwardSettings


def _tiers(audience: Audience, *rows: tuple[str, int, int]) -> tuple[TierInput, ...]:
    return tuple(TierInput(str(audience), label, count, value) for label, count, value in rows)


def _collective(scoring: CollectiveScoring) -> AwardSettings:
    return AwardSettings(collective_scoring=str(scoring))


_PRESETS = (
    Preset(
        "weekly_individual", _l("Giải cá nhân hằng tuần"),
        _l("1 giải Nhất (1.000.000 đ), 2 giải Nhì (500.000 đ), 3 giải Ba (300.000 đ), 5 giải Khuyến khích "
           "(200.000 đ) cho cá nhân; mỗi người nhận một giải mỗi đợt, trong mùa thi chỉ nhận thêm giải cao hơn."),
        (AwardOwner.ROUND, AwardOwner.SERIES),
        _tiers(Audience.INDIVIDUAL, (FIRST, 1, 1_000_000), (SECOND, 2, 500_000), (THIRD, 3, 300_000),
               (CONSOLATION, 5, 200_000)),
        AwardSettings(),
    ),
    Preset(
        "collective_rate", _l("Giải tập thể theo tỷ lệ tham gia"),
        _l("1 giải Nhất, 1 giải Nhì, 1 giải Ba cho các xã, phường có tỷ lệ thành viên tham gia cao nhất."),
        (AwardOwner.ROUND, AwardOwner.SERIES),
        _tiers(Audience.UNIT, (FIRST, 1, 3_000_000), (SECOND, 1, 2_000_000), (THIRD, 1, 1_000_000)),
        _collective(CollectiveScoring.PARTICIPATION_RATE),
    ),
    Preset(
        "collective_participants", _l("Giải tập thể theo số người tham gia"),
        _l("1 giải Nhất, 1 giải Nhì, 1 giải Ba cho các xã, phường có nhiều người tham gia nhất."),
        (AwardOwner.ROUND, AwardOwner.SERIES),
        _tiers(Audience.UNIT, (FIRST, 1, 3_000_000), (SECOND, 1, 2_000_000), (THIRD, 1, 1_000_000)),
        _collective(CollectiveScoring.PARTICIPANTS),
    ),
    Preset(
        "collective_points", _l("Giải tập thể tính điểm"),
        _l("1 giải Nhất, 1 giải Nhì, 1 giải Ba cho các xã, phường; điểm là tỷ lệ tham gia (%) cộng 5 điểm "
           "cho mỗi cá nhân đạt giải của đơn vị."),
        (AwardOwner.ROUND, AwardOwner.SERIES),
        _tiers(Audience.UNIT, (FIRST, 1, 3_000_000), (SECOND, 1, 2_000_000), (THIRD, 1, 1_000_000)),
        AwardSettings(collective_scoring=str(CollectiveScoring.POINTS), points_per_winner=5),
    ),
    Preset(
        "team_round", _l("Giải tổ theo kết quả thi"),
        _l("1 giải Nhất, 1 giải Nhì, 1 giải Ba cho các Tổ CNSCĐ có điểm tổ cao nhất; tổ phải có ít nhất 50% "
           "thành viên tham gia."),
        (AwardOwner.ROUND, AwardOwner.SERIES),
        _tiers(Audience.TEAM, (FIRST, 1, 2_000_000), (SECOND, 1, 1_500_000), (THIRD, 1, 1_000_000)),
        AwardSettings(min_participation=50),
    ),
    Preset(
        "emulation_quarter", _l("Giải tổ theo quý (xếp hạng thi đua)"),
        _l("1 giải Nhất, 2 giải Nhì, 3 giải Ba, 3 giải Khuyến khích cho các Tổ CNSCĐ theo điểm thi đua của quý; "
           "tổ phải đạt mức “Hoàn thành tốt” trở lên."),
        (AwardOwner.EMULATION,),
        _tiers(Audience.TEAM, (FIRST, 1, 3_000_000), (SECOND, 2, 2_000_000), (THIRD, 3, 1_000_000),
               (CONSOLATION, 3, 500_000)),
        AwardSettings(min_band=GOOD),
    ),
    Preset(
        "emulation_year", _l("Giải tổ theo năm (xếp hạng thi đua)"),
        _l("1 giải Nhất, 2 giải Nhì, 3 giải Ba, 5 giải Khuyến khích cho các Tổ CNSCĐ theo điểm thi đua của năm; "
           "tổ phải đạt mức “Hoàn thành tốt” trở lên."),
        (AwardOwner.EMULATION,),
        _tiers(Audience.TEAM, (FIRST, 1, 10_000_000), (SECOND, 2, 5_000_000), (THIRD, 3, 3_000_000),
               (CONSOLATION, 5, 1_000_000)),
        AwardSettings(min_band=GOOD),
    ),
)


def presets(owner: str | None = None) -> list[Preset]:
    """The presets, those suiting one kind of owner when given."""
    return [p for p in _PRESETS if owner is None or owner in p.owners]


def apply_preset(name: str, data: AwardInput) -> tuple[AwardInput, list[TierInput]]:
    """``data`` (its owner and title kept) with the preset's settings, and the preset's prizes: what
    the form starts from. Nothing is saved."""
    preset = next((p for p in _PRESETS if p.name == name), None)
    if preset is None:
        raise ValidationError(_("Không có mẫu cơ cấu giải “%(n)s”.", n=name), field="preset")
    if data.owner not in preset.owners:
        raise ValidationError(
            _("Mẫu “%(p)s” không dùng cho loại giải này.", p=preset.title), field="preset"
        )
    return replace(data, settings=replace(preset.settings)), [replace(t) for t in preset.tiers]
