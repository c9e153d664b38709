"""What an alert rule is: its kinds, their thresholds and units, and the checking of a rule
that someone sends (JSON or a form). Plain Python, no Pyramid or database.

Every problem is collected and reported together (``RuleInvalid``, a 422 naming each field),
and a rule with any problem is not stored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# translationstring is what pyramid.i18n re-exports; importing it keeps this module free
# of Pyramid.
from translationstring import TranslationStringFactory

from hashinsight_core.exceptions import InvalidInput

_ = TranslationStringFactory("hashinsight")

SEVERITIES = ("info", "warning", "critical")
ALERT_STATUSES = ("open", "acknowledged", "resolved")
RESOLUTIONS = ("cleared", "manual", "rule_disabled", "rule_deleted", "rule_changed")
SUBJECT_TYPES = ("miner", "device")
DELIVERY_STATUSES = ("pending", "sent", "failed")
WEBHOOK_EVENTS = ("alert.opened", "alert.acknowledged", "alert.resolved")

MAX_MINUTES = 7 * 24 * 60
MAX_WINDOW = 24 * 60
MAX_EMAILS = 20
NOTE_MAX = 500


@dataclass(frozen=True)
class KindSpec:
    """One kind of rule.

    ``direction`` says how the threshold works: ``above`` fires when the value is above the
    threshold and clears once it is at or below ``clear_threshold`` (default: the threshold);
    ``below`` the other way round; ``None`` — the kind has no clear threshold.
    """

    subject: str  # "miner" or "device"
    source: str  # "live", "5min" or "devices"
    unit: str  # of the threshold ("" = the kind takes none)
    direction: str | None
    threshold_required: bool
    low: float | None = None
    high: float | None = None
    default_threshold: float | None = None
    for_minutes: int = 5
    clear_minutes: int = 5
    integer: bool = False


KIND_SPECS: dict[str, KindSpec] = {
    # The miner is unreachable or its data is older than the telemetry's stale_after.
    "offline": KindSpec("miner", "live", "", None, False, for_minutes=10, clear_minutes=2),
    # Hashrate below threshold % of nominal (online miners only).
    "low_hashrate": KindSpec("miner", "live", "%", "below", True, 1, 100, 80, 15, 10),
    # Hottest sensor above threshold °C.
    "high_temp": KindSpec("miner", "live", "°C", "above", True, 20, 150, 85, 2, 5),
    # A fan reported failed, or (with a threshold) the slowest fan below threshold RPM.
    "fan_failure": KindSpec("miner", "live", "rpm", "below", False, 1, 30000, None, 2, 2, True),
    # At least threshold hash boards missing (boards_ok < boards_total); default 1.
    "board_missing": KindSpec("miner", "live", "boards", None, False, 1, 16, 1, 5, 5, True),
    # Online but no accepted share over the window (5-minute rows).
    "pool_down": KindSpec("miner", "5min", "", None, False, for_minutes=0, clear_minutes=10),
    # Rejected shares above threshold % of all shares over the window (5-minute rows).
    "reject_rate": KindSpec("miner", "5min", "%", "above", True, 0, 100, 5, 0, 10),
    # No upload from an active edge device for for_minutes.
    "device_silent": KindSpec("device", "devices", "", None, False, for_minutes=5, clear_minutes=2),
}
KINDS = tuple(KIND_SPECS)

FIELDS = {
    "name",
    "kind",
    "severity",
    "enabled",
    "site_id",
    "zone_id",
    "customer_id",
    "model_name",
    "threshold",
    "clear_threshold",
    "for_minutes",
    "clear_minutes",
    "window_minutes",
    "email_to",
    "email_roles",
    "webhook_url",
    "webhook_secret",
    "rotate_webhook_secret",
    "open_ticket",
}
_EMAIL = re.compile(r"^[^@\s,;<>\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_ROLE = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")


class RuleInvalid(InvalidInput):
    """A rule with problems: 422, nothing stored. ``problems`` lists (field, message), each
    message a translation string; the views show them in the reader's language."""

    code = "invalid_rule"

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(self.summary(problems, _english), problems[0][0] if problems else None)
        self.problems = problems

    @staticmethod
    def summary(problems, translate) -> str:
        """Every problem, "field: problem; …"; ``translate`` turns each message into text."""
        return "; ".join(
            translate(_("${field}: ${problem}", mapping={"field": f, "problem": translate(m)}))
            for f, m in problems
        )

    def translated(self, request) -> tuple[str, list[dict]]:
        """The summary and each field's problem, as text in the request's language."""
        translate = request.localizer.translate
        details = [{"field": f, "message": translate(m)} for f, m in self.problems]
        return self.summary(self.problems, translate), details


