"""The prize decision, step by step: staff review the proposal (exclude a candidate with a reason, the
next in line moves up; settle a tie across a prize boundary), an admin approves it (the winners are
frozen as Winner rows), staff publish it (public results page, in-app notifications, the winners
marked on the live boards), and an admin may reopen it with a reason.

Every step locks the award row, checks that the award is still as the actor saw it (its status and,
when the form tells it, the ``version`` it was made from), writes an AwardEvent and bumps the version
with a conditional UPDATE that must hit exactly one row. The row lock makes a second admin approving
at the same moment wait on PostgreSQL and then find the award changed; the conditional UPDATE refuses
the loser where there is no row lock (SQLite), so two approvals can never both succeed. A step that
writes several rows runs in a savepoint: it is all done or not at all.

Nothing changes after approval but through ``reopen``, which needs an admin and a reason, keeps the
winners it withdraws in the audit entry and takes a published decision off the public page.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import selectinload

from competitions import board_feed
from competitions.models import Round
from competitions.prizes import notifications
from competitions.prizes.models import (
    Audience,
    Award,
    AwardEvent,
    AwardOwner,
    AwardStatus,
    Exclusion,
    PrizeTier,
    TieDecision,
    Winner,
)
from competitions.prizes.proposal import Line, LineStatus, Proposal, closed, propose
from competitions.prizes.structures import AUDIENCE_LABELS, can_manage, require_manage
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.teams.models import Membership, MembershipStatus, TeamRole
from leaderboard.sources import Detail
from leaderboard.store import Entry

MAX_REASON = 1000


class Action(StrEnum):
    """What an AwardEvent records (stored values; "created" and "changed" come from structures)."""

    CREATED = "created"
    CHANGED = "changed"
    EXCLUDED = "excluded"
    RESTORED = "restored"  # an exclusion withdrawn
    TIE_SETTLED = "tie_settled"
    APPROVED = "approved"
    REOPENED = "reopened"
    PUBLISHED = "published"


class TieChoice(StrEnum):
    ADD = "add"  # one more prize: everyone tied wins
    PICK = "pick"  # staff pick who wins the places left


ACTION_LABELS = {
    Action.CREATED: _l("Tạo cơ cấu giải"),
    Action.CHANGED: _l("Sửa cơ cấu giải"),
    Action.EXCLUDED: _l("Loại khỏi danh sách"),
    Action.RESTORED: _l("Rút lại việc loại"),
    Action.TIE_SETTLED: _l("Xử lý đồng hạng"),
    Action.APPROVED: _l("Phê duyệt"),
    Action.REOPENED: _l("Mở lại"),
    Action.PUBLISHED: _l("Công bố"),
}
AUDIENCE_ORDER = (Audience.INDIVIDUAL, Audience.TEAM, Audience.UNIT)
#: why the decision cannot change in this status (the review steps act on a draft only)
LOCKED = {
    AwardStatus.APPROVED: _l("Quyết định đã được phê duyệt; muốn thay đổi, quản trị viên phải mở lại kèm lý do."),
    AwardStatus.PUBLISHED: _l("Quyết định đã được công bố; muốn thay đổi, quản trị viên phải mở lại kèm lý do."),
}


def _stale() -> ValidationError:
    return ValidationError(
        _("Quyết định vừa được người khác thay đổi. Hãy tải lại trang và xem lại trước khi thao tác.")
    )


# --- who may do what -----------------------------------------------------------------------------


def can_decide(user: User, award: Award) -> bool:
    """Approving and reopening are for Department staff (admins) only."""
    return user.role_code == RoleCode.ADMIN and can_manage(user, award)


def _require_decide(user: User, award: Award) -> None:
    if not can_decide(user, award):
        raise PermissionDenied


# --- state and history ---------------------------------------------------------------------------


def _reason(reason: str | None, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(message, field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationError(_("Lý do dài quá %(n)d ký tự.", n=MAX_REASON), field="reason")
    return reason


@contextmanager
def _step(award: Award, seen_version: int | None, *allowed: AwardStatus) -> Iterator[None]:
    """One step, whole or not at all (a savepoint), on the award as the actor saw it."""
    with db.session.begin_nested():
        _lock(award, seen_version, *allowed)
        yield


def _lock(award: Award, seen_version: int | None, *allowed: AwardStatus) -> None:
    """Make sure the award is still as the actor saw it, and keep it so until the transaction ends.

    The row lock (PostgreSQL) makes a concurrent step wait; it then reads what the first one left
    and is refused instead of acting on a state that no longer exists."""
    if award.status not in allowed:
        status = AwardStatus(award.status)
        raise ValidationError(str(LOCKED[status])) if status in LOCKED else _stale()
    if seen_version is not None and seen_version != award.version:
        raise _stale()
    db.session.flush()
    row = db.session.execute(
        select(Award.status, Award.version).where(Award.id == award.id).with_for_update()
    ).one()
    if (row.status, row.version) != (award.status, award.version):
        raise _stale()


def _bump(award: Award, **values: object) -> None:
    """Move the award to its next version (and status), only from the version and status it was
    locked at: the UPDATE must hit exactly one row, or somebody else got there first."""
    result = db.session.execute(
        update(Award)
        .where(Award.id == award.id, Award.version == award.version, Award.status == award.status)
        .values(version=Award.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _stale()
    db.session.refresh(award, ["version", "status", *values])


def _record(award: Award, actor: User, action: Action, now: datetime, reason: str = "",
            detail: dict[str, object] | None = None) -> AwardEvent:
    event = AwardEvent(award_id=award.id, actor=actor, at=now, action=action, reason=reason, detail=detail)
    db.session.add(event)
    db.session.flush()
    return event


def _line(proposal: Proposal, subject: str) -> Line | None:
    return next((line for line in proposal.lines if line.subject == subject), None)


def _line_detail(line: Line) -> dict[str, object]:
    return {"subject": line.subject, "name": line.name, "rank": line.rank, "status": str(line.status),
            "tier": line.tier_label}


# --- review: exclusions and ties ------------------------------------------------------------------


def exclude(award: Award, subject: str, reason: str, actor: User, seen_version: int | None = None,
            now: datetime | None = None) -> Exclusion:
    """Take a candidate of the proposal out, with the reason (disqualified, a decision); the next in
    line moves up the next time the proposal is made."""
    now = now or utcnow()
    require_manage(actor, award)
    reason = _reason(reason, _("Hãy ghi lý do loại người (tổ, đơn vị) này khỏi danh sách xét giải."))
    with _step(award, seen_version, AwardStatus.DRAFT):
        line = _line(propose(award, now), subject)
        if line is None:
            raise ValidationError(_("Người (tổ, đơn vị) này không có trong danh sách đề xuất."), field="subject")
        if line.status == LineStatus.EXCLUDED:
            raise ValidationError(_("%(n)s đã bị loại khỏi danh sách rồi.", n=line.name), field="subject")
        if line.status == LineStatus.INELIGIBLE:
            raise ValidationError(_("%(n)s đã không đủ điều kiện nhận giải: %(r)s", n=line.name, r=line.reason),
                                  field="subject")
        exclusion = Exclusion(subject=subject, reason=reason, actor=actor, at=now)
        award.exclusions.append(exclusion)
        _bump(award)
        _record(award, actor, Action.EXCLUDED, now, reason, _line_detail(line))
    return exclusion


def withdraw_exclusion(award: Award, subject: str, actor: User, reason: str = "",
                       seen_version: int | None = None, now: datetime | None = None) -> Exclusion:
    """Put an excluded candidate back (a mistake, a complaint upheld); the reason is optional, the
    exclusion stays in the history as withdrawn."""
    now = now or utcnow()
    require_manage(actor, award)
    reason = (reason or "").strip()[:MAX_REASON]
    with _step(award, seen_version, AwardStatus.DRAFT):
        exclusion = next((e for e in award.exclusions if e.subject == subject and e.active), None)
        if exclusion is None:
            raise ValidationError(_("Người (tổ, đơn vị) này hiện không bị loại."), field="subject")
        line = _line(propose(award, now), subject)
        exclusion.active = False
        _bump(award)
        detail = {"subject": subject, "name": line.name if line else subject, "excluded_for": exclusion.reason}
        _record(award, actor, Action.RESTORED, now, reason, detail)
    return exclusion


def settle_tie(award: Award, tier_id: int, decision: str, picked: Sequence[str], reason: str, actor: User,
               seen_version: int | None = None, now: datetime | None = None) -> TieDecision:
    """Settle a tie the proposal flagged at a prize boundary: one more prize so that everyone tied
    wins ("add"), or the ones who win the places left ("pick", exactly that many, among the tied)."""
    now = now or utcnow()
    require_manage(actor, award)
    if decision not in set(TieChoice):
        raise ValidationError(_("Hãy chọn cách xử lý: thêm giải hoặc chọn người đoạt giải."), field="decision")
    reason = _reason(reason, _("Hãy ghi lý do của quyết định xử lý đồng hạng."))
    with _step(award, seen_version, AwardStatus.DRAFT):
        proposal = propose(award, now)
        tie = next((t for t in proposal.ties if t.tier_id == tier_id), None)
        if tie is None:
            raise ValidationError(_("Không còn trường hợp đồng hạng nào cần xử lý ở giải này."))
        chosen = list(dict.fromkeys(picked)) if decision == TieChoice.PICK else []
        if decision == TieChoice.PICK:
            if any(subject not in tie.subjects for subject in chosen):
                raise ValidationError(_("Chỉ được chọn trong số những người đồng hạng."), field="picked")
            if len(chosen) != tie.places:
                raise ValidationError(
                    _("Còn %(n)d suất %(t)s: hãy chọn đúng %(n)d trong số những người đồng hạng.",
                      n=tie.places, t=tie.tier_label),
                    field="picked",
                )
        settled = TieDecision(tier_id=tier_id, tied=list(tie.subjects), decision=decision, picked=chosen,
                              reason=reason, actor_id=actor.id, at=now)
        award.tie_decisions.append(settled)
        _bump(award)
        names = {line.subject: line.name for line in proposal.lines if line.subject in tie.subjects}
        _record(award, actor, Action.TIE_SETTLED, now, reason, {
            "tier_id": tier_id, "tier": tie.tier_label, "places": tie.places, "decision": decision,
            "tied": list(tie.subjects), "picked": chosen, "names": names,
        })
    return settled


# --- approval ------------------------------------------------------------------------------------


def tier_order(award: Award) -> dict[int, int]:
    """Tier id → its place in the decision: individuals, teams, units; best prize first."""
    tiers = sorted(award.tiers, key=lambda t: (AUDIENCE_ORDER.index(Audience(t.audience)), t.position, t.id))
    return {tier.id: n for n, tier in enumerate(tiers)}


def _winner_rows(award: Award, lines: Iterable[Line]) -> list[Winner]:
    order = tier_order(award)
    winning = sorted((line for line in lines if line.status == LineStatus.WINNER),
                     key=lambda line: (order.get(line.tier_id or 0, len(order)), line.rank, line.name))
    return [
        Winner(
            award_id=award.id, tier_id=line.tier_id, position=n, subject=line.subject, user_id=line.user_id,
            team_id=line.team_id, unit_id=line.unit_id, name=line.name, team_name=line.team_name or "",
            unit_name=line.unit_name or "", phone=line.phone, rank=line.rank, score_text=line.score_text or "",
            time_text=line.time_text or "",
        )
        for n, line in enumerate(winning, start=1)
    ]


def winners_snapshot(winners: Iterable[Winner]) -> list[dict[str, object]]:
    """The winners as the audit log keeps them (what a reopening withdraws)."""
    return [
        {"position": w.position, "tier": w.tier.label, "subject": w.subject, "name": w.name,
         "team": w.team_name, "unit": w.unit_name, "rank": w.rank, "score": w.score_text}
        for w in winners
    ]


def approve(award: Award, actor: User, now: datetime | None = None, seen_version: int | None = None) -> Award:
    """Freeze the decision: the WINNER lines of the proposal become Winner rows (names, team, unit,
    phone, rank, texts as they are now). Not before the round or period has closed, not with a tie
    left open, once only."""
    now = now or utcnow()
    _require_decide(actor, award)
    if award.status != AwardStatus.DRAFT:
        raise ValidationError(_("Quyết định này đã được phê duyệt rồi; không thể phê duyệt lần nữa."))
    with _step(award, seen_version, AwardStatus.DRAFT):
        if not closed(award, now):
            raise ValidationError(_("Chưa thể phê duyệt: đợt thi (giai đoạn) chưa kết thúc và chốt kết quả."))
        proposal = propose(award, now)
        if any(line.status == LineStatus.TIED for line in proposal.lines) or proposal.ties:
            raise ValidationError(_("Chưa thể phê duyệt: còn trường hợp đồng hạng chưa được xử lý."))
        if proposal.problems:
            raise ValidationError(_("Chưa thể phê duyệt: %(p)s", p="; ".join(proposal.problems)))
        winners = _winner_rows(award, proposal.lines)
        if not winners:
            raise ValidationError(_("Chưa thể phê duyệt: danh sách đề xuất không có ai đoạt giải."))
        _bump(award, status=AwardStatus.APPROVED, approved_by_id=actor.id, approved_at=now)
        db.session.add_all(winners)
        db.session.flush()
        db.session.expire(award, ["winners"])
        _record(award, actor, Action.APPROVED, now, detail={"winners": winners_snapshot(award.winners)})
    return award


def reopen(award: Award, actor: User, reason: str, seen_version: int | None = None,
           now: datetime | None = None) -> Award:
    """Back to review: the Winner rows go (kept in the audit entry), a published decision leaves the
    public page and the boards, and notifications nobody has read yet are taken back."""
    now = now or utcnow()
    _require_decide(actor, award)
    reason = _reason(reason, _("Hãy ghi lý do mở lại quyết định đã phê duyệt."))
    if award.status == AwardStatus.DRAFT:
        raise ValidationError(_("Quyết định chưa được phê duyệt nên không cần mở lại."))
    was_published = award.status == AwardStatus.PUBLISHED
    with _step(award, seen_version, AwardStatus.APPROVED, AwardStatus.PUBLISHED):
        previous = winners_snapshot(award.winners)
        withdrawn = notifications.withdraw(public_link(award)) if was_published else 0
        db.session.execute(delete(Winner).where(Winner.award_id == award.id))
        _bump(award, status=AwardStatus.DRAFT, approved_by_id=None, approved_at=None, published_at=None)
        db.session.expire(award, ["winners"])
        _record(award, actor, Action.REOPENED, now, reason, {
            "was": "published" if was_published else "approved", "unpublished": was_published,
            "winners": previous, "notifications_withdrawn": withdrawn,
        })
    if was_published:
        _refresh_boards(award)
    return award


# --- publication ---------------------------------------------------------------------------------


def public_link(award: Award) -> str:
    """The public page's path; built from the URL map, so it also works outside a request (the demo)."""
    return current_app.url_map.bind("").build("prize_results.page", {"award_id": award.id})


