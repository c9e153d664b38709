"""API tokens: shown once, stored hashed, scoped, expiring, revocable, last-used time."""

import datetime as dt

import sqlalchemy as sa

from hashinsight_core.models import ApiToken, User
from tests.conftest import csrf_token, login

READ = "hosting:site:read"
WRITE = "hosting:site:write"


def make_token(app, scopes, name="script", days="30", status=200):
    page = app.post(
        "/account/tokens/",
        {"name": name, "days": days, "scopes": scopes, "csrf_token": csrf_token(app)},
        status=status,
    )
    found = page.html.find(attrs={"data-testid": "new-token"})
    return (found.get_text(strip=True) if found else None), page


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_is_shown_once_and_stored_only_as_a_hash(make_app, engine):
    app, _ = make_app()
    login(app, engine, "admin")
    token, page = make_token(app, [READ])
    assert token.startswith("hi_") and page.headers["Cache-Control"] == "no-store"
    assert token not in app.get("/account/").text
    with engine.connect() as conn:
        row = conn.execute(sa.select(ApiToken)).one()
    assert token not in (row.token_hash, row.prefix) and token.startswith(row.prefix)


def test_token_works_without_cookie_or_csrf_within_its_scopes(make_app, engine):
    app, _ = make_app()
    login(app, engine, "admin")
    token, _ = make_token(app, [READ])
    script, _ = make_app()  # a separate client: no cookies at all
    assert script.get("/api/v1/hosting/sites", headers=bearer(token)).json["total"] == 0
    denied = script.post_json(
        "/api/v1/hosting/sites", {"name": "X"}, headers=bearer(token), status=403
    ).json
    assert denied["error"]["code"] == "forbidden"
    write_token, _ = make_token(app, [READ, WRITE])
    script.post_json(
        "/api/v1/hosting/sites", {"name": "X"}, headers=bearer(write_token), status=201
    )
    with engine.connect() as conn:
        assert (
            conn.scalar(
                sa.select(ApiToken.last_used_at).where(ApiToken.scopes.is_not(None)).limit(1)
            )
            is not None
        )


def test_token_never_exceeds_its_owners_role(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "admin")
    token, _ = make_token(app, [READ, WRITE])
    with engine.begin() as conn:  # the owner is demoted after making the token
        conn.execute(sa.update(User).where(User.email == email).values(role="viewer"))
    script, _ = make_app()
    script.get("/api/v1/hosting/sites", headers=bearer(token), status=200)
    script.post_json("/api/v1/hosting/sites", {"name": "X"}, headers=bearer(token), status=403)


def test_cannot_scope_a_token_beyond_ones_permissions(webtest, engine):
    login(webtest, engine, "viewer")
    token, page = make_token(webtest, [WRITE], status=422)
    assert token is None and "do not have" in page.text
    token, page = make_token(webtest, [], status=422)
    assert "at least one" in page.text
    token, page = make_token(webtest, [READ], days="9999", status=422)
    assert "365" in page.text
    with webtest.app.registry["dbengine"].connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_revoked_expired_and_wrong_tokens_get_401(make_app, engine):
    app, _ = make_app()
    login(app, engine, "admin")
    token, _ = make_token(app, [READ])
    script, _ = make_app()
    script.get("/api/v1/hosting/sites", headers=bearer("hi_wrong"), status=401)
    script.get("/api/v1/hosting/sites", headers=bearer("x" * 5000), status=401)
    with engine.begin() as conn:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
        conn.execute(sa.update(ApiToken).values(expires_at=past))
    error = script.get("/api/v1/hosting/sites", headers=bearer(token), status=401).json
    assert "not valid" in error["error"]["message"]

    token2, page = make_token(app, [READ])
    with engine.connect() as conn:
        token_id = conn.scalar(sa.select(sa.func.max(ApiToken.id)))
    app.post(f"/account/tokens/{token_id}/revoke", {"csrf_token": csrf_token(app)}, status=303)
    script.get("/api/v1/hosting/sites", headers=bearer(token2), status=401)
    script.get("/", headers=bearer(token2), status=401)  # an HTML page answers JSON 401 too


def test_tokens_of_a_switched_off_account_stop_working(make_app, engine):
    app, _ = make_app()
    email = login(app, engine, "admin")
    token, _ = make_token(app, [READ])
    with engine.begin() as conn:
        conn.execute(sa.update(User).where(User.email == email).values(is_active=False))
    script, _ = make_app()
    script.get("/api/v1/hosting/sites", headers=bearer(token), status=401)


def test_cannot_revoke_someone_elses_token(make_app, engine):
    owner_app, _ = make_app()
    other_app, _ = make_app()
    login(owner_app, engine, "admin")
    make_token(owner_app, [READ])
    login(other_app, engine, "admin")
    with engine.connect() as conn:
        token_id = conn.scalar(sa.select(ApiToken.id))
    other_app.post(
        f"/account/tokens/{token_id}/revoke", {"csrf_token": csrf_token(other_app)}, status=404
    )
