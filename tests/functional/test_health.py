import pytest

from tests.conftest import REDIS_URL, unavailable


def test_healthz_answers_without_touching_anything(make_app):
    app, _ = make_app(sqlalchemy__url="postgresql+psycopg2://nobody@127.0.0.1:1/none")
    assert app.get("/healthz").json == {"status": "ok"}


def test_readyz_checks_database_and_task_storage(webtest):
    body = webtest.get("/readyz").json
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["tasks"]["ok"] is True


def test_readyz_is_503_with_the_failing_check_named():
    from webtest import TestApp

    from hashinsight_core import make_config
    from tests.conftest import base_settings

    settings = base_settings(
        "postgresql+psycopg2://nobody@127.0.0.1:1/none", **{"redis.url": "redis://127.0.0.1:1/0"}
    )
    app = TestApp(make_config(settings, environ={}).make_wsgi_app())
    body = app.get("/readyz", status=503).json
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["redis"]["ok"] is False
    assert "error" in body["checks"]["database"]


@pytest.mark.redis
def test_readyz_checks_a_real_redis(make_app):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable("Redis", str(error))
    app, _ = make_app(redis__url=REDIS_URL, huey__backend="redis", huey__immediate="false")
    body = app.get("/readyz").json
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["tasks"]["detail"] == "RedisHuey"
