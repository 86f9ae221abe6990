from core.accounts.models import Role


def test_migrations_create_reference_roles(session):
    codes = {role.code for role in session.query(Role)}
    assert codes == {"admin", "organiser", "officer", "member"}


def test_login_page_renders_in_vietnamese(client):
    body = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in body and 'lang="vi"' in body
