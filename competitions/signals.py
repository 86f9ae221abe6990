"""Signals between the parts of competitions: rounds and live contests tell emulation (standings,
badges) what happened without knowing it. Sent inside the transaction that made the change;
receivers queue their work (see competitions.board_feed) so nothing moves if it rolls back."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: sent with ``round_`` (competitions.models.Round) when its closing work is done (results final).
round_closed = signals.signal("round-closed")

#: sent with ``contest`` (competitions.live.models.LiveContest) when a live contest finishes.
live_contest_finished = signals.signal("live-contest-finished")

#: sent with ``report`` (competitions.emulation.models.ActivityReport) and ``before`` (its status
#: before, None for a new report) whenever a report is filed, corrected, verified or rejected.
report_changed = signals.signal("report-changed")
