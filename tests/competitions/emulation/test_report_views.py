"""Activity report screens: filing from a phone (photo upload, resend, all-or-nothing), the report
page and its review forms, the evidence photos' access check, the review queue's scope and filters."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from competitions.emulation import reports
from competitions.emulation.models import ActivityReport, ReportStatus
from competitions.emulation.periods import Period
from core.accounts.roles import RoleCode
from core.extensions import db
from core.teams.models import TeamRole
from tests.competitions.emulation.worlds import JPEG, PNG, World, count_reports, files_in, upload
from tests.factories import Factory, Tree, field_errors, flashes

pytestmark = pytest.mark.usefixtures("evidence_dir")


def this_month() -> Period:
    return reports.fileable_months()[0]


def form_data(w: World, month: Period | None = None, token: str | None = None, **quantities: int) -> dict:
    data = {"month": (month or this_month()).key, "note": "Tuần này đi 3 ấp", "evidence_link": "",
            "client_token": token or str(uuid.uuid4())}
    data.update({reports.line_field(w.kinds[code].id): str(n) for code, n in (quantities or {"vneid": 12}).items()})
    return data


def post_report(client, w: World, photo: bytes | None = None, name: str = "IMG_0001.jpg", **data: object):
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), name)
    return client.post(f"/emulation/reports/team/{w.team.id}/new", data=data, content_type="multipart/form-data")


def a_report(w: World, **quantities: int) -> ActivityReport:
    return reports.file_report(w.team, this_month(), w.q(**(quantities or {"vneid": 12})), w.leader)


# --- filing --------------------------------------------------------------------------------------


def test_the_form_has_a_field_per_activity_and_a_one_time_token(w: World, login):
    page = login(w.leader).get(f"/emulation/reports/team/{w.team.id}/new").get_data(as_text=True)
    for kind in w.kinds.values():
        assert f'name="{reports.line_field(kind.id)}"' in page and kind.name in page
    token = re.search(r'name="client_token" type="hidden" value="([^"]+)"', page)[1]
    assert uuid.UUID(token)
    assert 'enctype="multipart/form-data"' in page


@pytest.mark.parametrize("who", ["member", "officer"])
def test_only_the_leaders_open_or_send_the_form(w: World, login, who: str):
    client = login(getattr(w, who))
    assert client.get(f"/emulation/reports/team/{w.team.id}/new").status_code == 403
    assert post_report(client, w, **form_data(w)).status_code == 403
    assert count_reports() == 0


def test_filing_with_a_photo_from_a_phone(w: World, login, evidence_dir: Path):
    client = login(w.leader)
    response = post_report(client, w, photo=JPEG, **form_data(w, vneid=12, ocop=2))
    report = db.session.scalars(select(ActivityReport)).one()
    assert response.status_code == 302 and response.location.endswith(f"/emulation/reports/{report.id}")
    assert {line.activity.code: line.quantity for line in report.lines} == {"vneid": 12, "ocop": 2}
    assert [p.relative_to(evidence_dir).as_posix() for p in files_in(evidence_dir)] == [report.evidence_file]

    page = client.get(response.location).get_data(as_text=True)
    assert "Đã gửi báo cáo" in flashes(page, "success")[0]
    assert f"/emulation/reports/{report.id}/photos/{report.evidence_file}" in page
    assert "Chờ duyệt" in page and "Gửi báo cáo" in page  # status and the history's first entry


def test_a_resend_of_the_same_form_files_once(w: World, login):
    client = login(w.leader)
    data = form_data(w, token=str(uuid.uuid4()))
    first = post_report(client, w, **data)
    second = post_report(client, w, **data)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert count_reports() == 1


def test_a_bad_photo_writes_nothing(w: World, login, evidence_dir: Path):
    page = post_report(login(w.leader), w, photo=b"%PDF-1.7 not a photo", name="anh.jpg", **form_data(w))
    assert page.status_code == 200
    assert "JPEG, PNG hoặc WebP" in field_errors(page.get_data(as_text=True), "photo")[0]
    assert (count_reports(), files_in(evidence_dir)) == (0, [])


def test_all_or_nothing_a_bad_line_stores_no_photo(w: World, login, evidence_dir: Path):
    data = form_data(w, vneid=12, ewallet=-4)
    page = post_report(login(w.leader), w, photo=JPEG, **data).get_data(as_text=True)
    [error] = field_errors(page, reports.line_field(w.kinds["ewallet"].id))
    assert "không được âm" in error
    assert (count_reports(), files_in(evidence_dir)) == (0, [])
    # what was typed is kept, and the same token may be sent again once corrected
    assert f'value="{data["client_token"]}"' in page and 'value="12"' in page


def test_a_word_for_a_number_is_refused_on_its_field(w: World, login):
    data = form_data(w)
    data[reports.line_field(w.kinds["households"].id)] = "mười"
    page = post_report(login(w.leader), w, **data).get_data(as_text=True)
    assert field_errors(page, reports.line_field(w.kinds["households"].id)) == ["Hãy nhập một số nguyên."]
    assert count_reports() == 0


def test_a_future_month_is_refused(w: World, login):
    future = Period.month(this_month().year + 1, 1)
    page = post_report(login(w.leader), w, **form_data(w, month=future)).get_data(as_text=True)
    assert "chưa bắt đầu" in field_errors(page, "month")[0]
    assert count_reports() == 0


def test_evidence_is_required_where_the_activity_says_so(w: World, login):
    page = post_report(login(w.leader), w, **form_data(w, training=2)).get_data(as_text=True)
    assert "cần minh chứng" in field_errors(page, "photo")[0]
    assert count_reports() == 0


# --- the evidence photo --------------------------------------------------------------------------


def test_the_photo_is_served_to_the_team_and_staff_in_scope_only(
    w: World, make: Factory, login, client, evidence_dir: Path,
):
    report = reports.file_report(w.team, this_month(), w.q(vneid=3), w.leader,
                                 evidence_file=upload(PNG, "x.png"))
    url = f"/emulation/reports/{report.id}/photos/{report.evidence_file}"
    stranger = make.member(make.team(w.tree.other_hamlet), TeamRole.LEADER).user
    for user, status in [(w.member, 200), (w.officer, 200), (make.admin(), 200),
                         (w.other_officer, 403), (stranger, 403)]:
        response = login(user).get(url)
        assert response.status_code == status, user.full_name
        if status == 200:
            assert response.data == (evidence_dir / report.evidence_file).read_bytes()
            assert response.mimetype == "image/png"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        client.post("/logout")
    assert client.get(url).status_code == 302  # signed out: to the sign-in page


def test_only_the_reports_own_photos_are_served(w: World, login):
    mine = a_report(w)
    other = reports.file_report(
        w.team, this_month(), w.q(vneid=1), w.leader,
        evidence_file=upload(JPEG),
    )
    client = login(w.leader)
    assert client.get(f"/emulation/reports/{mine.id}/photos/{other.evidence_file}").status_code == 404
    assert client.get(f"/emulation/reports/{other.id}/photos/../../secret_key").status_code == 404
    assert client.get(f"/emulation/reports/{other.id}/photos/{other.evidence_file}").status_code == 200


# --- review --------------------------------------------------------------------------------------


def _seen(page: str) -> str:
    return re.search(r'name="seen" value="(\d+)"', page)[1]


def test_the_officer_verifies_a_flagged_report_only_when_confirming(w: World, login):
    report = a_report(w, vneid=900)
    client = login(w.officer)
    page = client.get(f"/emulation/reports/{report.id}").get_data(as_text=True)
    assert "Tổ 10 người báo cáo 900 người" in page and "vượt mức hợp lý 600" in page
    seen = _seen(page)

    page = client.post(f"/emulation/reports/{report.id}/verify", data={"seen": seen}).get_data(as_text=True)
    assert "Tôi đã kiểm tra" in field_errors(page, "confirm_flagged")[0]
    assert db.session.get(ActivityReport, report.id).status == ReportStatus.SUBMITTED

    response = client.post(f"/emulation/reports/{report.id}/verify", data={"seen": seen, "confirm_flagged": "y"})
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.status == ReportStatus.VERIFIED


def test_rejecting_needs_a_reason_and_the_team_sees_it(w: World, login):
    report = a_report(w)
    client = login(w.officer)
    seen = _seen(client.get(f"/emulation/reports/{report.id}").get_data(as_text=True))
    url = f"/emulation/reports/{report.id}/reject"
    page = client.post(url, data={"seen": seen, "reason": ""}).get_data(as_text=True)
    assert "lý do" in field_errors(page, "reason")[0]
    client.post(url, data={"seen": seen, "reason": "Thiếu danh sách người dân"})
    db.session.refresh(report)
    assert report.status == ReportStatus.REJECTED

    page = login(w.leader).get(f"/emulation/reports/team/{w.team.id}").get_data(as_text=True)
    assert "Thiếu danh sách người dân" in page and "Bị từ chối" in page


def test_a_review_from_a_stale_page_is_refused(w: World, login):
    report = a_report(w)
    client = login(w.officer)
    seen = _seen(client.get(f"/emulation/reports/{report.id}").get_data(as_text=True))
    reports.correct_report(report, w.q(vneid=30), w.leader)  # the team changed it meanwhile
    page = client.post(f"/emulation/reports/{report.id}/verify", data={"seen": seen}).get_data(as_text=True)
    assert "vừa được người khác thay đổi" in flashes(page)[0]
    db.session.refresh(report)
    assert report.status == ReportStatus.SUBMITTED


def test_reviewing_outside_ones_commune_is_forbidden(w: World, login):
    report = a_report(w)
    client = login(w.other_officer)
    assert client.get(f"/emulation/reports/{report.id}").status_code == 403
    assert client.post(f"/emulation/reports/{report.id}/verify", data={}).status_code == 403
    assert client.post(f"/emulation/reports/{report.id}/reject", data={"reason": "x"}).status_code == 403
    db.session.refresh(report)
    assert (report.status, len(report.events)) == (ReportStatus.SUBMITTED, 1)


def test_the_team_sees_no_review_forms_and_may_not_post_them(w: World, login):
    report = a_report(w)
    client = login(w.leader)
    page = client.get(f"/emulation/reports/{report.id}").get_data(as_text=True)
    assert "/verify" not in page and "Sửa báo cáo" in page
    assert client.post(f"/emulation/reports/{report.id}/verify", data={}).status_code == 403


def test_a_rejected_report_is_corrected_through_the_form(w: World, login):
    report = a_report(w)
    reports.reject(report, w.officer, "Ghi sai số")
    client = login(w.leader)
    page = client.get(f"/emulation/reports/{report.id}/edit").get_data(as_text=True)
    assert "Ghi sai số" in page
    data = form_data(w, vneid=15)
    response = client.post(f"/emulation/reports/{report.id}/edit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(report)
    assert report.status == ReportStatus.SUBMITTED and [line.quantity for line in report.lines] == [15]
    history = client.get(f"/emulation/reports/{report.id}").get_data(as_text=True)
    assert "Sửa và gửi lại" in history and "Từ chối" in history


def test_a_verified_report_has_no_correction_form(w: World, login):
    report = a_report(w)
    reports.verify(report, w.officer)
    response = login(w.leader).get(f"/emulation/reports/{report.id}/edit")
    assert response.status_code == 302
    assert "đã được xác nhận" in flashes(login(w.leader).get(response.location).get_data(as_text=True))[0]


# --- lists ---------------------------------------------------------------------------------------


def test_the_teams_page_totals_verified_and_pending_per_month(w: World, make: Factory, login, client):
    reports.verify(a_report(w, vneid=10), w.officer)
    a_report(w, vneid=7)
    page = login(w.member).get(f"/emulation/reports/team/{w.team.id}").get_data(as_text=True)
    assert this_month().label in page
    row = re.search(r"VNeID mức độ 2</td>(.*?)</tr>", page, flags=re.S)[1]
    assert re.findall(r'<td class="num">(\d+)', row) == ["10", "7"]
    assert "Gửi báo cáo kết quả hoạt động" not in page  # a plain member files nothing
    outsider = make.member(make.team(w.tree.hamlet2), TeamRole.LEADER).user
    client.post("/logout")
    assert login(outsider).get(f"/emulation/reports/team/{w.team.id}").status_code == 403


def test_my_team_leads_to_the_teams_reports(w: World, login):
    response = login(w.deputy).get("/emulation/reports/mine")
    assert response.location.endswith(f"/emulation/reports/team/{w.team.id}")


def test_the_queue_shows_the_officers_commune_only(w: World, make: Factory, login, client):
    mine = a_report(w, vneid=900)  # flagged
    other_team = make.team(w.tree.other_hamlet, name="Tổ CNSCĐ Khu phố 1 mẫu")
    other_leader = make.member(other_team, TeamRole.LEADER).user
    reports.file_report(other_team, this_month(), w.q(vneid=2), other_leader)

    page = login(w.officer).get("/emulation/reports/review").get_data(as_text=True)
    assert f"/emulation/reports/{mine.id}" in page and w.team.name in page
    assert "Tổ CNSCĐ Khu phố 1 mẫu" not in page
    assert "Vượt mức hợp lý" in page

    client.post("/logout")
    admin = login(make.admin())
    everything = admin.get("/emulation/reports/review").get_data(as_text=True)
    assert "Tổ CNSCĐ Khu phố 1 mẫu" in everything and w.team.name in everything
    filtered = admin.get(f"/emulation/reports/review?unit={w.tree.other_commune.id}").get_data(as_text=True)
    assert "Tổ CNSCĐ Khu phố 1 mẫu" in filtered and f"/emulation/reports/{mine.id}\"" not in filtered
    verified = admin.get("/emulation/reports/review?status=verified").get_data(as_text=True)
    assert "Không có báo cáo nào." in verified


def test_the_queue_is_for_staff(w: World, login):
    assert login(w.leader).get("/emulation/reports/review").status_code == 403


def test_a_late_report_is_marked_in_the_lists(w: World, login, client):
    two_months_ago = reports.fileable_months()[2]  # due by the deadline day of last month: passed
    report = reports.file_report(w.team, two_months_ago, w.q(vneid=3), w.leader)
    assert report.late
    page = login(w.officer).get("/emulation/reports/review").get_data(as_text=True)
    assert "Nộp muộn" in page
    client.post("/logout")
    assert "Nộp muộn" in login(w.leader).get(f"/emulation/reports/team/{w.team.id}").get_data(as_text=True)


def test_a_photo_above_the_limit_is_refused_on_its_field(w: World, login, evidence_dir: Path):
    page = post_report(login(w.leader), w, photo=JPEG + b"\x00" * (6 * 1024 * 1024), **form_data(w))
    assert "5 MB" in field_errors(page.get_data(as_text=True), "photo")[0]
    assert (count_reports(), files_in(evidence_dir)) == (0, [])


def test_english_pages(w: World, login, make: Factory):
    reports.file_report(w.team, this_month(), w.q(vneid=900), w.leader)
    client = login(w.officer)
    client.post("/lang/en")
    page = client.get("/emulation/reports/review").get_data(as_text=True)
    assert "Review reports" in page and "Above plausible" in page


def test_staff_without_team_go_to_the_queue(make: Factory, login, tree: Tree):
    officer = make.user(RoleCode.OFFICER, tree.commune)
    assert login(officer).get("/emulation/reports/mine").location.endswith("/emulation/reports/review")
