"""Read what an operator sets from ``TEAMFLOW_*`` environment variables and refuse unsafe production settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

ENVIRONMENTS = ("development", "production")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# Keys found in examples and tutorials: a key anyone can read is no secret.
KNOWN_KEYS = ("dev", "development", "secret", "secret-key", "changeme", "change-me", "test", "test-secret", "teamflow")
MIN_KEY_LENGTH = 32
GENERATE = "python -c 'import secrets; print(secrets.token_hex(32))'"


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe; the message names the environment variable."""


def _text(name: str, raw: str) -> str:
    return raw


def _number(low: float, high: float) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {raw}")
        return value

    return parse


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be a port number (1 to 65535), not {raw!r}")
    return int(raw)


def _flag(name: str, raw: str) -> bool:
    if raw.strip().lower() in TRUE:
        return True
    if raw.strip().lower() in FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


# Environment variable: (configuration key, parser).
VARIABLES: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "TEAMFLOW_DATABASE_URL": ("DATABASE_URL", _text),
    "TEAMFLOW_SECRET_KEY": ("SECRET_KEY", _text),
    "TEAMFLOW_PROCESSES_DIR": ("PROCESSES_DIR", _text),
    "TEAMFLOW_TIMER_POLL_SECONDS": ("TIMER_POLL_SECONDS", _number(0.05, 3600)),
    "TEAMFLOW_SCRIPT_TIMEOUT": ("SCRIPT_TIMEOUT", _number(0.01, 3600)),
    "TEAMFLOW_SCRIPT_MEMORY_MB": ("SCRIPT_MEMORY_MB", _number(1, 1_000_000)),
    "TEAMFLOW_BASE_URL": ("BASE_URL", _text),
    "TEAMFLOW_SECURE_COOKIES": ("SECURE_COOKIES", _flag),
    "TEAMFLOW_MAIL_SERVER": ("MAIL_SERVER", _text),
    "TEAMFLOW_MAIL_PORT": ("MAIL_PORT", _port),
    "TEAMFLOW_MAIL_USE_TLS": ("MAIL_USE_TLS", _flag),
    "TEAMFLOW_MAIL_USERNAME": ("MAIL_USERNAME", _text),
    "TEAMFLOW_MAIL_PASSWORD": ("MAIL_PASSWORD", _text),
    "TEAMFLOW_MAIL_SENDER": ("MAIL_SENDER", _text),
}


def environment(environ: Mapping[str, str]) -> str:
    """Return ``TEAMFLOW_ENV``: development (the default) or production.

    :raises ConfigError: any other value.
    """
    value = (environ.get("TEAMFLOW_ENV") or "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigError(f"TEAMFLOW_ENV must be development or production, not {value!r}")
    return value


def read(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the configuration the ``TEAMFLOW_*`` variables set (empty ones count as unset).

    :raises ConfigError: a value of the wrong kind, naming its variable.
    """
    settings: dict[str, Any] = {}
    for name, (key, parse) in VARIABLES.items():
        raw = environ.get(name, "")
        if raw.strip():
            settings[key] = parse(name, raw.strip())
    return settings


def check_secret_key(key: str | None, production: bool) -> None:
    """Refuse a missing or weak key in production, where every server must share one strong key.

    :raises ConfigError: no key, a short one, one of few distinct characters, or a well-known one.
    """
    if not production:
        return
    if not key:
        raise ConfigError(
            "TEAMFLOW_SECRET_KEY is required when TEAMFLOW_ENV=production; give every server the same key, "
            f"made once with: {GENERATE}"
        )
    if len(key) < MIN_KEY_LENGTH or len(set(key)) < 10 or key.strip().lower() in KNOWN_KEYS:
        raise ConfigError(
            f"TEAMFLOW_SECRET_KEY is too weak for production: use at least {MIN_KEY_LENGTH} random characters, "
            f"made with: {GENERATE}"
        )


def apply_cookie_security(config: MutableMapping[str, Any], production: bool) -> None:
    """Mark the session and remember-me cookies Secure when asked, and by default in production.

    Secure cookies travel only over HTTPS: a production server behind a TLS proxy wants them, a
    development server on http://localhost must not have them or no login would stick.
    """
    secure = config.get("SECURE_COOKIES")
    if secure is None:
        secure = production
    config["SECURE_COOKIES"] = bool(secure)
    config["SESSION_COOKIE_SECURE"] = bool(secure)
    config["REMEMBER_COOKIE_SECURE"] = bool(secure)
