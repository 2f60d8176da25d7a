"""A voucher leaves ``issued`` once: consumed, cancelled or expired, never two of them, and a refund or a
unit back in stock only for the transition that won. Raced on both databases; the invariant check sees
the broken states the races used to leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import DomainError
from carbon_platform.extensions import db
from carbon_platform.models import (
    CarbonAccount,
    MerchantStaff,
    Resident,
    Reward,
    StockChange,
    Voucher,
    VoucherStatus,
)
from carbon_platform.services import invariants, ledger, vouchers
from tests import factories as f
from tests.concurrency import run_concurrently

REPETITIONS = 30
PRICE = 300


def _issue(app, *, days: int = 30) -> tuple[int, int, int, int]:
    """(voucher id, staff id, account id, reward id): a fresh reward with one unit, redeemed by a new resident."""
    with app.app_context():
        merchant = f.merchant(name="泰山低碳咖啡")
        staff = f.staff(merchant)
        reward = f.reward(merchant, stock=1, points_price=PRICE, voucher_days=days)
        resident = f.resident()
        f.fund(resident.account_id, PRICE)
        voucher = vouchers.redeem(resident, reward.id, client_key="k").voucher
        commit()
        return voucher.id, staff.id, resident.account_id, reward.id


def _state(app, voucher_id: int, account_id: int, reward_id: int) -> tuple[VoucherStatus, int, int, int]:
    """(status, refunded points, the resident's available points, the reward's stock), as committed."""
    with app.app_context():
        voucher = db.session.get(Voucher, voucher_id)
        return (voucher.status, voucher.refunded_points, db.session.get(CarbonAccount, account_id).points_available,
                db.session.get(Reward, reward_id).stock)


def _consume(voucher_id: int, staff_id: int, now=None) -> str:
    voucher = db.session.get(Voucher, voucher_id)
    return vouchers.consume(db.session.get(MerchantStaff, staff_id), vouchers.code_of(voucher), "scan-00000001",
                            now=now).outcome


# What the voucher, the resident and the stock may look like afterwards: one or the other, never a mixture.
CONSUMED = (VoucherStatus.CONSUMED, 0, 0, 0)
CANCELLED = (VoucherStatus.CANCELLED, PRICE, PRICE, 1)


@pytest.mark.concurrency
def test_cancel_raced_against_a_till_scan_never_lets_both_win(app):
    for repetition in range(REPETITIONS):
        voucher_id, staff_id, account_id, reward_id = _issue(app)

        def cancel_or_consume(i: int, v=voucher_id, s=staff_id) -> str:
            if i == 0:
                vouchers.cancel(db.session.get(Voucher, v), reason="changed my mind")
                return "cancelled"
            return _consume(v, s)

        outcomes = run_concurrently(app, cancel_or_consume, 2)
        assert not outcomes.errors, f"repetition {repetition}: {outcomes.errors}"
        state = _state(app, voucher_id, account_id, reward_id)
        if state == CONSUMED:  # the scan won: the cancel was refused and gave nothing back
            assert outcomes.ok == ["consumed"] and outcomes.refused_codes == {"voucher_not_open": 1}, repetition
        else:  # the cancel won: the till was told so, and handed nothing over
            assert state == CANCELLED, f"repetition {repetition}: {state}"
            assert sorted(outcomes.ok) == ["cancelled", "cancelled"] and not outcomes.refused, repetition
        with app.app_context():
            assert invariants.verify() == [], f"repetition {repetition}"


@pytest.mark.concurrency
def test_the_expiry_job_raced_against_a_till_scan_never_lets_both_win(app):
    """The job may run with a later clock than the till's (``--now``): the guard, not the clocks, decides."""
    for repetition in range(REPETITIONS):
        voucher_id, staff_id, account_id, reward_id = _issue(app, days=1)
        till_now, job_now = utcnow(), utcnow() + timedelta(days=2)

        def expire_or_consume(i: int, v=voucher_id, s=staff_id, job=job_now, till=till_now) -> str:
            if i == 0:
                return "expired" if list(vouchers.expire_due(job)) else "nothing due"
            return _consume(v, s, now=till)

        outcomes = run_concurrently(app, expire_or_consume, 2)
        assert not outcomes.errors and not outcomes.refused, f"repetition {repetition}: {outcomes.errors}"
        status, refunded, available, stock = _state(app, voucher_id, account_id, reward_id)
        if status is VoucherStatus.CONSUMED:
            assert (refunded, available, stock) == (0, 0, 0), f"repetition {repetition}"
            assert "consumed" in outcomes.ok, repetition
        else:  # expired first: refunded per the reward (the default refunds), and the till saw "expired"
            assert (status, refunded, available, stock) == (VoucherStatus.EXPIRED, PRICE, PRICE, 0), repetition
            assert "consumed" not in outcomes.ok, f"repetition {repetition}: {outcomes.ok}"
        with app.app_context():
            assert invariants.verify() == [], f"repetition {repetition}"


def test_a_voucher_past_its_expiry_cannot_be_cancelled_around_the_expiry_policy(app, ctx):
    """Before the job has closed it, an expired voucher is still ``issued``: cancelling it then would refund
    points the reward's policy forfeits."""
    voucher_id, _staff, account_id, reward_id = _issue(app, days=1)
    voucher = db.session.get(Voucher, voucher_id)
    with pytest.raises(DomainError) as caught:
        vouchers.cancel(voucher, reason="too late", now=utcnow() + timedelta(days=2))
    assert (caught.value.code, caught.value.details["voucher_status"]) == ("voucher_not_open", "expired")
    db.session.rollback()
    assert _state(app, voucher_id, account_id, reward_id) == (VoucherStatus.ISSUED, 0, 0, 0)