def _recipients(winners: Sequence[Winner]) -> list[tuple[Winner, list[int]]]:
    """Who hears of each prize: the person; for a team its active leader and deputy; for a unit (a
    collective prize) the staff accounts of that unit (Đoàn xã, cán bộ xã)."""
    team_ids = {w.team_id for w in winners if w.tier.audience == Audience.TEAM and w.team_id}
    unit_ids = {w.unit_id for w in winners if w.tier.audience == Audience.UNIT and w.unit_id}
    leaders: dict[int, list[int]] = {}
    for team_id, user_id in db.session.execute(
        select(Membership.team_id, Membership.user_id).where(
            Membership.team_id.in_(team_ids), Membership.status == MembershipStatus.ACTIVE,
            Membership.role.in_([TeamRole.LEADER, TeamRole.DEPUTY]),
        ).order_by(Membership.id)
    ):
        leaders.setdefault(team_id, []).append(user_id)
    staff: dict[int, list[int]] = {}
    for unit_id, user_id in db.session.execute(
        select(User.unit_id, User.id).where(
            User.unit_id.in_(unit_ids), User.active, User.role_code.in_([RoleCode.ORGANISER, RoleCode.OFFICER]),
        ).order_by(User.id)
    ):
        staff.setdefault(unit_id, []).append(user_id)
    found = []
    for w in winners:
        if w.tier.audience == Audience.INDIVIDUAL:
            found.append((w, [w.user_id] if w.user_id else []))
        elif w.tier.audience == Audience.TEAM:
            found.append((w, leaders.get(w.team_id or 0, [])))
        else:
            found.append((w, staff.get(w.unit_id or 0, [])))
    return found


