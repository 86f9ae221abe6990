from __future__ import annotations

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import spreadsheets (org tree, member rosters).")
