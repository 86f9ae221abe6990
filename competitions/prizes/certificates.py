"""Certificates (giấy chứng nhận) of an approved or published award, as PDF: one A4 landscape page
per winner in the shape of a Vietnamese certificate (issuing body and national motto, title,
winner, prize, occasion, date line and signature block).

They print the frozen decision only (Winner rows, the names as approved), never today's rankings.
The font is Be Vietnam Pro from the installed ``fontpkg_be_vietnam_pro`` package (full Vietnamese
coverage, embedded as a subset). fpdf2 shapes no text without uharfbuzz, so every string is
NFC-normalised: a name typed with combining marks ("e" + U+0302 + U+0303) becomes the precomposed
letter ("ễ"), which the font has as one glyph and a PDF reader extracts as that letter.

What is printed around the decision (issuing body, place, date, signer, decision number) is a
``Signing``: chosen on the outputs page for each download, not stored; ``default_signing`` gives
sensible defaults from the award.

Certificates and the decision list are official Vietnamese documents: they are built in the
``DOCUMENT_LOCALE`` whatever language the person downloading them reads the screens in.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

import fontpkg_be_vietnam_pro
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy import select

from competitions.emulation.periods import Period
from competitions.models import Round, Series
from competitions.prizes.models import Audience, Award, AwardOwner, AwardStatus, Winner
from core.accounts.models import User
from core.errors import NotFound, ValidationError
from core.extensions import db
from core.org.models import Unit
from core.teams.models import Membership, MembershipStatus, TeamRole
from core.text import clean, slug
from core.timeutil import to_local

DOCUMENT_LOCALE = "vi"
FONT = "BeVietnamPro"
_FONT_FILES = {"": "Regular", "B": "Bold", "I": "Italic", "BI": "BoldItalic"}
OUTPUT_STATUSES = (AwardStatus.APPROVED, AwardStatus.PUBLISHED)  # a decision exists
_PROVINCE_PREFIXES = re.compile(r"^(tỉnh|thành phố|tp\.?)\s+", re.IGNORECASE)

# colours (RGB) and the page (A4 landscape, millimetres)
_RED, _BLUE, _GOLD, _INK = (170, 20, 20), (20, 45, 120), (196, 152, 52), (25, 25, 25)
_PAGE_W, _PAGE_H = 297, 210


# --- who may download -------------------------------------------------------------------------------


def is_own(user: User, winner: Winner) -> bool:
    """The winner's certificate is theirs: the person who won; for a team prize the team's
    current leader and deputy (they receive the team's notification too). Unit prizes have no
    owner among the members: staff hand them over."""
    if winner.user_id is not None:
        return winner.user_id == user.id
    if winner.team_id is None:
        return False
    return db.session.scalar(select(Membership.id).where(
        Membership.team_id == winner.team_id, Membership.user_id == user.id,
        Membership.status == MembershipStatus.ACTIVE, Membership.role.in_([TeamRole.LEADER, TeamRole.DEPUTY]),
    )) is not None


def decided_award(award_id: int) -> Award:
    """An award whose winners are frozen (approved or published); any other is not found."""
    award = db.session.get(Award, award_id)
    if award is None or award.status not in OUTPUT_STATUSES:
        raise NotFound(_("Không tìm thấy quyết định khen thưởng này."))
    return award


# --- what is printed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signing:
    """What surrounds the decision on paper: the issuing body under its superior body, the place
    and date of the date line, the signer (title lines and name; an empty name leaves the line to
    be written by hand) and the number of the prize decision the list is annexed to."""

    authority: str  # cơ quan chủ quản: "UBND TỈNH AN GIANG"
    issuer: str  # cơ quan ban hành: "BAN TỔ CHỨC"
    place: str  # "An Giang"
    day: date
    signer_title: str  # one title per line: "TM. BAN TỔ CHỨC\nTRƯỞNG BAN"
    signer_name: str = ""
    decision_number: str = ""  # "125/QĐ-BTC"; empty: dotted, filled in by hand

    @property
    def title_lines(self) -> list[str]:
        return [line for line in (clean(part) for part in self.signer_title.splitlines()) if line]

    @property
    def date_line(self) -> str:
        return _("%(place)s, ngày %(d)02d tháng %(m)02d năm %(y)d", place=self.place, d=self.day.day,
                 m=self.day.month, y=self.day.year)


def province_of(unit: Unit) -> Unit:
    """The top of the unit's branch of the tree (the province)."""
    top = db.session.get(Unit, unit.ancestor_ids()[0]) if unit.path else None
    return top or unit


def default_signing(award: Award, today: date) -> Signing:
    """The People's Committee of the award's unit above its organising board; the province's name
    for the place; the approval date (local time) or ``today`` for the date line."""
    place = _PROVINCE_PREFIXES.sub("", province_of(award.scope_unit).name)
    day = to_local(award.approved_at).date() if award.approved_at is not None else today
    with force_locale(DOCUMENT_LOCALE):
        return Signing(
            authority=_("UBND %(unit)s", unit=award.scope_unit.name.upper()), issuer=_("BAN TỔ CHỨC"),
            place=place, day=day, signer_title=_("TM. BAN TỔ CHỨC") + "\n" + _("TRƯỞNG BAN"),
        )


_LIMITS = {"authority": 120, "issuer": 120, "place": 60, "signer_title": 180, "signer_name": 80,
           "decision_number": 40}  # the text fields of a Signing, with their longest value
_REQUIRED = ("issuer", "place", "signer_title")
MAX_TITLE_LINES = 3


def _typed(name: str, raw: str) -> str:
    if name == "signer_title":  # one title per line: keep the lines, drop empty ones
        return "\n".join(line for line in (clean(part) for part in raw.splitlines()) if line)
    return clean(raw)


def signing_from(award: Award, values: Mapping[str, str], today: date) -> Signing:
    """The defaults with what the organiser typed (query arguments of the outputs page) laid over
    them; a field left out, or an empty date, keeps its default. Nothing is stored."""
    signing = default_signing(award, today)
    if clean(values.get("day")):
        signing = replace(signing, day=_parse_day(clean(values.get("day"))))
    for name, limit in _LIMITS.items():
        if name not in values:
            continue
        text = _typed(name, values.get(name) or "")
        if name in _REQUIRED and not text:
            raise ValidationError(_("Hãy điền mục này."), field=name)
        if len(text) > limit:
            raise ValidationError(_("Tối đa %(n)d ký tự.", n=limit), field=name)
        signing = replace(signing, **{name: text})
    if len(signing.title_lines) > MAX_TITLE_LINES:
        raise ValidationError(_("Tối đa %(n)d dòng.", n=MAX_TITLE_LINES), field="signer_title")
    return signing


def _parse_day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValidationError(_("Ngày không hợp lệ: dùng dạng ngày/tháng/năm, ví dụ 30/11/2026."), field="day")


def occasion(award: Award) -> str:
    """What the prizes were for: the round, the season or the emulation period."""
    if award.owner == AwardOwner.ROUND and award.round_id is not None:
        round_ = db.session.get(Round, award.round_id)
        return _("tại đợt thi “%(title)s”", title=round_.title if round_ else award.title)
    if award.owner == AwardOwner.SERIES and award.series_id is not None:
        series = db.session.get(Series, award.series_id)
        return _("tại mùa thi “%(title)s”", title=series.title if series else award.title)
    if award.owner == AwardOwner.EMULATION and award.period:
        return _("trong phong trào thi đua của các Tổ công nghệ số cộng đồng, %(period)s",
                 period=Period.parse(award.period).label)
    return award.title


def ordered_winners(award: Award) -> list[Winner]:
    """The decision's order (STT): approval numbers the winners individuals first, then teams, then
    units, the best prize first (competitions.prizes.workflow), so each prize's winners are together."""
    return sorted(award.winners, key=lambda w: (w.position, w.id))


def winner_of(award: Award, winner_id: int) -> Winner:
    winner = next((w for w in award.winners if w.id == winner_id), None)
    if winner is None:
        raise NotFound(_("Không tìm thấy người đạt giải này."))
    return winner


def certificate_filename(winner: Winner) -> str:
    """``giay-chung-nhan-01-nguyen-van-an.pdf``: ASCII, in the decision's order."""
    return f"giay-chung-nhan-{winner.position:02d}-{slug(winner.name) or winner.id}.pdf"


def batch_filename(award: Award, extension: str) -> str:
    return f"giay-chung-nhan-{slug(award.title) or 'giai-thuong'}-{award.id}.{extension}"


# --- the PDF ----------------------------------------------------------------------------------------


def _new_document(award: Award) -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    files = fontpkg_be_vietnam_pro.ROOT / "files"
    for style, weight in _FONT_FILES.items():
        pdf.add_font(FONT, style, files / f"BeVietnamPro-{weight}.ttf")
    pdf.set_lang("vi")
    pdf.set_creator("Thi đua số")
    pdf.set_title(clean(_("Giấy chứng nhận – %(title)s", title=award.title)))
    return pdf


def _line(pdf: FPDF, x: float, y: float, width: float, text: str, style: str = "", size: float = 12,
          color: tuple[int, int, int] = _INK, fit: bool = False) -> float:
    """``text`` centred in [x, x + width] from ``y``, wrapped onto more lines when too long (``fit``:
    first shrunk down to 60 % of ``size``). Returns the y below it."""
    text = clean(text)
    pdf.set_font(FONT, style, size)
    smallest = 0.6 * size if fit else size
    while size - 1 >= smallest and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font(FONT, style, size)
    pdf.set_text_color(*color)
    pdf.set_xy(x, y)
    height = size * 0.45
    pdf.multi_cell(width, height, text, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    return pdf.get_y()


def _underline(pdf: FPDF, centre: float, y: float, width: float) -> None:
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.3)
    pdf.line(centre - width / 2, y, centre + width / 2, y)


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*_RED)
    pdf.set_line_width(1.6)
    pdf.rect(8, 8, _PAGE_W - 16, _PAGE_H - 16)
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.5)
    pdf.rect(11.5, 11.5, _PAGE_W - 23, _PAGE_H - 23)