def _announcement(award: Award, winner: Winner) -> str:
    """Stored text, not screen text: the winners read it in Vietnamese whatever the publisher's language."""
    who = "Bạn" if winner.tier.audience == Audience.INDIVIDUAL else winner.name
    return f"Chúc mừng! {who} đoạt {winner.tier.label} — {award.title}."


def publish(award: Award, actor: User, now: datetime | None = None, seen_version: int | None = None) -> Award:
    """Announce an approved decision: the public results page opens, the winners are told in the app
    and marked on the live boards once the transaction commits."""
    now = now or utcnow()
    require_manage(actor, award)
    if award.status == AwardStatus.DRAFT:
        raise ValidationError(_("Quyết định chưa được phê duyệt nên chưa thể công bố."))
    if award.status == AwardStatus.PUBLISHED:
        raise ValidationError(_("Quyết định đã được công bố rồi."))
    with _step(award, seen_version, AwardStatus.APPROVED):
        winners = list(award.winners)
        link = public_link(award)
        told = 0
        for winner, user_ids in _recipients(winners):
            for user_id in user_ids:
                notifications.notify(user_id, _announcement(award, winner), link)
                told += 1
        _bump(award, status=AwardStatus.PUBLISHED, published_at=now)
        _record(award, actor, Action.PUBLISHED, now, detail={"winners": len(winners), "notified": told})
    _refresh_boards(award)
    return award


