"""Signals through which lower packages tell higher ones what happened (see DESIGN.md).

Receivers live in the higher package; senders never import them.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

#: sent with ``membership`` (core.teams.models.Membership) when a person joins, leaves
#: or changes role in a team; rankings that attribute results to teams listen to it.
membership_changed = signals.signal("membership-changed")

#: sent with ``unit`` (core.org.models.Unit) when a unit is moved or deactivated,
#: so that unit-level boards can be rebuilt.
unit_changed = signals.signal("unit-changed")

#: sent with ``attempt`` (quiz.models.Attempt) when it is submitted or closed at its deadline,
#: inside the transaction that grades it; rankings and live boards listen to it.
attempt_closed = signals.signal("attempt-closed")
