"""Accounts: creating people, signing in, passwords."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import select, true
from werkzeug.security import check_password_hash, generate_password_hash

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.db_types import utcnow
from core.errors import ValidationError
from core.extensions import db
from core.org.models import Unit
from core.pagination import PER_PAGE, Page, paginate_select, slice_ids
from core.phone import normalise_phone
from core.text import clean, fold

MIN_PASSWORD_LENGTH = 8
_USERNAME = re.compile(r"[a-z0-9._-]{3,40}")
# werkzeug's scrypt hash; a dummy one is checked for unknown logins so timing reveals nothing.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def looks_like_phone(login: str) -> bool:
    return bool(re.fullmatch(r"\+?[\d\s.\-()]{9,16}", login.strip()))


def find_by_login(login: str) -> User | None:
    login = (login or "").strip()
    if not login:
        return None
    if looks_like_phone(login):
        try:
            phone = normalise_phone(login)
        except ValidationError:
            return None
        return db.session.scalar(select(User).where(User.phone == phone))
    return db.session.scalar(select(User).where(User.username == login.lower()))


def authenticate(login: str, password: str) -> User | None:
    """The active user with this phone/username and password, or None (never says which was wrong)."""
    user = find_by_login(login)
    if user is None or user.password_hash is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    return user


def check_password_strength(password: str, field: str = "password") -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            _("Mật khẩu phải có ít nhất %(n)d ký tự.", n=MIN_PASSWORD_LENGTH), field=field
        )


def set_password(user: User, password: str, field: str = "password") -> None:
    check_password_strength(password, field)
    user.password_hash = generate_password_hash(password)


def change_password(user: User, current: str, new: str) -> None:
    if user.password_hash is None or not check_password_hash(user.password_hash, current or ""):
        raise ValidationError(_("Mật khẩu hiện tại không đúng."), field="current_password")
    set_password(user, new, field="new_password")


def _check_username(username: str | None, exclude_id: int | None) -> str | None:
    username = (username or "").strip().lower() or None
    if username is None:
        return None
    if not _USERNAME.fullmatch(username):
        raise ValidationError(
            _("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch; 3–40 ký tự."),
            field="username",
        )
    other = db.session.scalar(select(User.id).where(User.username == username))
    if other is not None and other != exclude_id:
        raise ValidationError(_("Tên đăng nhập “%(u)s” đã có người dùng.", u=username), field="username")
    return username


def check_phone_free(phone: str, exclude_id: int | None = None, field: str = "phone") -> None:
    other = db.session.scalar(select(User).where(User.phone == phone))
    if other is not None and other.id != exclude_id:
        raise ValidationError(
            _("Số điện thoại %(p)s đã được dùng cho tài khoản “%(n)s”.", p=phone, n=other.full_name),
            field=field,
        )


def _check_full_name(full_name: str) -> str:
    full_name = clean(full_name)
    if not full_name:
        raise ValidationError(_("Chưa nhập họ và tên."), field="full_name")
    if len(full_name) > 120:
        raise ValidationError(_("Họ và tên dài quá 120 ký tự."), field="full_name")
    return full_name


def _check_role_unit(role: RoleCode, unit: Unit | None, current: Unit | None = None) -> None:
    if role != RoleCode.ADMIN and unit is None:
        raise ValidationError(_("Tài khoản này cần thuộc một đơn vị."), field="unit_id")
    if unit is not None and not unit.active and unit is not current:
        raise ValidationError(_("Đơn vị “%(u)s” đã ngừng hoạt động.", u=unit.name), field="unit_id")


def create_user(
    full_name: str,
    role: RoleCode | str = RoleCode.MEMBER,
    unit: Unit | None = None,
    phone: str | None = None,
    username: str | None = None,
    password: str | None = None,
) -> User:
    role = RoleCode(role)
    full_name = _check_full_name(full_name)
    phone = normalise_phone(phone) if phone else None
    if phone:
        check_phone_free(phone)
    username = _check_username(username, None)
    if phone is None and username is None:
        raise ValidationError(_("Cần số điện thoại hoặc tên đăng nhập."), field="phone")
    _check_role_unit(role, unit)
    user = User(full_name=full_name, phone=phone, username=username, role_code=role, unit=unit)
    if password:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User, full_name: str, role: RoleCode | str, unit: Unit | None,
    phone: str | None, username: str | None, active: bool, actor: User | None = None,
) -> User:
    role = RoleCode(role)
    if actor is not None and actor.id == user.id:
        # An admin who locks themselves out may leave the install with no admin at all.
        if not active:
            raise ValidationError(_("Bạn không thể tự khóa tài khoản của chính mình."), field="active")
        if role != user.role_code:
            raise ValidationError(_("Bạn không thể tự đổi vai trò của chính mình."), field="role")
    user.full_name = _check_full_name(full_name)
    new_phone = normalise_phone(phone) if phone else None
    if new_phone:
        check_phone_free(new_phone, exclude_id=user.id)
    new_username = _check_username(username, user.id)
    if new_phone is None and new_username is None:
        raise ValidationError(_("Cần số điện thoại hoặc tên đăng nhập."), field="phone")
    _check_role_unit(role, unit, current=user.unit)
    user.phone, user.username, user.role_code, user.unit, user.active = (
        new_phone, new_username, role, unit, active,
    )
    return user


def reset_password(user: User, new: str) -> User:
    """An admin sets a new password for someone who forgot theirs (or never had one)."""
    set_password(user, new, field="new_password")
    return user


def _phone_digits(q: str) -> str | None:
    """The digits to look for in phone numbers, "+84 912" and "84912" written as "0912"."""
    digits = re.sub(r"\D", "", q)
    if len(digits) < 3 or not re.fullmatch(r"[\s\d.+\-()]+", q):
        return None
    if q.strip().startswith("+84") or (digits.startswith("84") and len(digits) == 11):
        return "0" + digits[2:]
    return digits


def search_users(
    q: str = "", role: RoleCode | str | None = None, page: int | None = 1, per_page: int = PER_PAGE,
) -> Page[User]:
    """Accounts matching ``q`` in the name (accent- and case-insensitive), phone or username."""
    query = select(User).where(User.role_code == RoleCode(role) if role else true())
    needle = fold(q or "")
    if not needle:
        return paginate_select(query.order_by(User.full_name, User.id), page, per_page)
    digits = _phone_digits(q)
    rows = db.session.execute(query.with_only_columns(User.id, User.full_name, User.phone, User.username))
    matches = sorted(
        (fold(name), user_id)
        for user_id, name, phone, username in rows
        if needle in fold(name)
        or (digits is not None and phone is not None and digits in phone)
        or (username is not None and needle in username)
    )
    ids, page, total = slice_ids([user_id for _key, user_id in matches], page, per_page)
    by_id = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids))).unique()}
    return Page([by_id[i] for i in ids], total, page, per_page)
