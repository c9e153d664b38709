"""Two-step login: enrolment, login with a code, replay refusal, recovery codes, the
required-enrolment rule, and an administrator's reset."""

import time

import pyotp
import sqlalchemy as sa

from hashinsight_core.models import User, UserMfa
from tests.conftest import PASSWORD, csrf_token, login


def enrol(app) -> tuple[pyotp.TOTP, list[str]]:
    page = app.get("/account/two-step/")
    secret = page.html.find(attrs={"data-testid": "mfa-secret"}).get_text(strip=True)
    totp = pyotp.TOTP(secret)
    totp.used = totp.now()
    done = app.post(
        "/account/two-step/",
        {"action": "confirm", "code": totp.used, "csrf_token": csrf_token(app)},
    )
    codes = [li.get_text() for li in done.html.find(attrs={"data-testid": "recovery-codes"})("li")]
    return totp, codes


def password_step(app, email):
    return app.post(
        "/login/", {"email": email, "password": PASSWORD, "csrf_token": csrf_token(app)}, status=303
    )


def code_step(app, code, status="*"):
    return app.post("/login/code/", {"code": code, "csrf_token": csrf_token(app)}, status=status)


def logged_in(app) -> bool:
    return app.get("/account/", status="*").status_int == 200


def next_code(totp: pyotp.TOTP) -> str:
    """The code of the next 30-second step: a phone whose clock runs a little ahead."""
    return totp.at(time.time() + totp.interval)


def test_enrol_then_log_in_with_a_code(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "operator")
    totp, codes = enrol(app)
    assert len(codes) == 10 and len(set(codes)) == 10
    with engine.connect() as conn:
        stored = conn.execute(sa.select(UserMfa)).one()
    assert totp.secret not in stored.secret_encrypted  # encrypted at rest
    assert not any(code in str(stored.recovery_hashes) for code in codes)

    fresh, _ = make_app()
    step = password_step(fresh, email)
    assert step.location.endswith("/login/code/")
    assert not logged_in(fresh)  # the password alone is not enough
    assert code_step(fresh, "000000", status=400).status_int == 400
    code_step(fresh, next_code(totp), status=303)  # one step of clock drift is fine
    assert logged_in(fresh)


def test_a_code_works_only_once(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "operator")
    totp, _ = enrol(app)
    fresh, _ = make_app()
    password_step(fresh, email)
    page = code_step(fresh, totp.used, status=400)  # the code the enrolment already used
    assert "not right" in page.text
    assert not logged_in(fresh)


def test_recovery_codes_are_single_use(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "viewer")
    _, codes = enrol(app)
    first, _ = make_app()
    password_step(first, email)
    code_step(first, codes[0].upper(), status=303)
    second, _ = make_app()
    password_step(second, email)
    code_step(second, codes[0], status=400)
    code_step(second, codes[1], status=303)


def test_code_page_without_the_password_step_goes_back_to_login(webtest):
    assert webtest.get("/login/code/").location.endswith("/login/")
    webtest.set_cookie("hi_mfa", "forged.value")
    assert code_step(webtest, "123456", status=303).location.endswith("/login/")


def test_wrong_codes_are_throttled(make_app, engine):
    app, _ = make_app(auth__throttle__limit="3/5minutes")
    email = login(app, engine, "viewer")
    totp, _ = enrol(app)
    fresh, _ = make_app(auth__throttle__limit="3/5minutes")
    fresh.app.registry["login_throttle"] = app.app.registry["login_throttle"]
    password_step(fresh, email)
    for _ in range(3):
        code_step(fresh, "111111", status=400)
    assert code_step(fresh, totp.now(), status=429).status_int == 429


def test_required_roles_must_enrol_before_anything_else(make_app, engine):
    app, _ = make_app(auth__mfa_required_roles="owner admin")
    login(app, engine, "admin")
    assert app.get("/hosting/sites/").location.endswith("/account/two-step/")
    assert app.get("/api/v1/hosting/sites", status=403).json["error"]["code"] == "forbidden"
    enrol(app)
    app.get("/hosting/sites/", status=200)
    page = app.post(
        "/account/two-step/",
        {"action": "off", "password": PASSWORD, "csrf_token": csrf_token(app)},
        status=422,
    )
    assert "needs two-step login" in page.text


def test_roles_not_required_are_not_forced(make_app, engine):
    app, _ = make_app(auth__mfa_required_roles="owner admin")
    login(app, engine, "operator")
    app.get("/hosting/sites/", status=200)


def test_turning_off_needs_the_password(make_app, engine):
    app, _ = make_app()
    login(app, engine, "viewer")
    enrol(app)
    app.post(
        "/account/two-step/",
        {"action": "off", "password": "wrong", "csrf_token": csrf_token(app)},
        status=422,
    )
    assert app.get("/account/two-step/").html.find(attrs={"data-testid": "mfa-on"})
    app.post(
        "/account/two-step/",
        {"action": "off", "password": PASSWORD, "csrf_token": csrf_token(app)},
        status=303,
    )
    assert not app.get("/account/two-step/").html.find(attrs={"data-testid": "mfa-on"})


def test_admin_resets_a_lost_phone(make_app, engine):
    user_app, _ = make_app()
    email = login(user_app, engine, "operator")
    enrol(user_app)
    admin_app, _ = make_app()
    login(admin_app, engine, "admin")
    with engine.connect() as conn:
        uid = conn.scalar(sa.select(User.id).where(User.email == email))
    admin_app.post(
        f"/admin/users/{uid}/reset-mfa", {"csrf_token": csrf_token(admin_app)}, status=303
    )
    assert not logged_in(user_app)  # their sessions ended too
    again, _ = make_app()
    assert password_step(again, email).location.endswith("/")  # no code asked any more


def test_disabled_account_cannot_finish_the_code_step(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "viewer")
    totp, _ = enrol(app)
    fresh, _ = make_app()
    password_step(fresh, email)
    with engine.begin() as conn:
        conn.execute(sa.update(User).where(User.email == email).values(is_active=False))
    assert code_step(fresh, next_code(totp), status=303).location.endswith("/login/")
    assert not logged_in(fresh)
