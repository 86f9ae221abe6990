"""Public results of prize decisions (kết quả trao giải): the index of published decisions and one
decision's page, open to everyone without signing in (phone numbers masked); a winner who is signed
in sees their prize there. Also the signed-in user's notifications page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from competitions.prizes import notifications, workflow
from competitions.prizes.models import Award, AwardStatus
from competitions.prizes.structures import owner_label
from core.accounts.permissions import PUBLIC, SIGNED_IN, access
from core.extensions import db
from core.pagination import paginate_select

bp = Blueprint("prize_results", __name__, url_prefix="/prizes")


@bp.app_context_processor
def notification_count() -> dict[str, object]:
    """``unread_notifications()`` for the navigation: counted only where a template asks."""

    def unread_notifications() -> int:
        return notifications.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


@bp.route("/")
@access(PUBLIC)
def index() -> str:
    page = paginate_select(workflow.published_awards(), request.args.get("page", type=int))
    return render_template("prizes/public_index.html", page=page,
                           owners={award.id: owner_label(award) for award in page.items})


@bp.route("/<int:award_id>")
@access(PUBLIC)
def page(award_id: int) -> str:
    award = db.get_or_404(Award, award_id)
    if award.status != AwardStatus.PUBLISHED:
        abort(404)
    mine: list[str] = []
    if current_user.is_authenticated:
        mine = workflow.prizes_of(current_user, award)
        if notifications.mark_read(current_user, link=workflow.public_link(award)):
            db.session.commit()
    return render_template("prizes/public.html", award=award, owner=owner_label(award),
                           groups=workflow.prize_groups(award), mine=mine)


@bp.route("/notifications")
@access(SIGNED_IN)
def notifications_page() -> str:
    """The user's notifications, newest first; opening the page marks them read."""
    items = notifications.recent(current_user)
    unread = {n.id for n in items if n.read_at is None}
    if unread:
        notifications.mark_read(current_user, ids=unread)
        db.session.commit()
    return render_template("prizes/notifications.html", items=items, unread=unread)
