"""Question bank and the attempt engine (built on core)."""
