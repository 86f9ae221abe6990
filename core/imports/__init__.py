"""Spreadsheet imports (org tree, member rosters) with preview and all-or-nothing commit."""