def _board_group(award: Award) -> str | None:
    if award.owner == AwardOwner.ROUND and award.round_id:
        round_ = db.session.get(Round, award.round_id)
        return round_.context if round_ is not None else None
    if award.owner == AwardOwner.SERIES and award.series_id:
        return f"series:{award.series_id}"
    if award.owner == AwardOwner.EMULATION and award.period:
        return f"emulation:{award.period}"
    return None


def _refresh_boards(award: Award) -> None:
    """The boards that show the award's winners are rebuilt after the commit (the prize labels come
    from ``prize_labels``)."""
    group = _board_group(award)
    if group is not None:
        board_feed.queue(group)


def prize_labels(owner_kind: str, owner_id: int | str) -> dict[str, str]:
    """Subject ("p<user>", "t<team>", "u<unit>") → the prize it won, for the live boards of a round,
    a series (ids) or an emulation period (its key); published decisions only."""
    owner_column = {
        AwardOwner.ROUND: Award.round_id, AwardOwner.SERIES: Award.series_id, AwardOwner.EMULATION: Award.period,
    }.get(owner_kind)  # type: ignore[call-overload]
    if owner_column is None:
        return {}
    rows = db.session.execute(
        select(Winner.subject, PrizeTier.label)
        .join(PrizeTier, PrizeTier.id == Winner.tier_id)
        .join(Award, Award.id == Winner.award_id)
        .where(Award.owner == owner_kind, owner_column == owner_id, Award.status == AwardStatus.PUBLISHED)
        .order_by(Award.id, Winner.position)
    )
    labels: dict[str, list[str]] = {}
    for subject, label in rows:
        if label not in labels.setdefault(subject, []):
            labels[subject].append(label)
    return {subject: ", ".join(found) for subject, found in labels.items()}


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    label: str
    reason: str
    summary: str
    winners: list[dict[str, object]] = field(default_factory=list)  # approved / withdrawn by a reopening


