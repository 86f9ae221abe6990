"""Live contests: a host screen on a projector, players answering on their phones (Kahoot-style)."""
