"""The platform roles (DESIGN.md). Team leadership is not a role: it comes from membership."""

from __future__ import annotations

from enum import StrEnum


class RoleCode(StrEnum):
    ADMIN = "admin"  # Department staff (Sở KH&CN)
    ORGANISER = "organiser"  # Youth Union (Tỉnh đoàn, Đoàn xã)
    OFFICER = "officer"  # commune staff (cán bộ xã)
    MEMBER = "member"  # team member (tổ viên)


