"""Team levels (competitions.emulation.levels): cumulative emulation points mapped onto the
TeamLevel rows, and a level reached announced once in the team feed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from competitions.emulation import levels, scoring
from competitions.emulation.models import TeamLevel
from competitions.emulation.periods import current_month
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.extensions import db
from tests.competitions.emulation.worlds import feed_texts, set_target, verified


def _set_minimums(**minimums: int) -> None:
    """``_set_minimums(l2=1, l3=...)``: the level rows are data; tests move their thresholds."""
    for row in db.session.scalars(select(TeamLevel)):
        key = f"l{row.level}"
        if key in minimums:
            row.min_points = minimums[key]
    db.session.flush()


@pytest.mark.parametrize(("points", "level", "name", "next_level", "to_go", "progress"), [
    (0, 1, "Tổ mới thành lập", 2, 200, 0.0),
    (199.99, 1, "Tổ mới thành lập", 2, 0.01, 0.99995),
    (200, 2, "Tổ tích cực", 3, 300, 0.0),
    (350, 2, "Tổ tích cực", 3, 150, 0.5),
    (1999, 4, "Tổ tiêu biểu", 5, 1, 0.999),
    (2000, 5, "Tổ xuất sắc", None, None, 1.0),
    (9000, 5, "Tổ xuất sắc", None, None, 1.0),
])
def test_points_map_onto_the_default_levels(make, points, level, name, next_level, to_go, progress):
    status = levels.status_for(points, levels.all_levels())
    assert (status.level, status.name, status.next_level) == (level, name, next_level)
    assert status.to_go == pytest.approx(to_go) if to_go is not None else status.to_go is None
    assert status.progress == pytest.approx(progress)


def test_levels_are_data(make):
    _set_minimums(l2=50)
    assert levels.status_for(60, levels.all_levels()).level == 2
    assert levels.status_for(60, levels.all_levels()).to_go is not None


def test_team_level_maps_the_cumulative_points_of_scoring(make, monkeypatch):
    """The mapping only, with scoring's figure replaced (the integration test below uses the real one)."""
    tree = make.tree()
    team = make.team(tree.hamlet)
    asked = []

    def cumulative(team_ids: list[int], until: object, now: object = None) -> dict[int, float]:
        asked.append((team_ids, until))
        return dict.fromkeys(team_ids, 650.0)

    monkeypatch.setattr(scoring, "cumulative_points", cumulative)
    status = levels.team_level(team)
    assert (status.level, status.name, status.points, status.next_level, status.next_name, status.to_go) == (
        3, "Tổ năng động", 650.0, 4, "Tổ tiêu biểu", 350.0,
    )
    assert asked == [([team.id], current_month(utcnow()))]


def test_reaching_a_level_is_announced_once(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    make.fill(team, 3)
    officer = make.user(RoleCode.OFFICER, tree.commune)
    month = current_month(utcnow()).key
    set_target(team, "vneid", 10, month)
    _set_minimums(l2=1, l3=10**6, l4=2 * 10**6, l5=3 * 10**6)

    verified(team, {"vneid": 10}, officer, month=month)  # the verification announces the level
    points = scoring.cumulative_points([team.id], current_month(utcnow()))[team.id]
    assert points >= 1
    status = levels.team_level(team)
    assert (status.level, status.name, status.points) == (2, "Tổ tích cực", points)
    assert status.to_go == pytest.approx(10**6 - points)
    [line] = feed_texts(team, "level")
    assert line.startswith("Tổ lên cấp 2: Tổ tích cực")

    verified(team, {"vneid": 1}, officer, month=month)
    assert levels.announce_level_ups([team.id]) == []
    assert len(feed_texts(team, "level")) == 1

    _set_minimums(l3=1)  # level 3 within reach: announced
    assert [item.kind for item in levels.announce_level_ups([team.id])] == ["level:3"]
    _set_minimums(l3=10**6)  # back to level 2, then up to 3 again: nothing new
    assert levels.announce_level_ups([team.id]) == []
    _set_minimums(l3=1)
    assert levels.announce_level_ups([team.id]) == []
    assert len(feed_texts(team, "level")) == 2


def test_the_starting_level_is_not_news(make):
    tree = make.tree()
    team = make.team(tree.hamlet)
    assert levels.team_level(team).level == 1
    assert levels.announce_level_ups([team.id]) == []


def test_the_badges_panel_shows_the_level_and_the_points_to_go(app, make):
    with app.test_request_context():
        template = app.jinja_env.get_template("emulation/_badges.html")
        html = template.render(awards=[], level=levels.status_for(350, levels.all_levels()))
        top = template.render(awards=[], level=levels.status_for(2500, levels.all_levels()))
    assert "Cấp 2: Tổ tích cực" in html and "Còn 150 điểm để lên cấp 3: Tổ năng động" in html
    assert 'value="0.5"' in html
    assert "Đã đạt cấp cao nhất." in top
