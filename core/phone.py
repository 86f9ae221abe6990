"""Vietnamese mobile numbers: the sign-in identifier of most members."""

from __future__ import annotations

import re

import phonenumbers
from flask_babel import gettext as _

from core.errors import ValidationError

_PUNCTUATION = re.compile(r"[\s.\-()]")


def normalise_phone(raw: str, field: str = "phone") -> str:
    """Return the 10-digit national form (``0912345678``) of a Vietnamese mobile number.

    Accepts ``+84 912 345 678``, ``84912345678``, ``0912.345.678`` and numbers that lost
    their leading zero in a spreadsheet (``912345678``).
    """
    text = str(raw or "").strip()
    if re.fullmatch(r"\d+\.0", text):  # a number stored as a float in Excel
        text = text[:-2]
    text = _PUNCTUATION.sub("", text)
    if not text:
        raise ValidationError(_("Chưa nhập số điện thoại."), field=field)
    if text.isdigit() and len(text) == 9 and not text.startswith("0"):
        text = "0" + text
    elif text.startswith("84") and len(text) == 11:
        text = "+" + text
    if not re.fullmatch(r"\+?\d+", text):
        raise ValidationError(
            _("Số điện thoại “%(raw)s” chỉ được gồm chữ số.", raw=raw), field=field
        )
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    national = (
        "0" + str(number.national_number) if number and number.country_code == 84 else text
    )
    mobile_types = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if (
        number is None
        or number.country_code != 84
        or len(national) != 10
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in mobile_types
    ):
        raise ValidationError(
            _(
                "Số điện thoại “%(raw)s” không hợp lệ: cần số di động Việt Nam 10 chữ số "
                "bắt đầu bằng 0 (ví dụ 0912345678) hoặc dạng +84.",
                raw=raw,
            ),
            field=field,
        )
    return national
