"""Emulation (thi đua): activity catalogue, targets, activity reports, the scheme, standings, badges."""
