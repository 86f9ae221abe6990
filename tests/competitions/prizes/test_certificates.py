"""Certificates (competitions.prizes.certificates, output_views): the PDF's text holds the exact
Vietnamese strings, pages render, one page per winner in the batch, one file per winner in the zip,
the printed heading and signer, and who may download what."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from datetime import date

import pypdfium2 as pdfium
import pytest

from competitions.models import Series
from competitions.prizes import certificates
from competitions.prizes.models import AwardOwner, AwardStatus
from core.accounts.roles import RoleCode
from core.errors import NotFound, ValidationError
from core.extensions import db
from tests.competitions.prizes.worlds_outputs import ROUND_TITLE, World, decided_award

TODAY = date(2026, 12, 3)


@pytest.fixture
def world(make, tree, make_round) -> World:
    return decided_award(make, tree, make_round)


def _texts(data: bytes) -> list[str]:
    """Each page's extracted text, white space folded (wrapped lines join with one space)."""
    document = pdfium.PdfDocument(data)
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def _signing(world: World) -> certificates.Signing:
    return certificates.default_signing(world.award, TODAY)


# --- the PDF ----------------------------------------------------------------------------------------


def test_certificate_text_holds_the_exact_vietnamese_strings(world: World) -> None:
    first = world.people[0]
    assert not unicodedata.is_normalized("NFC", first.name)  # stored with combining marks
    (text,) = _texts(certificates.certificate(world.award, first, _signing(world)))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "GIẤY CHỨNG NHẬN",
        "UBND TỈNH AN GIANG", "BAN TỔ CHỨC CHỨNG NHẬN",
        "Nguyễn Thị Ánh Tuyết",  # precomposed, as typed by a person: searchable and copyable
        "Thành viên Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành", "Đơn vị: Xã Châu Thành",
        "GIẢI NHẤT", f"tại đợt thi “{ROUND_TITLE}”",
        "An Giang, ngày 30 tháng 11 năm 2026",  # approved 29/11 18:30 UTC: the 30th in Viet Nam
        "TM. BAN TỔ CHỨC", "TRƯỞNG BAN",
    ):
        assert expected in text, expected
    assert unicodedata.is_normalized("NFC", text)
    assert not any(unicodedata.combining(ch) for ch in text)


def test_certificate_embeds_the_vietnamese_font(world: World) -> None:
    data = certificates.certificate(world.award, world.people[1], _signing(world))
    assert b"BeVietnamPro" in data
    (text,) = _texts(data)
    assert "Huỳnh Văn Bé" in text and "GIẢI NHÌ" in text


