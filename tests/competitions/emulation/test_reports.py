"""Activity reports (competitions.emulation.reports): filing, idempotency, plausibility, evidence,
lateness, review with history and signals, scope, and concurrent reviews on two real connections."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image
from sqlalchemy import func, select, update

from competitions.emulation import reports, tallies
from competitions.emulation.models import ActivityKind, ActivityReport, ReportEvent, ReportStatus
from competitions.emulation.periods import Period
from competitions.signals import report_changed
from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.errors import PermissionDenied, ValidationError
from core.extensions import db
from core.teams import service as teams
from core.teams.models import TeamRole
from tests.competitions.emulation.worlds import JPEG, PNG, WEBP, World, build_world, count_reports, files_in, upload
from tests.factories import Factory
from tests.race import race_database

# 10:00 on 10 November 2026 in Vietnam; October's report is due by the end of 20 November (local)
NOW = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)
OCTOBER, NOVEMBER = Period.month(2026, 10), Period.month(2026, 11)

pytestmark = pytest.mark.usefixtures("evidence_dir")


@pytest.fixture
def sent() -> Iterator[list[tuple[int, str | None]]]:
    """The report_changed signals sent: (report id, status before)."""
    seen: list[tuple[int, str | None]] = []

    def receiver(report: ActivityReport, before: str | None = None) -> None:
        seen.append((report.id, before))

    with report_changed.connected_to(receiver):
        yield seen


def count_events() -> int:
    return db.session.scalar(select(func.count()).select_from(ReportEvent))


def file(w: World, actor: User | None = None, month: Period = OCTOBER, now: datetime = NOW, **kwargs: object):
    lines = kwargs.pop("lines", None) or w.q(vneid=40, households=25)
    return reports.file_report(w.team, month, lines, actor or w.leader, now=now, **kwargs)


# --- filing --------------------------------------------------------------------------------------


def test_leader_files_a_report_with_history_and_signal(w: World, sent):
    report = file(w, note="Đi từng ngõ, gõ từng nhà")

    assert report.status == ReportStatus.SUBMITTED
    assert {line.activity.code: line.quantity for line in report.lines} == {"vneid": 40, "households": 25}
    assert (report.month, report.filed_by, report.late, report.flagged) == ("2026-10", w.leader, False, False)
    [event] = report.events
    assert (event.action, event.actor, event.before) == ("filed", w.leader, None)
    assert event.after["status"] == "submitted"
    assert event.after["lines"] == {str(w.kinds["vneid"].id): 40, str(w.kinds["households"].id): 25}
    assert event.after["note"] == "Đi từng ngõ, gõ từng nhà"
    assert sent == [(report.id, None)]


def test_deputy_files_too(w: World):
    assert file(w, actor=w.deputy).filed_by == w.deputy


@pytest.mark.parametrize("who", ["member", "officer", "admin", "other_leader", "former_leader"])
def test_nobody_else_files_for_the_team(w: World, make: Factory, who: str, sent):
    if who == "admin":
        actor = make.admin()
    elif who == "other_leader":
        actor = make.member(make.team(w.tree.hamlet2), TeamRole.LEADER).user
    elif who == "former_leader":
        membership = teams.active_membership_of(w.leader)
        teams.remove_member(membership, w.officer)
        actor = w.leader
    else:
        actor = getattr(w, who)
    with pytest.raises(PermissionDenied):
        file(w, actor=actor)
    assert (count_reports(), count_events(), sent) == (0, 0, [])


def test_entries_of_a_month_add_up_and_only_verified_ones_count(w: World):
    first = file(w, lines=w.q(vneid=40))
    second = file(w, lines=w.q(vneid=15, ewallet=3))
    third = file(w, lines=w.q(vneid=1000 - 999))
    assert len({first.id, second.id, third.id}) == 3
    reports.verify(first, w.officer, now=NOW)
    reports.verify(second, w.officer, now=NOW)
    reports.reject(third, w.officer, "Trùng với báo cáo trước", now=NOW)

    achieved = tallies.achieved_by_team(OCTOBER)
    assert achieved[(w.team.id, w.kinds["vneid"].id)] == 55
    assert achieved[(w.team.id, w.kinds["ewallet"].id)] == 3

    [month] = reports.team_months(w.team).items
    totals = {t.kind.code: (t.verified, t.pending) for t in month.totals}
    assert totals == {"vneid": (55, 0), "ewallet": (3, 0)}


def test_month_totals_separate_verified_from_pending(w: World):
    reports.verify(file(w, lines=w.q(vneid=10)), w.officer, now=NOW)
    file(w, lines=w.q(vneid=7, ocop=1), evidence_link="https://postmart.vn/sp/1")
    [month] = reports.team_months(w.team).items
    assert {t.kind.code: (t.verified, t.pending) for t in month.totals} == {"vneid": (10, 7), "ocop": (0, 1)}


@pytest.mark.parametrize(
    ("lines", "message", "field"),
    [
        ({}, "ít nhất một hoạt động", None),
        ({"vneid": 0, "ewallet": 0}, "ít nhất một hoạt động", None),
        ({"vneid": 5, "ewallet": -1}, "mở ví điện tử", "q_{ewallet}"),
        ({"households": 1_000_001}, "đến tận nhà", "q_{households}"),
    ],
)
def test_bad_quantities_are_refused_naming_the_activity(w: World, lines, message, field, sent):
    with pytest.raises(ValidationError) as error:
        reports.file_report(w.team, OCTOBER, w.q(**lines), w.leader, now=NOW)
    assert message in error.value.message
    if field:
        assert error.value.field == field.format(**{code: kind.id for code, kind in w.kinds.items()})
    assert (count_reports(), sent) == (0, [])


def test_the_hard_limit_itself_is_accepted_and_flagged(w: World):
    report = file(w, lines=w.q(households=reports.HARD_LIMIT))
    assert report.flagged and report.lines[0].quantity == 1_000_000


def test_an_unknown_or_inactive_activity_is_refused(w: World):
    with pytest.raises(ValidationError, match="danh mục"):
        file(w, lines={999_999: 3})
    w.kinds["ewallet"].active = False
    with pytest.raises(ValidationError, match="danh mục"):
        file(w, lines=w.q(ewallet=3))


def test_months_in_the_future_or_more_than_a_year_back_are_refused(w: World):
    with pytest.raises(ValidationError, match="chưa bắt đầu") as error:
        file(w, month=Period.month(2026, 12))
    assert error.value.field == "month"
    with pytest.raises(ValidationError, match="quá lâu"):
        file(w, month=Period.month(2025, 10))
    with pytest.raises(ValidationError, match="một tháng"):
        file(w, month=Period.parse("2026-Q3"))
    assert count_reports() == 0
    assert file(w, month=Period.month(2025, 11)).month == "2025-11"  # 12 months back
    assert file(w, month=NOVEMBER).month == "2026-11"  # the month under way


def test_a_dissolved_team_files_nothing(w: World):
    w.team.active = False
    with pytest.raises(ValidationError, match="giải thể"):
        file(w)


# --- idempotency ---------------------------------------------------------------------------------


def test_a_resent_form_returns_the_report_already_filed(w: World, sent):
    token = "7b0f3c8e-8f0e-4b7e-9a59-6f1f8f7b3a10"
    first = file(w, client_token=token)
    again = file(w, client_token=token, lines=w.q(vneid=99))
    assert again is first
    assert [line.quantity for line in again.lines] == [40, 25]
    assert (count_reports(), count_events(), len(sent)) == (1, 1, 1)


def test_a_token_from_somebody_elses_form_is_refused(w: World):
    token = "7b0f3c8e-8f0e-4b7e-9a59-6f1f8f7b3a11"
    file(w, client_token=token)
    with pytest.raises(PermissionDenied):
        file(w, actor=w.deputy, client_token=token)


def test_a_malformed_token_is_refused(w: World):
    with pytest.raises(ValidationError, match="tải lại trang"):
        file(w, client_token="not-a-uuid")
    assert count_reports() == 0


# --- plausibility --------------------------------------------------------------------------------


def test_a_quantity_above_members_times_plausible_is_flagged_with_its_reason(w: World):
    plain = file(w, lines=w.q(vneid=600))  # 10 members × 60
    assert plain.flagged is False

    report = file(w, lines=w.q(vneid=50_000, households=30))
    flags = {line.activity.code: line.flagged for line in report.lines}
    assert report.flagged and flags == {"vneid": True, "households": False}
    [reason] = reports.flag_reasons(report)
    assert "Tổ 10 người báo cáo 50.000 người" in reason
    assert "VNeID" in reason and "vượt mức hợp lý 600" in reason


def test_a_flagged_report_is_verified_only_with_the_officers_confirmation(w: World):
    report = file(w, lines=w.q(vneid=601))
    with pytest.raises(ValidationError, match="Tôi đã kiểm tra") as error:
        reports.verify(report, w.officer, now=NOW)
    assert error.value.field == "confirm_flagged"
    db.session.refresh(report)
    assert report.status == ReportStatus.SUBMITTED and len(report.events) == 1

    reports.verify(report, w.officer, confirm_flagged=True, now=NOW)
    assert report.status == ReportStatus.VERIFIED
    assert report.events[-1].after["confirmed_flagged"] is True


def test_the_flag_reason_keeps_the_team_size_of_the_filing(w: World, make: Factory):
    report = file(w, lines=w.q(training=150), evidence_link="https://xa.gov.vn/tin/1")  # 10 × 10
    teams.remove_member(teams.active_membership_of(w.member), w.officer)
    assert "Tổ 10 người" in reports.flag_reasons(report)[0]


# --- evidence ------------------------------------------------------------------------------------


def test_an_activity_that_needs_evidence_is_refused_without_it(w: World):
    with pytest.raises(ValidationError, match="OCOP") as error:
        file(w, lines=w.q(ocop=3))
    assert "minh chứng" in error.value.message
    assert count_reports() == 0
    assert file(w, lines=w.q(ocop=3), evidence_link="https://postmart.vn/gian-hang/123").evidence_link
    assert file(w, lines=w.q(ocop=3), evidence_file=upload(JPEG)).evidence_file


@pytest.mark.parametrize("link", ["javascript:alert(1)", "ftp://x.vn/a", "postmart.vn/a", "https://"])
def test_an_evidence_link_must_be_http_or_https(w: World, link: str):
    with pytest.raises(ValidationError, match="http") as error:
        file(w, evidence_link=link)
    assert error.value.field == "evidence_link"


@pytest.mark.parametrize(("data", "extension"), [(JPEG, "jpg"), (PNG, "png"), (WEBP, "webp")])
def test_photos_are_stored_under_a_random_name(w: World, evidence_dir: Path, data: bytes, extension: str):
    report = file(w, evidence_file=upload(data, name="../../etc/passwd.jpg"))
    name = report.evidence_file
    assert name.endswith(f".{extension}") and "passwd" not in name
    [stored] = files_in(evidence_dir)
    assert stored == evidence_dir / name
    with Image.open(stored) as image:
        assert (image.format, image.size) == ({"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}[extension], (40, 30))
    assert report.events[0].after["evidence_file"] == name


def test_a_phone_photo_is_turned_upright_scaled_down_and_loses_its_location(w: World, evidence_dir: Path):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the camera was held upright, the pixels lie on their side
    exif[0x8825] = {2: (10.0, 1.0, 0.0), 4: (105.0, 5.0, 0.0)}  # GPSInfo: where the photo was taken
    out = io.BytesIO()
    Image.new("RGB", (3200, 2400), (30, 90, 160)).save(out, format="JPEG", exif=exif)
    with Image.open(io.BytesIO(out.getvalue())) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload carries a position

    report = file(w, evidence_file=upload(out.getvalue()))
    with Image.open(evidence_dir / report.evidence_file) as stored:
        assert stored.size == (1200, 1600)  # upright (portrait), the longer side at 1,600 pixels
        assert not stored.getexif()  # no orientation, no GPS position, nothing


@pytest.mark.parametrize(
    "data", [b"GIF89a" + b"\x00" * 100, b"<html><script>alert(1)</script></html>", b"", b"\xff\xd8",
             b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200],  # the last: a JPEG's first bytes, then junk
)
def test_anything_but_a_jpeg_png_or_webp_is_refused(w: World, evidence_dir: Path, data: bytes):
    with pytest.raises(ValidationError) as error:
        file(w, evidence_file=upload(data, name="anh.jpg"))
    assert error.value.field == "photo"
    assert (count_reports(), files_in(evidence_dir)) == (0, [])


def test_a_photo_above_the_size_limit_is_refused(w: World, evidence_dir: Path):
    with pytest.raises(ValidationError, match="5 MB"):
        file(w, evidence_file=upload(JPEG + b"\x00" * (5 * 1024 * 1024)))
    assert (count_reports(), files_in(evidence_dir)) == (0, [])


def test_a_refused_report_stores_no_photo(w: World, evidence_dir: Path):
    with pytest.raises(ValidationError):
        file(w, lines=w.q(vneid=-3), evidence_file=upload(JPEG))
    assert files_in(evidence_dir) == []


# --- lateness ------------------------------------------------------------------------------------


def test_a_report_after_the_deadline_is_accepted_and_marked_late(w: World, app: Flask):
    deadline = OCTOBER.report_deadline()
    assert deadline == datetime(2026, 11, 20, 17, 0, tzinfo=UTC)  # 21/11 00:00 in Vietnam
    assert file(w, now=deadline).late is False
    late = file(w, now=deadline + timedelta(minutes=1))
    assert late.late is True and late.status == ReportStatus.SUBMITTED


def test_a_correction_keeps_the_lateness_of_the_first_filing(w: World):
    report = file(w)
    reports.reject(report, w.officer, "Thiếu số hộ", now=NOW)
    reports.correct_report(report, w.q(vneid=40, households=30), w.leader, now=NOW + timedelta(days=30))
    assert report.late is False


# --- review --------------------------------------------------------------------------------------


def test_the_commune_officer_verifies(w: World, sent):
    report = file(w)
    reports.verify(report, w.officer, now=NOW)
    assert (report.status, report.reviewed_by, report.reviewed_at) == ("verified", w.officer, NOW)
    event = report.events[-1]
    assert (event.action, event.actor, event.before["status"], event.after["status"]) == (
        "verified", w.officer, "submitted", "verified")
    assert sent[-1] == (report.id, "submitted")


def test_staff_above_the_commune_review_too(w: World, make: Factory):
    organiser = make.user(RoleCode.ORGANISER, w.tree.province)
    reports.verify(file(w), organiser, now=NOW)
    reports.reject(file(w), make.admin(), "Số liệu chưa khớp", now=NOW)


@pytest.mark.parametrize("who", ["other_officer", "district_officer", "leader", "member"])
def test_reviewing_outside_ones_scope_is_refused_and_writes_nothing(w: World, make: Factory, who: str, sent):
    report = file(w)
    sent.clear()
    actor = make.user(RoleCode.OFFICER, w.tree.district_commune) if who == "district_officer" else getattr(w, who)
    with pytest.raises(PermissionDenied):
        reports.verify(report, actor, now=NOW)
    with pytest.raises(PermissionDenied):
        reports.reject(report, actor, "Sai", now=NOW)
    db.session.refresh(report)
    assert (report.status, len(report.events), sent) == ("submitted", 1, [])


def test_rejecting_needs_a_reason(w: World):
    report = file(w)
    with pytest.raises(ValidationError, match="lý do") as error:
        reports.reject(report, w.officer, "   ", now=NOW)
    assert error.value.field == "reason"
    assert report.status == ReportStatus.SUBMITTED


def test_a_rejected_report_is_corrected_and_filed_again(w: World, sent):
    report = file(w)
    reports.reject(report, w.officer, "Thiếu ảnh buổi tập huấn", now=NOW)
    assert (report.status, report.review_reason) == ("rejected", "Thiếu ảnh buổi tập huấn")

    reports.correct_report(report, w.q(vneid=40, training=2), w.deputy, note="Đã bổ sung",
                           evidence_file=upload(PNG), now=NOW)
    assert report.status == ReportStatus.SUBMITTED
    assert (report.reviewed_by, report.review_reason) == (None, "")
    assert {line.activity.code: line.quantity for line in report.lines} == {"vneid": 40, "training": 2}
    corrected = report.events[-1]
    assert (corrected.action, corrected.actor) == ("corrected", w.deputy)
    assert corrected.before["status"] == "rejected" and corrected.after["status"] == "submitted"
    assert corrected.before["lines"] == {str(w.kinds["vneid"].id): 40, str(w.kinds["households"].id): 25}
    assert corrected.after["note"] == "Đã bổ sung" and corrected.after["evidence_file"] == report.evidence_file
    assert [e.action for e in report.events] == ["filed", "rejected", "corrected"]
    assert [before for _id, before in sent] == [None, "submitted", "rejected"]


def test_a_submitted_report_is_corrected_before_review(w: World):
    report = file(w, lines=w.q(vneid=40, households=25))
    reports.correct_report(report, w.q(vneid=41, ewallet=2), w.leader, now=NOW)
    assert {line.activity.code: line.quantity for line in report.lines} == {"vneid": 41, "ewallet": 2}
    assert [e.action for e in report.events] == ["filed", "corrected"]


def test_a_correction_resent_unchanged_writes_nothing(w: World):
    report = file(w)
    lines = w.q(vneid=45, households=25)
    reports.correct_report(report, lines, w.leader, now=NOW)
    reports.correct_report(report, lines, w.leader, now=NOW)
    assert [e.action for e in report.events] == ["filed", "corrected"]


def test_a_correction_is_checked_like_a_filing(w: World, make: Factory):
    report = file(w)
    with pytest.raises(ValidationError, match="OCOP"):
        reports.correct_report(report, w.q(ocop=2), w.leader, now=NOW)
    with pytest.raises(PermissionDenied):
        reports.correct_report(report, w.q(vneid=1), w.member, now=NOW)
    with pytest.raises(PermissionDenied):
        reports.correct_report(report, w.q(vneid=1), w.officer, now=NOW)
    db.session.refresh(report)
    assert len(report.events) == 1


def test_a_correction_may_drop_or_keep_the_photo(w: World):
    report = file(w, evidence_file=upload(JPEG))
    photo = report.evidence_file
    reports.correct_report(report, w.q(vneid=41), w.leader, now=NOW)
    assert report.evidence_file == photo
    reports.correct_report(report, w.q(vneid=42), w.leader, drop_photo=True, now=NOW)
    assert report.evidence_file is None
    assert photo in reports.photo_names(report)  # the history still shows it


def test_the_team_cannot_change_a_verified_report(w: World):
    report = file(w)
    reports.verify(report, w.officer, now=NOW)
    with pytest.raises(ValidationError, match="đã được xác nhận"):
        reports.correct_report(report, w.q(vneid=999), w.leader, now=NOW)
    db.session.refresh(report)
    assert [line.quantity for line in report.lines] == [40, 25]


def test_staff_may_reject_a_verified_report_keeping_its_history(w: World):
    report = file(w)
    reports.verify(report, w.officer, now=NOW)
    assert tallies.achieved_by_team(OCTOBER)[(w.team.id, w.kinds["vneid"].id)] == 40
    reports.reject(report, w.officer, "Phát hiện trùng danh sách với tổ khác", now=NOW)
    assert report.status == ReportStatus.REJECTED
    assert [(e.action, e.before["status"] if e.before else None) for e in report.events] == [
        ("filed", None), ("verified", "submitted"), ("rejected", "verified")]
    assert (w.team.id, w.kinds["vneid"].id) not in tallies.achieved_by_team(OCTOBER)


def test_a_review_twice_or_out_of_order_is_refused(w: World):
    report = file(w)
    reports.verify(report, w.officer, now=NOW)
    with pytest.raises(ValidationError, match="đã được xác nhận"):
        reports.verify(report, w.officer, now=NOW)
    reports.reject(report, w.officer, "Sai", now=NOW)
    with pytest.raises(ValidationError, match="đã bị từ chối"):
        reports.verify(report, w.officer, now=NOW)
    with pytest.raises(ValidationError, match="đã bị từ chối"):
        reports.reject(report, w.officer, "Sai nữa", now=NOW)
    assert len(report.events) == 3


def test_a_review_on_a_stale_state_is_refused(w: World):
    report = file(w)
    # another transaction verified it meanwhile; this session's object still says "submitted"
    db.session.execute(
        update(ActivityReport).where(ActivityReport.id == report.id).values(status=ReportStatus.VERIFIED)
        .execution_options(synchronize_session=False)
    )
    assert report.status == ReportStatus.SUBMITTED
    with pytest.raises(ValidationError, match="vừa được người khác thay đổi"):
        reports.reject(report, w.officer, "Sai", now=NOW)
    assert count_events() == 1


def test_a_review_from_an_outdated_page_is_refused(w: World):
    report = file(w)
    seen = reports.last_event_id(report)
    reports.correct_report(report, w.q(vneid=5000), w.leader, now=NOW)  # changed after the officer looked
    with pytest.raises(ValidationError, match="vừa được người khác thay đổi"):
        reports.verify(report, w.officer, confirm_flagged=True, now=NOW, seen_event=seen)
    reports.verify(report, w.officer, confirm_flagged=True, now=NOW, seen_event=reports.last_event_id(report))
    assert report.status == ReportStatus.VERIFIED


# --- the queue -----------------------------------------------------------------------------------


def test_the_queue_holds_the_reports_in_the_officers_scope(w: World, make: Factory):
    mine = file(w)
    other_team = make.team(w.tree.other_hamlet)
    other_leader = make.member(other_team, TeamRole.LEADER).user
    theirs = reports.file_report(other_team, OCTOBER, w.q(vneid=3), other_leader, now=NOW)
    november = file(w, month=NOVEMBER, lines=w.q(vneid=1))
    verified = file(w, lines=w.q(vneid=2))
    reports.verify(verified, w.officer, now=NOW)

    def ids(actor: User, **filters: object) -> list[int]:
        return [r.id for r in db.session.scalars(reports.review_queue(actor, **filters))]

    assert ids(w.officer) == [mine.id, november.id]
    assert ids(w.other_officer) == [theirs.id]
    admin = make.admin()
    assert set(ids(admin)) == {mine.id, theirs.id, november.id}
    assert ids(admin, unit=w.tree.other_commune) == [theirs.id]
    assert ids(w.officer, month=NOVEMBER) == [november.id]
    assert ids(w.officer, status=ReportStatus.VERIFIED) == [verified.id]
    assert set(ids(w.officer, status=None)) == {mine.id, november.id, verified.id}
    communes = {u.name for u in reports.communes_in_scope(admin)}
    assert {"Xã Châu Thành", "Phường Rạch Giá", "Xã Thạnh Hưng"} <= communes
    assert [u.name for u in reports.communes_in_scope(w.officer)] == ["Xã Châu Thành"]


def test_the_teams_months_come_a_page_at_a_time(w: World):
    months = reports.fileable_months(NOW)[:8]
    for month in months:
        file(w, month=month, lines=w.q(vneid=1))
    first, second = reports.team_months(w.team), reports.team_months(w.team, page=2)
    assert [m.month for m in first.items] == months[:6] and first.pages == 2
    assert [m.month for m in second.items] == months[6:]
    assert [len(m.reports) for m in second.items] == [1, 1]


def test_months_offered_and_the_default(app: Flask):
    months = reports.fileable_months(NOW)
    assert (months[0].key, months[-1].key, len(months)) == ("2026-11", "2025-11", 13)
    assert reports.default_month(NOW) == OCTOBER  # October is still due until 20 November
    assert reports.default_month(datetime(2026, 11, 25, tzinfo=UTC)) == NOVEMBER
    assert reports.fileable_months(datetime(2027, 1, 5, tzinfo=UTC))[1].key == "2026-12"


# --- two officers at once, on two real connections -----------------------------------------------


@pytest.fixture
def race_engine(app: Flask) -> Iterator[sa.Engine]:
    with race_database("reports_race") as engine:
        yield engine


def _race_world(app: Flask) -> tuple[int, int, int, int]:
    """Committed: a team of ten, a report of this month waiting, and two officers of its commune."""
    with app.app_context():
        make = Factory()
        w = build_world(make, make.tree())
        report = file(w, now=datetime.now(UTC), month=Period.month_of(datetime.now(UTC).date()))
        second = make.user(RoleCode.OFFICER, w.tree.commune, full_name="Cán Bộ Thứ Hai")
        ids = (report.id, w.officer.id, second.id, w.leader.id)
        db.session.commit()
        db.session.remove()
    return ids


def _at_once(app: Flask, actions: list) -> list[str]:
    """Run each action in its own thread and transaction: all load the report first, then act
    together. Returns "ok" or the refusal message per action."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(index: int) -> None:
        with app.app_context():
            try:
                results[index] = actions[index](barrier)
                db.session.commit()
            except ValidationError as error:
                db.session.rollback()
                results[index] = error.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_officers_reviewing_at_once_cannot_both_succeed(app: Flask, race_engine: sa.Engine):
    report_id, officer_id, second_id, _leader = _race_world(app)

    def review(actor_id: int, verifies: bool):
        def act(barrier: threading.Barrier) -> str:
            report, actor = db.session.get(ActivityReport, report_id), db.session.get(User, actor_id)
            assert report.status == ReportStatus.SUBMITTED  # both saw it waiting
            barrier.wait()
            if verifies:
                reports.verify(report, actor)
            else:
                reports.reject(report, actor, "Số liệu chưa khớp")
            return "ok"
        return act

    results = _at_once(app, [review(officer_id, True), review(second_id, False)])

    assert sorted(r == "ok" for r in results) == [False, True], results
    assert any("vừa được người khác thay đổi" in r for r in results)
    with app.app_context():
        report = db.session.get(ActivityReport, report_id)
        winner = "verified" if results[0] == "ok" else "rejected"
        assert report.status == winner
        assert [e.action for e in report.events] == ["filed", winner]
        db.session.remove()


def test_a_form_sent_twice_at_once_files_one_report(app: Flask, race_engine: sa.Engine, evidence_dir: Path):
    report_id, _officer, _second, leader_id = _race_world(app)
    token = "0d6f1c52-3c55-4f0b-8a53-2a4f6f0f9e21"
    month = Period.month_of(datetime.now(UTC).date())

    def send(barrier: threading.Barrier) -> str:
        leader = db.session.get(User, leader_id)
        team = teams.active_membership_of(leader).team
        kinds = {k.code: k.id for k in db.session.scalars(select(ActivityKind))}
        barrier.wait()
        report = reports.file_report(team, month, {kinds["vneid"]: 7}, leader, evidence_file=upload(JPEG),
                                     client_token=token)
        return str(report.id)

    results = _at_once(app, [send, send])

    assert results[0] == results[1] and results[0].isdigit(), results
    with app.app_context():
        filed = db.session.scalars(select(ActivityReport).where(ActivityReport.client_token == token)).all()
        assert [r.id for r in filed] == [int(results[0])] and int(results[0]) != report_id
        assert len(filed[0].events) == 1
        assert [p.relative_to(evidence_dir).as_posix() for p in files_in(evidence_dir)] == [filed[0].evidence_file]
        db.session.remove()
