"""Administration of user accounts (admin only)."""
