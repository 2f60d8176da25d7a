"""Login by one-time SMS code, and opaque bearer tokens (hashed at rest) with refresh and revocation.

Failures that must leave a trace (a wrong code counts an attempt; a replayed refresh token revokes
its whole session) return None instead of raising, so the caller can commit the trace and then
answer 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from carbon_platform import sms
from carbon_platform.clock import utcnow
from carbon_platform.extensions import db
from carbon_platform.models import Audience, AuthToken, LoginCode, TokenKind
from carbon_platform.services.identity import normalise_phone

TOKEN_PREFIX = "ct_"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: str


def _code_hash(phone: str, audience: Audience, code: str) -> str:
    # Keyed: a six-digit code hashed without a key is reversed by trying all million.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{audience}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_login_code(phone: str, audience: Audience, *, deliver: bool = True) -> LoginCode:
    """Issue a fresh code (older unused ones stop working) and text it unless ``deliver`` is False.

    ``deliver=False`` is for phone numbers that may not log in to this audience: the caller answers
    exactly as for a real one, so the endpoint does not reveal who is registered.
    """
    phone = normalise_phone(phone)
    now = utcnow()
    db.session.execute(
        sa.update(LoginCode)
        .where(LoginCode.phone == phone, LoginCode.audience == audience, LoginCode.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    login_code = LoginCode(
        phone=phone,
        audience=audience,
        code_hash=_code_hash(phone, audience, code),
        expires_at=now + timedelta(seconds=current_app.config["OTP_TTL_SECONDS"]),
    )
    db.session.add(login_code)
    if deliver:
        minutes = current_app.config["OTP_TTL_SECONDS"] // 60
        sms.sender().send(phone, f"【碳惠泰安】验证码 {code}，{minutes} 分钟内有效。请勿告诉他人。")
    return login_code


def check_login_code(phone: str, audience: Audience, code: str, *, consume: bool = True) -> bool:
    """True once for the right code; a wrong one counts an attempt (the caller commits either way).

    ``consume=False`` checks the code and leaves it usable, still counting the attempt: for a login
    that must first ask which of several accounts the phone means.
    """
    phone = normalise_phone(phone)
    now = utcnow()
    login_code = db.session.execute(
        sa.select(LoginCode)
        .where(LoginCode.phone == phone, LoginCode.audience == audience, LoginCode.consumed_at.is_(None))
        .order_by(LoginCode.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if login_code is None or login_code.expires_at <= now:
        return False
    login_code.attempts += 1
    if login_code.attempts >= current_app.config["OTP_MAX_ATTEMPTS"]:
        login_code.consumed_at = now  # no more guesses on this code
    if not isinstance(code, str) or not hmac.compare_digest(login_code.code_hash,
                                                            _code_hash(phone, audience, code.strip())):
        return False
    if consume:
        login_code.consumed_at = now
    return True


def issue_tokens(audience: Audience, subject_id: int, session_id: str | None = None) -> TokenPair:
    now = utcnow()
    session_id = session_id or secrets.token_hex(16)
    access, refresh = TOKEN_PREFIX + secrets.token_urlsafe(32), TOKEN_PREFIX + secrets.token_urlsafe(32)
    access_ttl = timedelta(seconds=current_app.config["ACCESS_TOKEN_TTL_SECONDS"])
    refresh_ttl = timedelta(days=current_app.config["REFRESH_TOKEN_TTL_DAYS"])
    for token, kind, ttl in ((access, TokenKind.ACCESS, access_ttl), (refresh, TokenKind.REFRESH, refresh_ttl)):
        db.session.add(AuthToken(token_hash=token_hash(token), kind=kind, audience=audience, subject_id=subject_id,
                                 session_id=session_id, expires_at=now + ttl))
    return TokenPair(access, refresh, int(access_ttl.total_seconds()), session_id)


def _find(token: str, kind: TokenKind) -> AuthToken | None:
    if not _well_formed(token):
        return None
    return db.session.execute(
        sa.select(AuthToken).where(AuthToken.token_hash == token_hash(token), AuthToken.kind == kind)
    ).scalar_one_or_none()


def _well_formed(token: str) -> bool:
    return isinstance(token, str) and token.startswith(TOKEN_PREFIX) and len(token) <= 100


def access_query(subjects: Mapping[Audience, type]) -> sa.Select:
    """The query ``authenticate_access`` runs: an access token by its hash, with the subject it was issued to
    for each audience in ``subjects`` (audience -> the subject's mapped class) and what that class loads joined
    (a resident's account, a staff member's merchant), so that a request finds its token and its resident
    (say) in one statement. Build it once and keep it."""
    query = sa.select(AuthToken, *subjects.values()).where(
        AuthToken.token_hash == sa.bindparam("hash"), AuthToken.kind == TokenKind.ACCESS)
    for audience, model in subjects.items():
        query = query.outerjoin(model, sa.and_(AuthToken.audience == audience, model.id == AuthToken.subject_id))
        relations = [r.class_attribute for r in sa.inspect(model).relationships if r.lazy == "joined"]
        # A subject's eager inner joins (a resident's account) would make its outer join an inner one.
        query = query.options(*(orm.joinedload(r, innerjoin=False) for r in relations))
    return query


_ACCESS_TOKEN = access_query({})


def authenticate_access(token: str, query: sa.Select = _ACCESS_TOKEN) -> sa.Row | None:
    """The live (unrevoked, unexpired) access token ``token`` names, as a row of the token and the subjects
    ``query`` (from ``access_query``) loads: the one its audience names, None for the others. The one way a
    request authenticates with a bearer token."""
    if not _well_formed(token):
        return None
    found = db.session.execute(query, {"hash": token_hash(token)}).one_or_none()
    if found is None or not _live(found[0]):
        return None
    return found


def _live(token: AuthToken) -> bool:
    """Neither revoked nor expired."""
    return token.revoked_at is None and token.expires_at > utcnow()


def refresh(refresh_token: str) -> TokenPair | None:
    """Rotate: the refresh token and the session's access tokens are spent, a new pair is issued.

    A refresh token used twice means it was copied: the whole session is revoked, including any tokens
    a racing refresh minted. The session is locked first (``_lock_sessions``), then the token is spent by
    one guarded statement, so of any number of refreshes racing on one token exactly one wins, and every
    other one sees the winner's tokens committed and revokes them.
    """
    found = _find(refresh_token, TokenKind.REFRESH)
    if found is None:
        return None
    session_id = found.session_id
    _lock_sessions(AuthToken.session_id == session_id)
    now = utcnow()
    spent = db.session.execute(
        sa.update(AuthToken)
        .where(AuthToken.id == found.id, AuthToken.revoked_at.is_(None), AuthToken.expires_at > now)
        .values(revoked_at=now)
    ).rowcount
    if not spent:
        # Read again, under the lock: ``found`` may predate the rotation that spent it.
        revoked = db.session.execute(sa.select(AuthToken.revoked_at).where(AuthToken.id == found.id)).scalar_one()
        if revoked is not None:
            revoke_session(session_id)
        return None  # reused, or expired
    revoke_session(session_id)
    return issue_tokens(found.audience, found.subject_id, session_id)


def _lock_sessions(*where: sa.ColumnElement[bool]) -> None:
    """Lock each session that has a token matching ``where``, by its first token's row, in id order.

    There is no session row, so a session's first token stands for it. Every write to a session's tokens
    (refresh, log out, log out everywhere) takes this lock before any other, which (1) makes a revocation
    see the tokens a racing refresh minted (under READ COMMITTED an UPDATE that waited for a row lock still
    misses rows committed after it began; a statement after the lock sees them) and (2) keeps two writers
    from locking the same tokens in opposite orders (a deadlock). On SQLite a writing request already holds the
    database's write lock from its ``BEGIN IMMEDIATE`` (see ``carbon_platform.db.will_write``), which serialises
    the same way.
    """
    first = sa.select(sa.func.min(AuthToken.id)).where(*where).group_by(AuthToken.session_id)
    db.session.execute(sa.select(AuthToken.id).where(AuthToken.id.in_(first)).order_by(AuthToken.id)
                       .with_for_update()).all()


def revoke_session(session_id: str) -> int:
    _lock_sessions(AuthToken.session_id == session_id)
    return db.session.execute(
        sa.update(AuthToken)
        .where(AuthToken.session_id == session_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


def revoke_all(audience: Audience, subject_id: int) -> int:
    """Log out everywhere."""
    _lock_sessions(AuthToken.audience == audience, AuthToken.subject_id == subject_id)
    return db.session.execute(
        sa.update(AuthToken)
        .where(AuthToken.audience == audience, AuthToken.subject_id == subject_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount
