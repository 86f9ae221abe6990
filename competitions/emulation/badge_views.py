"""Badge screens: the public gallery (every active badge and how to earn it), the rules table and
rule editing (admins), and the ``flask emulation badges [--since MONTH]`` command that replays the
rules over past data. The rules are in competitions.emulation.badges."""

from __future__ import annotations

import click
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField

from competitions.emulation import badges, levels
from competitions.emulation.badges import RuleInput
from competitions.emulation.models import BadgeRule, BadgeSubject
from competitions.emulation.periods import Period
from core.accounts.permissions import PUBLIC, access
from core.accounts.roles import RoleCode
from core.errors import ValidationError
from core.extensions import db
from core.forms import saved
from core.teams.models import Team

# The command group "emulation" (``flask emulation badges``) comes with this blueprint.
bp = Blueprint("badges", __name__, url_prefix="/emulation/badges", cli_group="emulation")

SUBJECT_LABELS = {BadgeSubject.TEAM: _l("Tập thể (tổ)"), BadgeSubject.MEMBER: _l("Cá nhân")}
PARAM_PREFIX = "param_"


@bp.app_template_filter("badge_subject")
def badge_subject(value: str) -> str:
    return str(SUBJECT_LABELS.get(value, value))  # type: ignore[call-overload]


@bp.app_template_filter("badge_kind")
def badge_kind(value: str) -> str:
    found = badges.KINDS.get(value)
    return str(found.label) if found else value


class RuleForm(FlaskForm):
    name = StringField(_l("Tên huy hiệu"), render_kw={"maxlength": badges.NAME_LENGTH})
    description = StringField(_l("Mô tả"), render_kw={"maxlength": badges.DESCRIPTION_LENGTH})
    icon = StringField(_l("Biểu tượng (emoji)"), render_kw={"maxlength": badges.ICON_LENGTH})
    active = BooleanField(_l("Đang trao huy hiệu này"))

    def param_fields(self) -> list[object]:
        return [field for field in self if field.name.startswith(PARAM_PREFIX)]

    def to_input(self) -> RuleInput:
        return RuleInput(
            name=self.name.data or "", description=self.description.data or "", icon=self.icon.data or "",
            active=bool(self.active.data),
            params={field.name.removeprefix(PARAM_PREFIX): field.data for field in self.param_fields()},
        )


@bp.app_template_filter("badge_threshold")
def badge_threshold(value: object) -> str:
    """A stored threshold as shown and typed (whatever is stored, so that a bad one can be fixed)."""
    return badges.format_number(value) if isinstance(value, int | float) else str(value or "")


def _rule_form(rule: BadgeRule) -> RuleForm:
    """The form with one field per threshold of the rule's kind, holding the rule's values on GET."""
    params = badges.KINDS[rule.kind].params
    fields = {
        f"{PARAM_PREFIX}{p.name}": StringField(
            p.label,
            description=_("Từ %(a)s đến %(b)s", a=badges.format_number(p.minimum), b=badges.format_number(p.maximum)),
            render_kw={"inputmode": "decimal" if p.kind is float else "numeric"},
        )
        for p in params
    }
    form_class = type("KindRuleForm", (RuleForm,), fields)
    if request.method != "GET":
        return form_class()
    data = {"name": rule.name, "description": rule.description, "icon": rule.icon, "active": rule.active}
    data.update({f"{PARAM_PREFIX}{p.name}": badge_threshold(rule.params.get(p.name)) for p in params})
    return form_class(data=data)


@bp.route("/")
@access(PUBLIC)
def gallery() -> str:
    rules = [rule for rule in badges.all_rules() if rule.active and badges.usable(rule)]
    return render_template(
        "emulation/badge_gallery.html", rules=rules, how={rule.id: badges.how_to_earn(rule) for rule in rules},
        counts=badges.award_counts(),
    )


@bp.route("/rules")
@access(RoleCode.ADMIN)
def rules() -> str:
    all_rules = badges.all_rules()
    return render_template(
        "emulation/badge_rules.html", rules=all_rules,
        how={rule.id: badges.how_to_earn(rule) for rule in all_rules if badges.usable(rule)},
        params={rule.id: badges.KINDS[rule.kind].params for rule in all_rules if rule.kind in badges.KINDS},
    )


@bp.route("/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@access(RoleCode.ADMIN)
def edit_rule(rule_id: int) -> str | Response:
    rule = db.get_or_404(BadgeRule, rule_id)
    if rule.kind not in badges.KINDS:
        abort(404)
    form = _rule_form(rule)
    if form.validate_on_submit() and saved(
        lambda: badges.update_rule(rule, form.to_input()), lambda r: _("Đã lưu huy hiệu “%(n)s”.", n=r.name), form,
    ) is not None:
        return redirect(url_for(".rules"))
    return render_template("emulation/badge_rule_form.html", form=form, rule=rule,
                           how=badges.how_to_earn(rule) if badges.usable(rule) else "")


@bp.cli.command("badges")
@click.option("--since", metavar="MONTH", help="Only reports of this month (e.g. 2026-09) on, and rounds opened since.")
def badges_command(since: str | None) -> None:
    """Award every badge earned in past data (already awarded ones are kept) and announce levels reached."""
    try:
        period = Period.parse(since, "since") if since else None
    except ValidationError as error:
        raise click.BadParameter(error.message, param_hint="--since") from None
    awarded = badges.evaluate_all(period)
    team_ids = list(db.session.scalars(select(Team.id).where(Team.active.is_(True))))
    announced = levels.announce_level_ups(team_ids)
    db.session.commit()
    click.echo(f"{awarded} badges awarded, {len(announced)} levels announced")
