"""huey: backends from settings, jobs only after commit, periodic tasks in a transaction."""

import pytest
import sqlalchemy as sa
from huey import MemoryHuey, RedisHuey, SqliteHuey
from pyramid.exceptions import ConfigurationError

from hashinsight_core.tasks import job, make_huey, run_in_request
from tests.conftest import REDIS_URL, unavailable

RAN: list = []


@job
def record(request, value):
    RAN.append(value)


def not_a_job(request):
    pass


@pytest.fixture(autouse=True)
def _reset():
    RAN.clear()


def test_backend_is_chosen_by_setting(tmp_path):
    assert isinstance(make_huey({"huey.backend": "memory"}), MemoryHuey)
    sqlite = make_huey({"huey.backend": "sqlite", "huey.sqlite_path": str(tmp_path / "q.db")})
    assert isinstance(sqlite, SqliteHuey)
    assert isinstance(make_huey({"huey.backend": "redis", "redis.url": REDIS_URL}), RedisHuey)
    with pytest.raises(ConfigurationError, match="unknown huey.backend 'rabbit'"):
        make_huey({"huey.backend": "rabbit"})
    with pytest.raises(ConfigurationError, match="huey.sqlite_path"):
        make_huey({"huey.backend": "sqlite"})


def test_enqueued_job_runs_only_after_commit(registry):
    run_in_request(registry, lambda request: request.enqueue(record, "committed"))
    assert RAN == ["committed"]

    def enqueue_then_fail(request):
        request.enqueue(record, "rolled back")
        raise RuntimeError("the transaction aborts")

    with pytest.raises(RuntimeError):
        run_in_request(registry, enqueue_then_fail)
    assert RAN == ["committed"]


def test_only_marked_functions_can_be_enqueued(registry):
    with pytest.raises(ValueError, match="not marked"):
        run_in_request(registry, lambda request: request.enqueue(not_a_job))


def test_job_runs_in_its_own_request_and_transaction(registry, engine):
    from hashinsight_core.models import User

    def add_user(request):
        request.dbsession.add(User(email="job@example.com", password_hash="x", role="viewer"))

    run_in_request(registry, add_user)
    with engine.connect() as conn:
        count = conn.scalar(sa.select(sa.func.count()).select_from(User.__table__))
    assert count == 1


def test_sqlite_queue_survives_a_new_huey_instance(tmp_path):
    settings = {"huey.backend": "sqlite", "huey.sqlite_path": str(tmp_path / "q.db")}
    producer = make_huey(settings)
    task = producer.task(name="echo")(lambda x: x * 2)
    task(21)
    consumer = make_huey(settings)
    consumer.task(name="echo")(lambda x: x * 2)
    assert consumer.pending_count() == 1
    result = consumer.execute(consumer.dequeue())
    assert result == 42


@pytest.mark.redis
def test_redis_queue_round_trip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable("Redis", str(error))
    huey = make_huey({"huey.backend": "redis", "redis.url": REDIS_URL, "huey.name": "hi-test"})
    huey.flush()
    task = huey.task(name="echo")(lambda x: x + 1)
    task(41)
    assert huey.pending_count() == 1
    assert huey.execute(huey.dequeue()) == 42
    huey.flush()
