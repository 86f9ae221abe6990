"""Fixtures of the emulation tests (rows and worlds to build them from: tests.competitions.emulation.worlds).

- ``w``: the reports' world (worlds.build_world): a team in Ấp Phước Lợi with its leader, deputy
  and members, the commune's officer and a neighbouring commune's officer.
- ``evidence_dir``: EVIDENCE_DIR pointed at a fresh temporary folder (the modules that store
  evidence use it for every test: ``pytestmark = pytest.mark.usefixtures("evidence_dir")``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.competitions.emulation.worlds import World, build_world
from tests.factories import Factory, Tree


@pytest.fixture
def w(make: Factory, tree: Tree) -> World:
    return build_world(make, tree)


@pytest.fixture
def evidence_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "evidence"
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(folder))
    return folder