def _summary(action: str, detail: dict[str, object]) -> str:
    if action in (Action.EXCLUDED, Action.RESTORED):
        return str(detail.get("name", ""))
    if action == Action.TIE_SETTLED:
        names = detail.get("names") or {}
        if detail.get("decision") == TieChoice.ADD:
            return _("%(t)s: thêm giải cho cả %(n)d người đồng hạng", t=detail.get("tier"),
                     n=len(detail.get("tied") or []))
        picked = ", ".join(str(names.get(s, s)) for s in detail.get("picked") or [])  # type: ignore[union-attr]
        return _("%(t)s: chọn %(p)s", t=detail.get("tier"), p=picked)
    if action == Action.APPROVED:
        return _("%(n)d người (tổ, đơn vị) đoạt giải", n=len(detail.get("winners") or []))
    if action == Action.REOPENED:
        text = _("Thu hồi %(n)d người (tổ, đơn vị) đoạt giải", n=len(detail.get("winners") or []))
        return text + ("; " + _("đã gỡ trang kết quả công khai") if detail.get("unpublished") else "")
    if action == Action.PUBLISHED:
        return _("Đã thông báo cho %(n)d tài khoản", n=detail.get("notified", 0))
    after = detail.get("after")
    if action in (Action.CREATED, Action.CHANGED) and isinstance(after, dict):
        return ", ".join(f"{t['label']} × {t['count']}" for t in after.get("tiers") or [])
    return ""