def test_certificate_page_renders_with_its_layout(world: World) -> None:
    data = certificates.certificate(world.award, world.people[0], _signing(world))
    document = pdfium.PdfDocument(data)
    page = document[0]
    width, height = page.get_size()
    assert width > height  # A4 landscape: 842 x 595 points
    assert round(width) == 842 and round(height) == 595
    image = page.render(scale=1.5).to_pil().convert("RGB")
    image.save("/tmp/certificate.png")
    document.close()
    pixels = image.load()
    w, h = image.size
    inked = sum(1 for x in range(0, w, 3) for y in range(0, h, 3) if sum(pixels[x, y]) < 600)
    assert inked > 2000  # frame and text, not a blank page
    # the red title "GIẤY CHỨNG NHẬN" across the upper middle of the page
    title_band = [pixels[x, y] for x in range(w // 4, 3 * w // 4, 2) for y in range(int(h * 0.2), int(h * 0.3))]
    assert any(r > 140 and g < 60 and b < 60 for r, g, b in title_band)


def test_team_and_unit_certificates_name_the_collective(world: World) -> None:
    signing = _signing(world)
    (team_text,) = _texts(certificates.certificate(world.award, world.team_winner, signing))
    assert "Tổ CNSCĐ Ấp Phước Lợi – Xã Châu Thành" in team_text
    assert "Đơn vị: Xã Châu Thành" in team_text and "GIẢI NHẤT TẬP THỂ" in team_text
    assert "Thành viên" not in team_text
    (unit_text,) = _texts(certificates.certificate(world.award, world.unit_winner, signing))
    assert "Xã Châu Thành" in unit_text and "GIẢI ĐƠN VỊ CÓ TỶ LỆ THAM GIA CAO NHẤT" in unit_text
    assert "Đơn vị:" not in unit_text  # the unit is the winner itself


def test_batch_has_one_page_per_winner_in_the_decisions_order(world: World) -> None:
    pages = _texts(certificates.all_certificates(world.award, _signing(world)))
    expected = ["Nguyễn Thị Ánh Tuyết", "Huỳnh Văn Bé", "Đặng Ngọc Phượng", "Trần Thị Bình",
                world.team.name, "Xã Châu Thành"]
    assert len(pages) == len(expected) == len(world.award.winners)
    for page, name in zip(pages, expected, strict=True):
        assert name in page


def test_zip_has_one_pdf_per_winner_with_ascii_names(world: World) -> None:
    data = certificates.certificates_zip(world.award, _signing(world), world.award.approved_at)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert names == [
            "giay-chung-nhan-01-nguyen-thi-anh-tuyet.pdf", "giay-chung-nhan-02-huynh-van-be.pdf",
            "giay-chung-nhan-03-dang-ngoc-phuong.pdf", "giay-chung-nhan-04-tran-thi-binh.pdf",
            "giay-chung-nhan-05-to-cnscd-ap-phuoc-loi-xa-chau-thanh.pdf", "giay-chung-nhan-06-xa-chau-thanh.pdf",
        ]
        (text,) = _texts(archive.read(names[2]))
    assert "Đặng Ngọc Phượng" in text and "GIẢI NHÌ" in text


def test_the_occasion_of_a_season_and_of_an_emulation_period(world: World, tree) -> None:
    series = Series(title="Thi tuần – Quý 4/2026", period_kind="week", scope_unit_id=tree.province.id)
    db.session.add(series)
    db.session.flush()
    award = world.award
    award.owner, award.round_id, award.series_id = AwardOwner.SERIES, None, series.id
    assert certificates.occasion(award) == "tại mùa thi “Thi tuần – Quý 4/2026”"
    award.owner, award.series_id, award.period = AwardOwner.EMULATION, None, "2026-Q4"
    db.session.flush()
    assert certificates.occasion(award) == (
        "trong phong trào thi đua của các Tổ công nghệ số cộng đồng, Quý 4/2026")
    (text,) = _texts(certificates.certificate(award, world.team_winner, _signing(world)))
    assert "trong phong trào thi đua của các Tổ công nghệ số cộng đồng, Quý 4/2026" in text


def test_a_long_name_stays_on_its_page(world: World) -> None:
    winner = world.people[3]
    winner.name = "Công Tằng Tôn Nữ Huyền Trân Thị Ngọc Bích Phượng Hoàng Yến Thanh Thảo"
    pages = _texts(certificates.certificate(world.award, winner, _signing(world)))
    assert len(pages) == 1 and winner.name in pages[0]


# --- what is printed around the decision --------------------------------------------------------------


def test_signing_defaults_and_overrides(world: World) -> None:
    signing = certificates.signing_from(world.award, {}, TODAY)
    assert (signing.authority, signing.issuer, signing.place) == ("UBND TỈNH AN GIANG", "BAN TỔ CHỨC", "An Giang")
    assert signing.day == date(2026, 11, 30) and signing.title_lines == ["TM. BAN TỔ CHỨC", "TRƯỞNG BAN"]
    chosen = certificates.signing_from(world.award, {
        "authority": "UBND tỉnh An Giang", "issuer": "Sở Khoa học và Công nghệ", "day": "2026-12-01",
        "signer_title": "KT. GIÁM ĐỐC\r\n\r\nPHÓ GIÁM ĐỐC", "signer_name": "  Trương   Minh Đức ",
        "decision_number": "125/QĐ-SKHCN",
    }, TODAY)
    assert chosen.day == date(2026, 12, 1) and chosen.title_lines == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"]
    assert chosen.signer_name == "Trương Minh Đức" and chosen.place == "An Giang"
    (text,) = _texts(certificates.certificate(world.award, world.people[0], chosen))
    for expected in ("SỞ KHOA HỌC VÀ CÔNG NGHỆ CHỨNG NHẬN", "UBND TỈNH AN GIANG", "An Giang, ngày 01 tháng 12 năm 2026",
                     "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trương Minh Đức"):
        assert expected in text, expected
    assert certificates.signing_from(world.award, {"day": "01/12/2026"}, TODAY).day == date(2026, 12, 1)
    assert certificates.signing_from(world.award, {"day": ""}, TODAY).day == date(2026, 11, 30)


@pytest.mark.parametrize(("values", "field"), [
    ({"issuer": "  "}, "issuer"),
    ({"place": ""}, "place"),
    ({"signer_title": "\n"}, "signer_title"),
    ({"signer_title": "A\nB\nC\nD"}, "signer_title"),
    ({"signer_name": "x" * 81}, "signer_name"),
    ({"day": "31/02/2026"}, "day"),
    ({"day": "hôm qua"}, "day"),
])
def test_bad_signing_is_refused_naming_the_field(world: World, values: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as error:
        certificates.signing_from(world.award, values, TODAY)
    assert error.value.field == field


def test_an_award_without_a_decision_has_no_outputs(world: World) -> None:
    world.award.status = AwardStatus.DRAFT
    db.session.flush()
    with pytest.raises(NotFound):
        certificates.decided_award(world.award.id)
    with pytest.raises(NotFound):
        certificates.decided_award(world.award.id + 1000)


def test_the_date_line_uses_today_before_approval_is_recorded(world: World) -> None:
    world.award.approved_at = None
    assert certificates.default_signing(world.award, TODAY).date_line == "An Giang, ngày 03 tháng 12 năm 2026"


# --- the routes ---------------------------------------------------------------------------------------


def _url(world: World, what: str) -> str:
    return f"/awards/{world.award.id}/{what}"


def test_staff_download_all_formats(world: World, login) -> None:
    client = login(world.admin)
    response = client.get(_url(world, "certificates.pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    assert len(_texts(response.data)) == 6
    response = client.get(_url(world, "certificates.zip"))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(response.data)).namelist()) == 6
    response = client.get(_url(world, f"certificates/{world.people[1].id}.pdf"),
                          query_string={"signer_name": "Trương Minh Đức", "signer_title": "GIÁM ĐỐC"})
    assert response.status_code == 200
    (text,) = _texts(response.data)
    assert "Huỳnh Văn Bé" in text and "Trương Minh Đức" in text and "GIÁM ĐỐC" in text


def test_outputs_page_and_bad_settings(world: World, login) -> None:
    client = login(world.admin)
    page = client.get(_url(world, "outputs")).get_data(as_text=True)
    assert "Nguyễn Thị Ánh Tuyết" in unicodedata.normalize("NFC", page) and "UBND TỈNH AN GIANG" in page
    assert f"/awards/{world.award.id}/certificates.zip" in page
    response = client.get(_url(world, "certificates.pdf"), query_string={"issuer": ""})
    assert response.status_code == 400 and "Hãy điền mục này." in response.get_data(as_text=True)


def test_staff_outside_the_award_scope_are_refused(world: World, make, tree, login) -> None:
    officer = make.user(RoleCode.OFFICER, tree.other_commune, full_name="Cán Bộ Xã Khác")
    client = login(officer)
    for what in ("outputs", "certificates.pdf", "certificates.zip", "winners.xlsx"):
        assert client.get(_url(world, what)).status_code == 403, what
    one = _url(world, f"certificates/{world.people[0].id}.pdf")
    assert client.get(one).status_code == 404  # to anyone but its managers, a decision exists once published
    world.award.status = AwardStatus.PUBLISHED
    db.session.flush()
    assert client.get(one).status_code == 403


def test_provincial_organiser_may_download(world: World, make, tree, login) -> None:
    organiser = make.user(RoleCode.ORGANISER, tree.province, full_name="Đoàn Tỉnh")
    assert login(organiser).get(_url(world, "certificates.pdf")).status_code == 200


def test_undecided_award_is_not_found(world: World, login) -> None:
    world.award.status = AwardStatus.DRAFT
    db.session.flush()
    client = login(world.admin)
    for what in ("outputs", "certificates.pdf", "certificates.zip", "winners.xlsx",
                 f"certificates/{world.people[0].id}.pdf"):
        assert client.get(_url(world, what)).status_code == 404, what


def test_a_winner_downloads_their_own_certificate_once_published(world: World, client, login) -> None:
    own = _url(world, f"certificates/{world.people[0].id}.pdf")
    login(world.users[0])
    assert client.get(own).status_code == 404  # approved, not yet published
    assert client.get(_url(world, "certificates.pdf")).status_code == 403  # batches are for staff
    world.award.status = AwardStatus.PUBLISHED
    db.session.flush()
    response = client.get(own, query_string={"signer_name": "Người Lạ"})  # members cannot change the heading
    assert response.status_code == 200 and "inline" in response.headers["Content-Disposition"]
    (text,) = _texts(response.data)
    assert "Nguyễn Thị Ánh Tuyết" in text and "Người Lạ" not in text
    assert client.get(_url(world, f"certificates/{world.people[1].id}.pdf")).status_code == 403
    assert client.get(_url(world, f"certificates/{world.team_winner.id}.pdf")).status_code == 403
    assert client.get(_url(world, f"certificates/{world.people[0].id + 1000}.pdf")).status_code == 404


def test_team_leader_downloads_the_team_certificate(world: World, client, login) -> None:
    world.award.status = AwardStatus.PUBLISHED
    db.session.flush()
    login(world.leader)
    assert client.get(_url(world, f"certificates/{world.team_winner.id}.pdf")).status_code == 200
    assert client.get(_url(world, f"certificates/{world.unit_winner.id}.pdf")).status_code == 403
    assert client.get(_url(world, f"certificates/{world.people[0].id}.pdf")).status_code == 403


def test_documents_are_vietnamese_whatever_the_screen_language(world: World, client, login) -> None:
    login(world.admin)
    client.post("/lang/en")
    page = client.get(_url(world, "outputs")).get_data(as_text=True)
    assert "Certificates and the list of prize winners" in page  # the screen in English
    assert "UBND TỈNH AN GIANG" in page and "TM. BAN TỔ CHỨC" in page  # what will be printed: Vietnamese
    (text,) = _texts(client.get(_url(world, f"certificates/{world.people[0].id}.pdf")).data)
    assert "GIẤY CHỨNG NHẬN" in text and "Đã đạt" in text and "An Giang, ngày 30 tháng 11 năm 2026" in text