# -- the invariant check sees each broken state ----------------------------------------------------------------


@pytest.fixture
def issued(app, ctx):
    """A committed voucher, and a way to see which voucher drifts the check reports (the test rolls back)."""
    voucher_id, staff_id, _account, _reward = _issue(app)
    voucher = db.session.get(Voucher, voucher_id)
    yield voucher, db.session.get(MerchantStaff, staff_id)
    db.session.rollback()  # the broken states are never committed


def drifts(voucher) -> set[tuple[str, int, int]]:
    subject = f"voucher {voucher.id}"
    return {(d.check, d.expected, d.actual) for d in invariants.verify() if d.subject == subject}


def _cancel_unguarded(voucher) -> None:
    """What the old cancel did once a scan had slipped in: status overwritten, points and unit given back."""
    db.session.execute(sa.update(Voucher).where(Voucher.id == voucher.id).values(
        status=VoucherStatus.CANCELLED, closed_at=utcnow(), refunded_points=PRICE))
    ledger.refund(voucher.spend_journal_id, idempotency_key=f"voucher:{voucher.id}", reason="raced")
    _return_unit(voucher)


def _return_unit(voucher) -> None:
    stock = db.session.execute(sa.update(Reward).where(Reward.id == voucher.reward_id)
                               .values(stock=Reward.stock + 1).returning(Reward.stock)).scalar_one()
    db.session.add(StockChange(reward_id=voucher.reward_id, delta=1, stock_after=stock,
                               reason=f"voucher {voucher.id} cancelled", actor="system"))
    db.session.flush()


def test_a_voucher_both_consumed_and_refunded_is_reported(issued):
    voucher, staff = issued
    assert vouchers.consume(staff, vouchers.code_of(voucher), "scan-00000001").outcome == "consumed"
    assert drifts(voucher) == set()
    _cancel_unguarded(voucher)
    assert drifts(voucher) == {
        ("a consumed voucher is never refunded (points)", 0, PRICE),
        ("a consumed voucher's unit never returns to stock", 0, 1),
        ("a consumed voucher stays consumed, for settlement", 1, 0),
    }


def test_a_refund_the_voucher_does_not_record_is_reported(issued):
    voucher, staff = issued
    vouchers.consume(staff, vouchers.code_of(voucher), "scan-00000001")
    ledger.refund(voucher.spend_journal_id, idempotency_key=f"voucher:{voucher.id}", reason="by hand")
    assert drifts(voucher) == {
        ("voucher's refunded points equal its refund journals", PRICE, 0),
        ("a consumed voucher is never refunded (points)", 0, PRICE),
    }


def test_a_cancelled_voucher_must_be_refunded_and_restocked_exactly_once(issued):
    voucher, _staff = issued
    db.session.execute(sa.update(Voucher).where(Voucher.id == voucher.id).values(
        status=VoucherStatus.CANCELLED, closed_at=utcnow()))  # closed without its refund or its unit
    assert drifts(voucher) == {("a cancelled voucher is refunded in full (points)", PRICE, 0),
                               ("a cancelled voucher's unit returns to stock once", 1, 0)}
    db.session.rollback()
    vouchers.cancel(db.session.get(Voucher, voucher.id), reason="properly")
    assert drifts(voucher) == set()
    _return_unit(voucher)  # a second unit back for the same voucher: stock and its journal agree, yet wrong
    assert drifts(voucher) == {("a cancelled voucher's unit returns to stock once", 1, 2)}


def test_an_open_voucher_neither_refunded_nor_restocked(issued):
    voucher, _staff = issued
    _return_unit(voucher)
    ledger.refund(voucher.spend_journal_id, idempotency_key=f"voucher:{voucher.id}", reason="by hand")
    assert drifts(voucher) == {
        ("voucher's refunded points equal its refund journals", PRICE, 0),
        ("an issued voucher is not refunded (points)", 0, PRICE),
        ("an issued or expired voucher's unit never returns to stock", 0, 1),
    }


def test_stock_that_disagrees_with_its_journal_is_reported(issued):
    voucher, _staff = issued
    db.session.execute(sa.update(Reward).where(Reward.id == voucher.reward_id).values(stock=Reward.stock + 2))
    [drift] = invariants.verify()
    assert (drift.subject, drift.expected, drift.actual) == (f"reward {voucher.reward_id}", 0, 2)


def test_ledger_verify_reports_a_consumed_and_refunded_voucher_and_fails(app, runner):
    voucher_id, staff_id, _account, _reward = _issue(app)
    with app.app_context():
        voucher = db.session.get(Voucher, voucher_id)
        vouchers.consume(db.session.get(MerchantStaff, staff_id), vouchers.code_of(voucher), "scan-00000001")
        _cancel_unguarded(voucher)
        commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and f"voucher {voucher_id}" in result.output, result.output
    with app.app_context():  # entries are append-only: make it a plain cancelled voucher for the fixture's check
        db.session.execute(sa.update(Voucher).where(Voucher.id == voucher_id).values(
            consumed_at=None, consumed_by_id=None, scan_nonce=None))
        commit()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0


def test_ledger_verify_finds_nothing_on_the_demo_data_once_its_voucher_is_used_and_another_cancelled(app, runner):
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        demo = db.session.execute(sa.select(Voucher)).scalar_one()
        till = f.staff(demo.reward.merchant)
        assert vouchers.consume(till, vouchers.code_of(demo), "scan-00000001").outcome == "consumed"
        resident = db.session.execute(sa.select(Resident).where(Resident.account_id == demo.account_id)).scalar_one()
        vouchers.cancel(vouchers.redeem(resident, demo.reward_id, client_key="again").voucher, reason="demo")
        commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "no drift" in result.output, result.output
