"""Languages: Vietnamese by default, English on request (POST /lang/en), the choice kept on the
account; and the English catalogue complete for every message the sources mark."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.accounts.models import User
from core.accounts.roles import RoleCode
from core.extensions import db
from tests.factories import Factory, field_errors

ROOT = Path(__file__).resolve().parents[2]
PO_FILE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")
#: the keywords of `pybabel extract -k _l -k lazy_gettext` (Makefile, babel.cfg)
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status
    return response.get_data(as_text=True)


def _choose(client: FlaskClient, code: str, next_url: str = "/login") -> None:
    response = client.post(f"/lang/{code}", data={"next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(next_url)


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogue() -> None:
    """The app reads the .mo; `make` compiles it, a bare `pytest` after editing the .po might not."""
    if not MO_FILE.exists() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        with PO_FILE.open("rb") as po:
            catalogue = read_po(po)
        partial = MO_FILE.with_name(f"{MO_FILE.name}.{os.getpid()}.tmp")
        with partial.open("wb") as mo:
            write_mo(mo, catalogue)
        partial.replace(MO_FILE)




@pytest.fixture
def new_session(app: Flask, client: FlaskClient):  # noqa: ANN201 - returns a helper
    """``new_session()``: another browser (no cookies), of the same client class."""
    return app.test_client


def test_pages_are_vietnamese_by_default(client):
    page = _page(client, "/login")
    assert _html_lang(page) == "vi"
    assert "Đăng nhập" in page
    assert "Sign in" not in page


def test_english_after_choosing_it_including_form_messages(client, make):
    member = make.user(RoleCode.MEMBER)
    _choose(client, "en")
    page = _page(client, "/login")
    assert _html_lang(page) == "en"
    assert "Sign in" in page and "Phone number or username" in page
    assert "Đăng nhập" not in page

    wrong = client.post("/login", data={"login": member.phone, "password": "sai-mat-khau"})
    assert wrong.status_code == 200
    assert field_errors(wrong.get_data(as_text=True), "password") == ["Incorrect phone number/username or password."]
    empty = client.post("/login", data={"login": "", "password": ""}).get_data(as_text=True)
    assert field_errors(empty, "login") == ["Enter your phone number or username."]
    assert field_errors(empty, "password") == ["Enter a password."]

    missing = client.get("/khong-co-trang-nay")
    assert missing.status_code == 404
    assert "Page not found." in missing.get_data(as_text=True)


def test_signed_in_choice_is_kept_on_the_account_and_survives_a_new_session(client, make, login, new_session):
    member = make.user(RoleCode.MEMBER)
    login(member)
    assert _html_lang(_page(client, "/")) == "vi"
    _choose(client, "en", "/")
    assert db.session.scalar(select(User.locale).where(User.id == member.id)) == "en"
    assert _html_lang(_page(client, "/")) == "en"

    browser = new_session()
    assert _html_lang(_page(browser, "/login")) == "vi"  # nobody signed in yet: the default
    assert browser.post("/login", data={"login": member.phone, "password": Factory.PASSWORD}).status_code == 302
    page = _page(browser, "/")
    assert _html_lang(page) == "en"
    assert "Sign out" in page

    _choose(browser, "vi", "/")
    assert db.session.scalar(select(User.locale).where(User.id == member.id)) == "vi"
    page = _page(browser, "/")
    assert _html_lang(page) == "vi"
    assert "Đăng xuất" in page
    again = new_session()
    assert again.post("/login", data={"login": member.phone, "password": Factory.PASSWORD}).status_code == 302
    assert _html_lang(_page(again, "/")) == "vi"


def test_anonymous_choice_and_back_to_vietnamese(client):
    _choose(client, "en")
    assert _html_lang(_page(client, "/login")) == "en"
    _choose(client, "vi")
    page = _page(client, "/login")
    assert _html_lang(page) == "vi"
    assert "Đăng nhập" in page
    assert client.post("/lang/fr", data={"next": "/login"}).status_code == 404


def _placeholders(text: str | tuple[str, ...]) -> set[str]:
    return set(PLACEHOLDER.findall(" ".join(text) if isinstance(text, tuple) else text))


def _source_messages() -> dict[str, list[str]]:
    """msgid -> where it is used, extracted from the sources as babel.cfg says."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def test_english_catalogue_translates_every_message_of_the_sources():
    with PO_FILE.open("rb") as po:
        catalogue = read_po(po)
    entries = [m for m in catalogue if m.id]
    untranslated = [m.id for m in entries if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    fuzzy = [m.id for m in entries if m.fuzzy]
    assert not untranslated, f"untranslated in {PO_FILE.name}: {untranslated}"
    assert not fuzzy, f"fuzzy in {PO_FILE.name}: {fuzzy}"
    broken = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    broken += [(m.id, m.string) for m in entries if _placeholders(m.id) != _placeholders(m.string)]
    assert not broken, f"placeholders differ between msgid and msgstr: {broken}"

    sources = _source_messages()
    assert "Đăng nhập" in sources and "Lựa chọn không hợp lệ." in sources  # templates and _l() both read
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in entries}
    missing = {msgid: where for msgid, where in sources.items() if msgid not in known}
    assert not missing, (
        "UI strings with no English translation; run `pybabel extract -F babel.cfg -k _l -k lazy_gettext "
        "-o translations/messages.pot .`, `pybabel update -i translations/messages.pot -d translations -l en` "
        "and translate them in translations/en/LC_MESSAGES/messages.po:\n"
        + "\n".join(f"  {msgid!r}  ({', '.join(where)})" for msgid, where in sorted(missing.items()))
    )
