"""Alerts: rules over live and 5-minute telemetry (and edge devices), evaluated every minute
by a huey task with set-based SQL, with hysteresis and one open alert per rule and subject;
notifications in the app, by e-mail and by signed webhook; acknowledge, resolve, history.
See docs/alerts.md.
"""

from huey import crontab

from hashinsight_core.tasks import PeriodicTask
from plugins.hosting.alerts.config import AlertConfig


def evaluate_job(request) -> dict:
    """Every minute: evaluate every enabled rule, then queue notifications."""
    from plugins.hosting.alerts.evaluate import evaluate_job as run

    return run(request)


def periodic_tasks() -> list[PeriodicTask]:
    return [PeriodicTask(crontab(minute="*"), evaluate_job, "hosting.alerts_evaluate")]


def includeme(config):
    from plugins.hosting.alerts.notify import deliver

    registry = config.registry
    alert_config = AlertConfig.from_settings(config.get_settings())
    registry["hosting.alerts.config"] = alert_config
    huey = registry["huey"]

    # Its own task (not request.enqueue's generic job) for huey's retries with a delay.
    @huey.task(
        retries=alert_config.webhook_retries,
        retry_delay=alert_config.webhook_retry_delay_seconds,
        name="hosting.alert_webhook",
    )
    def send_webhook(delivery_id: int):
        return deliver(registry, delivery_id)

    registry["hosting.alerts.webhook_task"] = send_webhook
    config.include("plugins.hosting.alerts.views")
