"""Core: app factory, settings, extensions, accounts and roles, org tree, teams, CLI, demo."""
