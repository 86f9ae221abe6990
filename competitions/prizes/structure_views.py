"""Prize structure screens (/awards): the staff's list of awards, choosing what a new award is for,
and the form of prizes and eligibility settings (with presets). The rules are in
competitions.prizes.structures; review, approval and publication are on the review pages.

Entry points: /awards/new?round=<id>, /awards/new?series=<id>, /awards/new?period=2026-Q4&unit=<id>,
each optionally with &preset=<name> (competitions.prizes.presets)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from competitions import rounds
from competitions.emulation.periods import Period
from competitions.models import Round, Series
from competitions.prizes import presets, structures
from competitions.prizes.models import Audience, Award, AwardOwner, AwardStatus
from competitions.prizes.structure_forms import AwardForm, form_data
from competitions.prizes.structures import AwardInput, TierInput
from core.accounts.models import User
from core.accounts.permissions import STAFF, access
from core.errors import ValidationError
from core.extensions import db
from core.org import service as org
from core.org.models import Unit
from core.org.scope import unit_scope_clause

bp = Blueprint("awards", __name__, url_prefix="/awards")
CHOICES_SHOWN = 200  # rounds and seasons offered when choosing what a new award is for (latest first)


@bp.app_template_filter("award_owner")
def award_owner(award: Award) -> str:
    return structures.owner_label(award)


@bp.app_template_filter("award_status")
def award_status(value: str) -> str:
    return str(structures.STATUS_LABELS[AwardStatus(value)])


@bp.app_template_filter("audience_label")
def audience_label(value: str) -> str:
    return str(structures.AUDIENCE_LABELS[Audience(value)])


@bp.app_template_filter("vnd")
def vnd(value: int | None) -> str:
    """"1.000.000 đ" (the locale's grouping); "—" for a prize without a money value."""
    return "—" if value is None else f"{format_decimal(value, format='#,##0')} đ"


def review_url(award: Award) -> str:
    """The review page (the workflow's blueprint)."""
    return url_for("award_review.review", award_id=award.id)


def _owner_from_args() -> AwardInput | None:
    """What ?round=, ?series= or ?period=&unit= name, or None (the owner is still to be chosen)."""
    args = request.args
    if args.get("round"):
        return AwardInput("", str(AwardOwner.ROUND), round_id=args.get("round", type=int))
    if args.get("series"):
        return AwardInput("", str(AwardOwner.SERIES), series_id=args.get("series", type=int))
    if args.get("period"):
        return AwardInput("", str(AwardOwner.EMULATION), period=args.get("period"),
                          scope_unit_id=args.get("unit", type=int) or current_user.unit_id)
    return None


def _with_preset(
    data: AwardInput, tiers: list[TierInput], form_errors: list[str]
) -> tuple[AwardInput, list[TierInput]]:
    name = request.args.get("preset")
    if not name:
        return data, tiers
    try:
        return presets.apply_preset(name, data)
    except ValidationError as error:
        form_errors.append(error.message)
        return data, tiers


def _owner_title(data: AwardInput) -> str:
    """What the award is for, as the form's heading shows it (before anything is stored)."""
    if data.owner == AwardOwner.ROUND and data.round_id:
        round_ = db.session.get(Round, data.round_id)
        return _("Đợt thi: %(t)s", t=round_.title) if round_ else ""
    if data.owner == AwardOwner.SERIES and data.series_id:
        series = db.session.get(Series, data.series_id)
        return _("Mùa thi: %(t)s", t=series.title) if series else ""
    unit = db.session.get(Unit, data.scope_unit_id) if data.scope_unit_id else None
    try:
        label = Period.parse(data.period or "").label
    except ValidationError:
        label = data.period or ""
    return _("Kỳ thi đua: %(p)s · %(u)s", p=label, u=unit.name if unit else "—")


def _in_series(data: AwardInput) -> bool:
    if data.owner == AwardOwner.SERIES:
        return True
    round_ = db.session.get(Round, data.round_id) if data.owner == AwardOwner.ROUND and data.round_id else None
    return round_ is not None and round_.series_id is not None


def _render_form(form: AwardForm, data: AwardInput, award: Award | None, preset_errors: list[str]) -> str:
    form.tier_errors = [*preset_errors, *form.tier_errors]
    return render_template(
        "prizes/award_form.html", form=form, award=award, owner_heading=_owner_title(data),
        presets=[(_preset_url(p.name), p) for p in presets.presets(data.owner)], in_series=_in_series(data),
        emulation=data.owner == AwardOwner.EMULATION, review_url=review_url(award) if award else None,
    )


def _preset_url(name: str) -> str:
    """This page with the preset applied (the owner's query arguments kept)."""
    return f"{request.path}?{urlencode({**request.args.to_dict(), 'preset': name})}"


def _save(form: AwardForm, work: Callable[[], Award]) -> Award | None:
    try:
        award = work()
    except ValidationError as error:
        db.session.rollback()
        form.show_error(error)
        return None
    db.session.commit()
    return award


@bp.route("/")
@access(*STAFF)
def list_awards() -> str:
    status = request.args.get("status") if request.args.get("status") in set(AwardStatus) else None
    owner = request.args.get("owner") if request.args.get("owner") in set(AwardOwner) else None
    items = structures.awards_for(current_user, status=status, owner=owner)
    return render_template(
        "prizes/award_list.html", items=items, status=status, owner=owner,
        statuses=structures.STATUS_LABELS, owners=structures.OWNER_LABELS,
        managed={a.id for a in items if structures.can_manage(current_user, a)}, review_url=review_url,
    )


def _choices(user: User) -> dict[str, object]:
    """What a new award may be for: the user's rounds and seasons (latest first), and the units of
    their scope for an emulation period."""
    managed = unit_scope_clause(user)
    round_list = db.session.scalars(
        select(Round).join(Unit, Round.scope_unit_id == Unit.id).where(managed)
        .order_by(Round.closes_at.desc(), Round.id.desc()).limit(CHOICES_SHOWN)
    )
    series_list = db.session.scalars(
        select(Series).join(Unit, Series.scope_unit_id == Unit.id).where(managed)
        .order_by(Series.created_at.desc(), Series.id.desc()).limit(CHOICES_SHOWN)
    )
    nodes = org.flatten(org.scope_tree(user, active_only=True, kinds=rounds.SCOPE_KINDS))
    base = min((node.unit.depth for node in nodes), default=0)
    return {
        "round_choices": list(round_list), "series_choices": list(series_list),
        "unit_choices": [(n.unit.id, "\u00a0\u00a0" * (n.unit.depth - base) + n.unit.name) for n in nodes],
        "this_period": Period.month_of(rounds.local_today()).parents()[0].key,
    }


@bp.route("/new", methods=["GET", "POST"])
@access(*STAFF)
def new_award() -> str | Response:
    data = _owner_from_args()
    if data is None and request.method == "GET":
        return render_template("prizes/award_form.html", form=None, choose=True, **_choices(current_user))
    existing = structures.existing_award(data) if data is not None and request.method == "GET" else None
    if existing is not None and structures.can_manage(current_user, existing):
        # The round page's "Xét giải" link leads here whether or not its prizes are set up yet.
        flash(_("Đã có cơ cấu giải “%(t)s”; đây là cơ cấu đó.", t=existing.title), "info")
        return redirect(url_for("awards.edit_award", award_id=existing.id))
    preset_errors: list[str] = []
    start_data, start_tiers = _with_preset(data or AwardInput("", ""), [], preset_errors)
    form = AwardForm(data=form_data(start_data, start_tiers) if request.method == "GET" else None)
    form.set_choices(_safe_period(form.period.data if request.method == "POST" else start_data.period))
    if form.validate_on_submit():
        award = _save(form, lambda: structures.create_award(form.to_input(), form.tier_inputs(), current_user))
        if award is not None:
            flash(_("Đã tạo cơ cấu giải “%(t)s”.", t=award.title), "success")
            return redirect(url_for("awards.edit_award", award_id=award.id))
    shown = form.to_input() if request.method == "POST" else start_data
    return _render_form(form, shown, None, preset_errors)


def _safe_period(key: str | None) -> str | None:
    """The period whose bands the form offers; a bad key offers none (the service will name it)."""
    try:
        return Period.parse(key).key if key else None
    except ValidationError:
        return None


@bp.route("/<int:award_id>/edit", methods=["GET", "POST"])
@access(*STAFF)
def edit_award(award_id: int) -> str | Response:
    award = db.get_or_404(Award, award_id)
    structures.require_manage(current_user, award)
    current = structures.award_input(award)
    preset_errors: list[str] = []
    start_data, start_tiers = _with_preset(current, structures.tier_inputs(award), preset_errors)
    form = AwardForm(data=form_data(start_data, start_tiers, award.version) if request.method == "GET" else None)
    form.set_choices(award.period)
    if form.validate_on_submit():
        saved = _save(form, lambda: structures.update_award(
            award, form.to_input(), form.tier_inputs(), current_user, seen_version=form.seen_version()))
        if saved is not None:
            flash(_("Đã lưu cơ cấu giải “%(t)s”.", t=saved.title), "success")
            return redirect(url_for("awards.edit_award", award_id=saved.id))
        award = db.get_or_404(Award, award_id)  # as stored, after the rollback
    return _render_form(form, current, award, preset_errors)
