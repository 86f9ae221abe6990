"""Sign-in, sessions and forms: the protections every page relies on."""

from __future__ import annotations

import pytest
from werkzeug.security import check_password_hash

from core.accounts import service as accounts
from core.accounts.roles import RoleCode
from tests.conftest import make_config


def test_sign_in_by_phone_in_any_written_form(client, make):
    user = make.user(RoleCode.MEMBER, full_name="Lê Thị Hoa")
    national = user.phone  # 0912xxxxxx
    for written in (national, "+84 " + national[1:], "84" + national[1:], national[:4] + "." + national[4:]):
        client.post("/logout")
        response = client.post("/login", data={"login": written, "password": make.PASSWORD})
        assert response.status_code == 302, written
        assert "Lê Thị Hoa" in client.get("/").get_data(as_text=True)


def test_wrong_password_says_so_without_telling_which_part(client, make):
    user = make.user()
    body = client.post("/login", data={"login": user.phone, "password": "sai-mat-khau"}).get_data(as_text=True)
    assert "hoặc mật khẩu không đúng" in body
    assert client.get("/account/password").status_code == 302  # still signed out


def test_deactivated_user_cannot_sign_in(client, make, session):
    user = make.user()
    user.active = False
    session.flush()
    response = client.post("/login", data={"login": user.phone, "password": make.PASSWORD})
    assert response.status_code == 200


def test_passwords_are_stored_as_scrypt_hashes(session, make):
    user = accounts.create_user(
        "Phạm Văn Cường", unit=make.default_unit(), phone="0987654321", password="mot-mat-khau-dai"
    )
    assert user.password_hash.startswith("scrypt:")
    assert check_password_hash(user.password_hash, "mot-mat-khau-dai")


def test_open_redirect_after_sign_in_is_refused(client, make):
    user = make.user()
    response = client.post(
        "/login?next=https://evil.example/", data={"login": user.phone, "password": make.PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_sign_in_is_rate_limited_per_account(client, make, app):
    user = make.user()
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post("/login", data={"login": user.phone, "password": "sai"}).status_code == 200
    blocked = client.post("/login", data={"login": user.phone, "password": make.PASSWORD})
    assert blocked.status_code == 429
    assert "quá nhiều lần" in blocked.get_data(as_text=True)


def test_logout_needs_post_and_ends_the_session(client, make, login):
    login(make.user())
    assert client.get("/logout").status_code == 405
    client.post("/logout")
    assert client.get("/account/password").status_code == 302


def test_change_password(client, make, login, session):
    user = make.user()
    login(user)
    bad = client.post(
        "/account/password",
        data={"current_password": "khong-dung", "new_password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"},
    )
    assert "Mật khẩu hiện tại không đúng" in bad.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={"current_password": make.PASSWORD, "new_password": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"},
    )
    assert ok.status_code == 302
    assert accounts.authenticate(user.phone, "mat-khau-moi-1") is not None


@pytest.fixture
def csrf_app(app):
    """The same app with CSRF protection switched on, as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_forms_without_csrf_token_are_refused(csrf_app, client, make):
    user = make.user()
    response = client.post("/login", data={"login": user.phone, "password": make.PASSWORD})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)


def test_every_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TEAM_MAX_MEMBERS", "12")
    monkeypatch.setenv("REPORT_DEADLINE_DAY", "25")
    monkeypatch.setenv("TIMEZONE", "Asia/Bangkok")
    config = make_config("sqlite://")
    assert (config.TEAM_MAX_MEMBERS, config.REPORT_DEADLINE_DAY, config.TIMEZONE) == (12, 25, "Asia/Bangkok")
    monkeypatch.setenv("TEAM_MAX_MEMBERS", "mười")
    with pytest.raises(RuntimeError, match="TEAM_MAX_MEMBERS"):
        make_config("sqlite://")
