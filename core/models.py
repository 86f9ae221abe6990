"""Every table of core, imported in one place so that Alembic sees them all."""

from core.accounts.models import Role, User
from core.org.models import Unit
from core.teams.models import Membership, Team

__all__ = ["Membership", "Role", "Team", "Unit", "User"]
