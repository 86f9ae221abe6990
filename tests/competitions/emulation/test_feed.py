"""The team feed (competitions.emulation.feed): what is posted when a report is verified or
rejected, in which language, in which order; the partial template."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import force_locale

from competitions.emulation import feed, reports
from competitions.emulation.models import ReportStatus
from competitions.emulation.periods import Period
from core.accounts.roles import RoleCode
from core.teams.models import TeamRole
from tests.competitions.emulation.worlds import activity, feed_texts, file, review


def test_verified_and_rejected_reports_are_posted_filed_ones_are_not(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    report = file(team, {"vneid": 3}, officer)
    assert feed.team_feed(team) == []
    review(report, ReportStatus.REJECTED, reason="Thiếu ảnh minh chứng")
    review(report, ReportStatus.VERIFIED)
    assert feed_texts(team, "report") == [
        "Báo cáo kết quả hoạt động Tháng 3/2025 đã được xác nhận.",
        "Báo cáo kết quả hoạt động Tháng 3/2025 bị từ chối: Thiếu ảnh minh chứng",
    ]
    review(report, ReportStatus.VERIFIED)  # announced again without a change of status: no news
    assert len(feed_texts(team, "report")) == 2


def test_the_feed_is_written_in_vietnamese_whatever_the_officers_language(app, make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    report = file(team, {"vneid": 3}, make.user(RoleCode.OFFICER, tree.commune))
    with app.test_request_context(), force_locale("en"):
        review(report, ReportStatus.REJECTED)
    assert feed_texts(team, "report") == ["Báo cáo kết quả hoạt động Tháng 3/2025 bị từ chối."]


def test_the_reports_service_posts_through_the_signal(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    leader = make.member(team, TeamRole.LEADER).user
    officer = make.user(RoleCode.OFFICER, tree.commune)
    now = datetime(2025, 4, 2, 3, 0, tzinfo=UTC)
    report = reports.file_report(team, Period.parse("2025-03"), {activity("vneid").id: 5}, leader, now=now)
    reports.verify(report, officer, now=now)
    assert feed_texts(team, "report") == ["Báo cáo kết quả hoạt động Tháng 3/2025 đã được xác nhận."]


def test_team_feed_is_the_teams_own_newest_first_and_limited(make):
    tree = make.tree()
    team, other = make.team(tree.hamlet), make.team(tree.hamlet2)
    for n in range(5):
        feed.post(team.id, feed.FeedKind.BADGE, f"Tin số {n}")
    feed.post(other.id, feed.FeedKind.BADGE, "Tin của tổ khác")
    assert [item.text for item in feed.team_feed(team, limit=3)] == ["Tin số 4", "Tin số 3", "Tin số 2"]
    long = feed.post(team.id, feed.FeedKind.REPORT, "x" * 500)
    assert len(long.text) == feed.TEXT_LENGTH and long.text.endswith("…")


def test_feed_partial_renders_lines_and_links(app, make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    feed.post(team.id, "level:2", "Tổ lên cấp 2: Tổ tích cực")
    feed.post(team.id, feed.FeedKind.BADGE, "Tổ đạt huy hiệu", link="/emulation/badges/")
    with app.test_request_context():
        html = app.jinja_env.get_template("emulation/_feed.html").render(feed_items=feed.team_feed(team))
    assert 'class="feed-item feed-level"' in html and "Tổ lên cấp 2" in html
    assert '<a href="/emulation/badges/">Tổ đạt huy hiệu</a>' in html
    assert feed.kind_of(feed.team_feed(team)[1]) == feed.FeedKind.LEVEL