def _heading(pdf: FPDF, signing: Signing) -> None:
    """The issuing body left, the national motto right, each with its short rule below (Decree 30/2020)."""
    left_x, left_w, right_x, right_w = 16, 118, 140, 142
    y = _line(pdf, left_x, 19, left_w, signing.authority.upper(), size=11)
    y = _line(pdf, left_x, y + 0.5, left_w, signing.issuer.upper(), "B", 11)
    _underline(pdf, left_x + left_w / 2, y + 1, 30)
    _line(pdf, right_x, 19, right_w, _("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "B", 11)
    motto = _("Độc lập - Tự do - Hạnh phúc")
    y = _line(pdf, right_x, 24.5, right_w, motto, "B", 12)
    pdf.set_font(FONT, "B", 12)
    _underline(pdf, right_x + right_w / 2, y + 1, pdf.get_string_width(motto))


def _subject_lines(winner: Winner) -> list[str]:
    """Who the winner is, under the name: a person's team and commune; a team's commune; a unit's
    own name only when the frozen row names a larger unit."""
    lines = []
    if winner.tier.audience == Audience.INDIVIDUAL and winner.team_name:
        lines.append(_("Thành viên %(team)s", team=winner.team_name))
    if winner.unit_name and clean(winner.unit_name) != clean(winner.name):
        lines.append(_("Đơn vị: %(unit)s", unit=winner.unit_name))
    return lines


def _page(pdf: FPDF, award: Award, winner: Winner, signing: Signing, occasion_text: str) -> None:
    pdf.add_page()
    _frame(pdf)
    _heading(pdf, signing)
    body_x, body_w = 24, _PAGE_W - 48
    y = _line(pdf, body_x, 45, body_w, _("GIẤY CHỨNG NHẬN"), "B", 36, _RED)
    y = _line(pdf, body_x, y + 3, body_w, _("%(issuer)s CHỨNG NHẬN", issuer=signing.issuer.upper()), "B", 13)
    y = _line(pdf, body_x, y + 4, body_w, winner.name, "B", 30, _BLUE, fit=True)
    for text in _subject_lines(winner):
        y = _line(pdf, body_x, y + 1.5, body_w, text, size=14)
    y = _line(pdf, body_x, y + 4, body_w, _("Đã đạt"), "I", 14)
    y = _line(pdf, body_x, y + 1, body_w, winner.tier.label.upper(), "B", 24, _RED, fit=True)
    _line(pdf, body_x, y + 2, body_w, occasion_text, "I", 14)
    _signature(pdf, signing)


def _signature(pdf: FPDF, signing: Signing) -> None:
    """The date line, the signer's title lines, room for the signature and the seal, the name."""
    x, width = 168, 112
    y = _line(pdf, x, 150, width, signing.date_line, "I", 12)
    for title in signing.title_lines:
        y = _line(pdf, x, y + 0.5, width, title, "B", 12)
    if signing.signer_name:
        _line(pdf, x, max(y + 20, 186), width, signing.signer_name, "B", 13)


def render(award: Award, winners: Sequence[Winner], signing: Signing) -> bytes:
    """One PDF with a page per winner, in the given order."""
    with force_locale(DOCUMENT_LOCALE):
        pdf = _new_document(award)
        occasion_text = occasion(award)
        for winner in winners:
            _page(pdf, award, winner, signing, occasion_text)
        return bytes(pdf.output())


def certificate(award: Award, winner: Winner, signing: Signing) -> bytes:
    return render(award, [winner], signing)


def all_certificates(award: Award, signing: Signing) -> bytes:
    """Every winner of the award in one PDF (printing in one go)."""
    return render(award, ordered_winners(award), signing)


def certificates_zip(award: Award, signing: Signing, now: datetime) -> bytes:
    """A zip with one PDF per winner, named ``giay-chung-nhan-<STT>-<name>.pdf`` (to send each by
    mail or chat); the files are dated ``now`` in local time."""
    buffer = io.BytesIO()
    stamp = to_local(now).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for winner in ordered_winners(award):  # positions are unique: so are the names
            info = zipfile.ZipInfo(certificate_filename(winner), date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, certificate(award, winner, signing))
    return buffer.getvalue()