def audit(award: Award) -> list[AuditLine]:
    """The award's history, oldest first: who did what, when, why."""
    events = db.session.scalars(
        select(AwardEvent).where(AwardEvent.award_id == award.id).options(selectinload(AwardEvent.actor))
        .order_by(AwardEvent.id)
    )
    lines = []
    for event in events:
        detail = event.detail or {}
        label = ACTION_LABELS.get(event.action)  # type: ignore[call-overload]
        winners = detail.get("winners") if event.action in (Action.APPROVED, Action.REOPENED) else None
        lines.append(AuditLine(
            at=event.at, actor=event.actor.full_name, action=event.action,
            label=str(label) if label is not None else event.action, reason=event.reason or "",
            summary=_summary(event.action, detail), winners=list(winners) if isinstance(winners, list) else [],
        ))
    return lines


@dataclass
class TierGroup:
    tier: PrizeTier | None  # None: candidates not (or not yet) winning a prize of the audience
    lines: list[Line]


@dataclass
class AudienceGroup:
    audience: str
    label: str
    tiers: list[TierGroup]


def grouped(award: Award, proposal: Proposal) -> list[AudienceGroup]:
    """The proposal for the review screen: per audience, each prize with its candidates, then the
    candidates without a prize (next in line, excluded, ineligible), by rank."""
    groups = []
    for audience in AUDIENCE_ORDER:
        tiers = sorted((t for t in award.tiers if t.audience == audience), key=lambda t: (t.position, t.id))
        lines = sorted((line for line in proposal.lines if line.audience == audience),
                       key=lambda line: (line.rank, line.name))
        if not tiers and not lines:
            continue
        known = {tier.id for tier in tiers}
        sections = [TierGroup(tier, [line for line in lines if line.tier_id == tier.id]) for tier in tiers]
        rest = [line for line in lines if line.tier_id not in known]
        if rest:
            sections.append(TierGroup(None, rest))
        groups.append(AudienceGroup(audience, str(AUDIENCE_LABELS[audience]), sections))
    return groups


def published_awards() -> Select[tuple[Award]]:
    """The public index: published decisions, newest first."""
    return select(Award).where(Award.status == AwardStatus.PUBLISHED).order_by(
        Award.published_at.desc(), Award.id.desc()
    )


@dataclass
class PrizeGroup:
    tier: PrizeTier
    winners: list[Winner]


def prize_groups(award: Award) -> list[PrizeGroup]:
    """The approved winners by prize, in the order of the decision (STT)."""
    groups: dict[int, PrizeGroup] = {}
    for winner in award.winners:
        groups.setdefault(winner.tier_id, PrizeGroup(winner.tier, [])).winners.append(winner)
    order = tier_order(award)
    return sorted(groups.values(), key=lambda g: order.get(g.tier.id, len(order)))


def prizes_of(user: User, award: Award) -> list[str]:
    """What the user sees on the results page about themselves: their own prizes and their team's."""
    team_ids = set(db.session.scalars(
        select(Membership.team_id).where(Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE)
    ))
    found = []
    for winner in award.winners:
        if winner.tier.audience == Audience.INDIVIDUAL and winner.user_id == user.id:
            found.append(_("Bạn đoạt %(prize)s.", prize=winner.tier.label))
        elif winner.tier.audience == Audience.TEAM and winner.team_id in team_ids:
            found.append(_("Tổ của bạn (%(team)s) đoạt %(prize)s.", team=winner.name, prize=winner.tier.label))
    return found


def marked(owner_kind: str, owner_id: int | str, prefix: str,
           rows: Iterable[tuple[Entry, Detail]]) -> list[tuple[Entry, Detail]]:
    """Board rows with the prize each member won in a published decision put before its second
    line ("🏆 Giải Nhất · Tổ …"). ``prefix``: what the board's members are ("p" people, "t" teams,
    "u" units)."""
    rows = list(rows)
    labels = prize_labels(owner_kind, owner_id) if rows else {}
    if not labels:
        return rows
    return [
        (entry, replace(detail, sub=f"🏆 {labels[prefix + entry.member]} · {detail.sub}"))
        if prefix + entry.member in labels else (entry, detail)
        for entry, detail in rows
    ]
