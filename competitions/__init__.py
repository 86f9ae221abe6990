"""Rounds, team scoring, live contests, emulation, prizes (built on core, quiz and leaderboard)."""