def _english(message) -> str:
    """A translation string's English text with its values filled in (a str stays as is)."""
    return message.interpolate() if hasattr(message, "interpolate") else str(message)


class _Problems:
    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append((field, message))


def _number(data, name, problems, *, integer=False, low=None, high=None):
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.add(name, _("must be a number"))
        return None
    if not math.isfinite(value):
        problems.add(name, _("must be a finite number"))
        return None
    if integer and value != int(value):
        problems.add(name, _("must be a whole number"))
        return None
    if low is not None and value < low:
        problems.add(name, _("must be at least ${low}", mapping={"low": format(low, "g")}))
        return None
    if high is not None and value > high:
        problems.add(name, _("must be at most ${high}", mapping={"high": format(high, "g")}))
        return None
    return int(value) if integer else float(value)


def _id(data, name, problems):
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        problems.add(name, _("must be the id of an existing record"))
        return None
    return value


def _text(data, name, problems, *, maximum, minimum=0):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(name, _("must be text"))
        return None
    value = value.strip()
    if len(value) < minimum:
        problems.add(name, _("is required"))
        return None
    if len(value) > maximum:
        problems.add(name, _("must be at most ${limit} characters", mapping={"limit": maximum}))
        return None
    return value


def _list(data, name, problems) -> list[str] | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in re.split(r"[,;\s]+", value) if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(name, _("must be a list of text"))
        return None
    return [v.strip() for v in value if v.strip()]


def check_webhook_url(url: str) -> str | None:
    """Why ``url`` cannot be a webhook target, or None when it can."""
    if len(url) > 500:
        return _("must be at most 500 characters")
    try:
        parts = urlsplit(url)
    except ValueError:
        return _("is not a URL")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("must be an http:// or https:// address")
    if parts.username or parts.password:
        return _("must not hold a user name or password (the body is signed instead)")
    return None


