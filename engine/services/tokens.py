"""Create, list, check and revoke personal API tokens; only a SHA-256 digest of each is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.errors import FieldProblem, InvalidInputError, NotFoundError
from engine.models import ApiToken
from engine.repositories import people as repo
from engine.services import people
from engine.views import TokenView, UserView

PREFIX = "tf_"
MAX_DAYS = 3650
MAX_TOKENS = 50
# Writing the last use on every request would cost a write per request; a minute is precise enough.
USE_PRECISION = timedelta(seconds=60)


def digest(secret: str) -> str:
    """Return the stored form of a token: the hex SHA-256 of its text."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _view(token: ApiToken) -> TokenView:
    return TokenView(token.id, token.name, token.created_at, token.expires_at, token.last_used_at)


def create_token(session: Session, user_name: str, name: str, expires_days: int | None = None) -> tuple[TokenView, str]:
    """Create a token for a user; return it and its secret, which is shown this once and never stored.

    :raises NotFoundError: no such user.
    :raises InvalidInputError: empty or too long name, expiry outside 1..3650 days, too many tokens.
    """
    user = repo.get_user(session, user_name)
    if user is None or not user.active:
        raise NotFoundError(f"user {user_name!r} not found")
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise InvalidInputError("token name", [FieldProblem("name", "a name of 1 to 100 characters is required")])
    if expires_days is not None and not 1 <= expires_days <= MAX_DAYS:
        message = f"between 1 and {MAX_DAYS} days, or empty for no expiry"
        raise InvalidInputError(f"expires_days: {message}", [FieldProblem("expires_days", message)])
    if len(repo.tokens_of(session, user.id)) >= MAX_TOKENS:
        message = f"at most {MAX_TOKENS} tokens; revoke one first"
        raise InvalidInputError(message, [FieldProblem("name", message)])
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = repo.add_token(
        session,
        ApiToken(
            user_id=user.id,
            name=name,
            digest=digest(secret),
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        ),
    )
    return _view(token), secret


def list_tokens(session: Session, user_name: str) -> list[TokenView]:
    """Return a user's tokens, newest first.

    :raises NotFoundError: no such user.
    """
    user = repo.get_user(session, user_name)
    if user is None:
        raise NotFoundError(f"user {user_name!r} not found")
    return [_view(t) for t in repo.tokens_of(session, user.id)]


def revoke_token(session: Session, user_name: str, token_id: int) -> None:
    """Delete one of a user's tokens; requests carrying it are refused from now on.

    :raises NotFoundError: no such token of this user.
    """
    user = repo.get_user(session, user_name)
    token = repo.get_token(session, token_id)
    if user is None or token is None or token.user_id != user.id:
        raise NotFoundError(f"token {token_id} not found")
    repo.delete_token(session, token)


def authenticate_token(session: Session, secret: str, now: datetime | None = None) -> tuple[UserView, int] | None:
    """Return the token's active user and whether its last use is due to be recorded (its id, else 0).

    None for an unknown, expired or revoked token, or a disabled user.
    """
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = repo.token_by_digest(session, digest(secret))
    now = now or utcnow()
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = repo.get_user_by_id(session, token.user_id)
    if user is None or not user.active:
        return None
    stale = token.last_used_at is None or now - token.last_used_at >= USE_PRECISION
    return people.to_view(user), token.id if stale else 0


def record_use(session: Session, token_id: int) -> None:
    """Note that a token was used now."""
    token = repo.get_token(session, token_id)
    if token is not None:
        token.last_used_at = utcnow()
        session.flush()
