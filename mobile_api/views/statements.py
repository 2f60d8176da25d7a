"""Public: whether an enterprise's carbon-account statement is genuine and current (issue #18 item 6).

A bank, or anyone an enterprise shows a statement to, checks it here without an account: by its serial (printed
on the PDF and the XLSX, in the QR code of the check page) or by posting the JSON download, whose Ed25519
signature is checked against the platform's keys (``/statements/keys``, to check it offline too). The answer
gives the statement's headline figures to compare with the copy in hand, and nothing else of the account.
"""

from __future__ import annotations

from flask import current_app, request
from marshmallow import RAISE

from carbon_platform.extensions import limiter
from carbon_platform.services import statement_signing, statements
from mobile_api.blueprint import Blueprint
from mobile_api.schemas.common import NoBody as NoQuery
from mobile_api.schemas.enterprise import PublicKeySchema, StatementCheckSchema, StatementDownloadSchema

blp = Blueprint("statements", __name__, url_prefix="/api/v1/statements",
                description="Public: check an enterprise's carbon-account statement.")
#: Serials are 70 random bits, so guessing is hopeless; the limit keeps anyone from trying at scale anyway.
check_limit = limiter.limit(lambda: current_app.config["STATEMENT_CHECK_LIMIT"],
                            key_func=lambda: f"statement-check:{request.remote_addr}")


def checked(verification: statements.Verification) -> dict:
    statement = verification.statement
    if statement is None:  # every field present (the schema says so), none of them about any statement
        return {**dict.fromkeys(StatementCheckSchema().fields), "genuine": False, "why_not": verification.why_not}
    document = statement.document
    year = document["year"] or {}
    return {"genuine": verification.genuine, "why_not": verification.why_not, "serial": statement.serial,
            "enterprise": document["enterprise"]["name"], "uscc": document["enterprise"]["uscc"],
            "period_from": statement.period_from, "period_to": statement.period_to,
            "issued_at": statement.issued_at, "total_kg": document["emissions"]["total_kg"],
            "grade": year.get("grade"), "digest": statement.digest, "status": verification.status}


@blp.get("/keys")
@blp.arguments(NoQuery, location="query", unknown=RAISE)  # webargs excludes by default
@blp.response(200, PublicKeySchema(many=True))
@blp.doc(security=[])
def keys(_query):
    """The Ed25519 public keys statements are signed with: the current one first, then retired ones."""
    return statement_signing.published_keys()


@blp.get("/<serial>")
@blp.arguments(NoQuery, location="query", unknown=RAISE)
@blp.response(200, StatementCheckSchema)
@blp.doc(security=[])
@check_limit
def check(_query, serial: str):
    """A statement by its serial: who and what period it is for, its total and grade, its digest, and whether it is
    still current (or which later statement, or which correction, superseded it). 404 for no such serial."""
    statement = statements.by_serial(serial)
    return checked(statements.Verification(True, None, statement, statements.status(statement)))


@blp.post("/verify")
@blp.arguments(StatementDownloadSchema)
@blp.response(200, StatementCheckSchema)
@blp.doc(security=[])
@check_limit
def verify(body):
    """Check a statement's JSON download: its signature against the platform's keys, and that the platform issued
    exactly this document. ``genuine: false`` with ``why_not`` for a changed, unsigned or unknown one."""
    return checked(statements.verify(body))