def clean_rule(data, *, current: dict | None = None, known_roles=()) -> dict:
    """Check ``data`` (a new rule, or the changes to ``current``) and return the fields to
    store. Raises :class:`RuleInvalid` naming every problem."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise RuleInvalid([("body", _("must be a JSON object"))])
    for name in sorted(set(data) - FIELDS):
        problems.add(name, _("is not a field of a rule"))
    out: dict = {}

    if "name" in data or current is None:
        name = _text(data, "name", problems, maximum=200, minimum=1)
        if name is None and "name" not in (f for f, _ in problems.items):
            problems.add("name", _("is required"))
        out["name"] = name
    if "kind" in data or current is None:
        kind = data.get("kind")
        if kind not in KIND_SPECS:
            problems.add(
                "kind", _("must be one of ${choices}", mapping={"choices": ", ".join(KINDS)})
            )
        out["kind"] = kind
    if "severity" in data:
        if data["severity"] not in SEVERITIES:
            problems.add(
                "severity",
                _("must be one of ${choices}", mapping={"choices": ", ".join(SEVERITIES)}),
            )
        out["severity"] = data["severity"]
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            problems.add("enabled", _("must be true or false"))
        out["enabled"] = data["enabled"]
    if "open_ticket" in data:
        if not isinstance(data["open_ticket"], bool):
            problems.add("open_ticket", _("must be true or false"))
        out["open_ticket"] = data["open_ticket"]
    for name in ("site_id", "zone_id", "customer_id"):
        if name in data:
            out[name] = _id(data, name, problems)
    if "model_name" in data:
        out["model_name"] = _text(data, "model_name", problems, maximum=100) or None
    for name in ("threshold", "clear_threshold"):
        if name in data:
            out[name] = _number(data, name, problems)
    for name, high in (("for_minutes", MAX_MINUTES), ("clear_minutes", MAX_MINUTES)):
        if name in data:
            if data[name] is None:
                problems.add(name, _("must be a number"))
            out[name] = _number(data, name, problems, integer=True, low=0, high=high)
    if "window_minutes" in data:
        if data["window_minutes"] is None:
            problems.add("window_minutes", _("must be a number"))
        out["window_minutes"] = _number(
            data, "window_minutes", problems, integer=True, low=5, high=MAX_WINDOW
        )
    if "email_to" in data:
        emails = _list(data, "email_to", problems)
        if emails is not None:
            bad = [e for e in emails if not _EMAIL.match(e)]
            if bad:
                problems.add(
                    "email_to",
                    _("'${value}' is not an e-mail address", mapping={"value": bad[0][:100]}),
                )
            elif len(emails) > MAX_EMAILS:
                problems.add(
                    "email_to", _("at most ${count} addresses", mapping={"count": MAX_EMAILS})
                )
            out["email_to"] = ", ".join(dict.fromkeys(emails))
            if len(out["email_to"]) > 1000:
                problems.add("email_to", _("too long (1000 characters at most)"))
    if "email_roles" in data:
        roles = _list(data, "email_roles", problems)
        if roles is not None:
            unknown = [r for r in roles if not _ROLE.match(r) or r not in known_roles]
            if unknown:
                problems.add(
                    "email_roles", _("'${role}' is not a role", mapping={"role": unknown[0][:50]})
                )
            out["email_roles"] = ", ".join(dict.fromkeys(roles))
    if "webhook_url" in data:
        url = data["webhook_url"]
        if url is None:
            url = ""
        if not isinstance(url, str):
            problems.add("webhook_url", _("must be text"))
        else:
            url = url.strip()
            why = check_webhook_url(url) if url else None
            if why:
                problems.add("webhook_url", why)
            out["webhook_url"] = url
    if "webhook_secret" in data:
        secret = data["webhook_secret"]
        if secret in (None, ""):
            pass  # keep the current one (or make one)
        elif not isinstance(secret, str) or not 16 <= len(secret) <= 128:
            problems.add("webhook_secret", _("must be 16 to 128 characters"))
        elif not secret.isprintable() or secret != secret.strip():
            problems.add("webhook_secret", _("must be printable, without spaces at the ends"))
        else:
            out["webhook_secret"] = secret
    if "rotate_webhook_secret" in data:
        if not isinstance(data["rotate_webhook_secret"], bool):
            problems.add("rotate_webhook_secret", _("must be true or false"))
        else:
            out["rotate_webhook_secret"] = data["rotate_webhook_secret"]

    if problems.items:
        raise RuleInvalid(problems.items)
    _check_together({**(current or {}), **out}, out, current is None, problems)
    if problems.items:
        raise RuleInvalid(problems.items)
    return out


def _check_together(rule: dict, out: dict, creating: bool, problems: _Problems) -> None:
    """Checks across fields, on the rule as it will be; fills the kind's defaults."""
    spec = KIND_SPECS[rule["kind"]]
    if creating:
        out.setdefault("for_minutes", spec.for_minutes)
        out.setdefault("clear_minutes", spec.clear_minutes)
        rule.setdefault("for_minutes", spec.for_minutes)
        rule.setdefault("clear_minutes", spec.clear_minutes)
    if spec.subject == "device":
        for name in ("customer_id", "model_name"):
            if rule.get(name) is not None:
                problems.add(name, _("an edge-device rule applies to sites and zones only"))
        if (rule.get("for_minutes") or 0) < 1:
            problems.add("for_minutes", _("how long a device may stay silent: at least 1"))
    threshold, clear = rule.get("threshold"), rule.get("clear_threshold")
    if not spec.unit:
        for name in ("threshold", "clear_threshold"):
            if rule.get(name) is not None:
                problems.add(
                    name, _("a ${kind} rule takes no threshold", mapping={"kind": rule["kind"]})
                )
        return
    if threshold is None:
        if spec.threshold_required:
            problems.add("threshold", _("is required (${unit})", mapping={"unit": spec.unit}))
            return
        if spec.default_threshold is not None and (creating or "kind" in out):
            threshold = out["threshold"] = spec.default_threshold
    if threshold is not None:
        if spec.low is not None and threshold < spec.low:
            problems.add(
                "threshold",
                _(
                    "must be at least ${low} ${unit}",
                    mapping={"low": format(spec.low, "g"), "unit": spec.unit},
                ),
            )
        if spec.high is not None and threshold > spec.high:
            problems.add(
                "threshold",
                _(
                    "must be at most ${high} ${unit}",
                    mapping={"high": format(spec.high, "g"), "unit": spec.unit},
                ),
            )
        if spec.integer and threshold != int(threshold):
            problems.add("threshold", _("must be a whole number"))
    if clear is None:
        return
    if spec.direction is None:
        problems.add(
            "clear_threshold",
            _("a ${kind} rule takes no clear threshold", mapping={"kind": rule["kind"]}),
        )
    elif threshold is None:
        problems.add("clear_threshold", _("needs a threshold"))
    elif spec.direction == "above" and clear > threshold:
        problems.add("clear_threshold", _("must be at or below the threshold (it clears lower)"))
    elif spec.direction == "below" and clear < threshold:
        problems.add("clear_threshold", _("must be at or above the threshold (it clears higher)"))
    elif spec.low is not None and clear < spec.low or spec.high is not None and clear > spec.high:
        problems.add(
            "clear_threshold",
            _(
                "must be between ${low} and ${high}",
                mapping={"low": format(spec.low, "g"), "high": format(spec.high, "g")},
            ),
        )


def form_to_data(form) -> dict:
    """A rule form (strings) as the JSON shape ``clean_rule`` takes; empty means "none"."""

    def number(name):
        raw = (form.get(name) or "").strip()
        if raw == "":
            return None
        try:
            value = float(raw)
        except ValueError:
            return raw  # clean_rule names it
        return int(value) if value.is_integer() and name.endswith("minutes") else value

    def ident(name):
        raw = (form.get(name) or "").strip()
        if raw == "":
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else raw

    data = {
        "name": form.get("name", ""),
        "kind": form.get("kind", ""),
        "severity": form.get("severity", "warning"),
        "enabled": form.get("enabled") in ("on", "1", "true"),
        "open_ticket": form.get("open_ticket") in ("on", "1", "true"),
        "site_id": ident("site_id"),
        "zone_id": ident("zone_id"),
        "customer_id": ident("customer_id"),
        "model_name": form.get("model_name", "") or None,
        "threshold": number("threshold"),
        "clear_threshold": number("clear_threshold"),
        "email_to": form.get("email_to", ""),
        "email_roles": form.getall("email_roles") if hasattr(form, "getall") else [],
        "webhook_url": form.get("webhook_url", ""),
    }
    for name in ("for_minutes", "clear_minutes", "window_minutes"):
        value = number(name)
        if value is not None:
            data[name] = value
    if form.get("webhook_secret"):
        data["webhook_secret"] = form.get("webhook_secret")
    if form.get("rotate_webhook_secret") in ("on", "1", "true"):
        data["rotate_webhook_secret"] = True
    return data
