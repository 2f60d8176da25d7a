"""Redemption, vouchers, refunds, consumption, settlement and liability, through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from carbon_platform.clock import utcnow
from carbon_platform.db import commit
from carbon_platform.errors import DomainError, Forbidden, IdempotencyConflict
from carbon_platform.extensions import db
from carbon_platform.models import AuditEvent, CarbonAccount, PointLot, Reward, StockChange, Voucher, VoucherStatus
from carbon_platform.services import invariants, rewards, vouchers
from tests import factories as f


@pytest.fixture
def shop(ctx):
    merchant = f.merchant(name="泰山低碳咖啡")
    world = {"merchant": merchant, "cashier": f.staff(merchant), "reward": f.reward(merchant, stock=5)}
    commit()
    return world


def stock_of(reward) -> int:
    return db.session.execute(sa.select(Reward.stock).where(Reward.id == reward.id)).scalar_one()


def available(resident) -> int:
    return db.session.execute(sa.select(CarbonAccount.points_available)
                              .where(CarbonAccount.id == resident.account_id)).scalar_one()


def resident_with(points: int, **fund):
    resident = f.resident()
    if points:
        f.fund(resident.account_id, points, **fund)
    commit()  # a refusal's rollback must not take the resident with it
    return resident


def test_a_redemption_spends_soonest_expiring_points_takes_stock_and_issues_a_voucher(shop):
    resident = resident_with(0)
    f.fund(resident.account_id, 200, expires_in_days=300)
    soon = f.fund(resident.account_id, 200, expires_in_days=20)
    voucher = vouchers.redeem(resident, shop["reward"].id, client_key="k1").voucher
    assert (voucher.status, voucher.points, voucher.face_value_fen) == (VoucherStatus.ISSUED, 300, 1500)
    assert stock_of(shop["reward"]) == 4 and available(resident) == 100
    soon_lot = db.session.execute(sa.select(PointLot).where(PointLot.journal_id == soon.id)).scalar_one()
    assert soon_lot.remaining == 0  # the 20-day lot went first, then 100 of the 300-day one


def test_the_same_key_returns_the_same_voucher_and_a_changed_request_is_refused(shop):
    resident = resident_with(1000)
    first = vouchers.redeem(resident, shop["reward"].id, client_key="k1")
    again = vouchers.redeem(resident, shop["reward"].id, client_key="k1")
    assert (again.voucher.id, again.replayed, first.replayed) == (first.voucher.id, True, False)
    other = f.reward(shop["merchant"])
    with pytest.raises(IdempotencyConflict):
        vouchers.redeem(resident, other.id, client_key="k1")
    assert available(resident) == 700


def refusal(resident, reward, key: str) -> str:
    """The code a redemption is refused with; the request's transaction is rolled back, as the API does."""
    with pytest.raises(DomainError) as caught:
        vouchers.redeem(resident, reward.id, client_key=key)
    db.session.rollback()
    return caught.value.code


def test_each_refusal_has_its_own_code_and_writes_nothing(shop):
    merchant = shop["merchant"]
    empty, limited = f.reward(merchant, stock=0), f.reward(merchant, limit_count=1, limit_period="day")
    elsewhere, withdrawn = f.reward(merchant, districts=["370911"]), f.reward(merchant, stock=3)
    rewards.update(withdrawn, active=False, actor=f.TEST_ACTOR)
    commit()
    poor, rich = resident_with(100), resident_with(5000)
    vouchers.redeem(rich, limited.id, client_key="first")
    commit()
    codes = [refusal(poor, shop["reward"], "k0"), refusal(rich, empty, "k1"), refusal(rich, limited, "k2"),
             refusal(rich, elsewhere, "k3"), refusal(rich, withdrawn, "k4")]
    assert codes == ["insufficient_points", "out_of_stock", "limit_reached", "not_eligible", "reward_unavailable"]
    assert [stock_of(r) for r in (shop["reward"], limited, elsewhere, withdrawn)] == [5, 9, 10, 3]
    assert (available(poor), available(rich)) == (100, 5000 - 300)


def test_cancelling_refunds_lots_with_their_original_expiry_and_restocks(shop):
    resident = resident_with(0)
    f.fund(resident.account_id, 200, expires_in_days=20)
    f.fund(resident.account_id, 200, expires_in_days=300)
    voucher = vouchers.redeem(resident, shop["reward"].id, client_key="k").voucher
    vouchers.cancel(voucher, reason="changed my mind", actor=f.TEST_ACTOR)
    assert (voucher.status, voucher.refunded_points) == (VoucherStatus.CANCELLED, 300)
    assert available(resident) == 400
    refunded = db.session.execute(
        sa.select(PointLot.points, PointLot.remaining, PointLot.expires_at)
        .where(PointLot.account_id == resident.account_id).order_by(PointLot.id)
    ).all()
    # lots: 200 (20 days), 200 (300 days), then the refunds: 200 from the first, 100 from the second,
    # each with its source's expiry
    assert [(p, r) for p, r, _e in refunded] == [(200, 0), (200, 100), (200, 200), (100, 100)]
    assert refunded[2].expires_at == refunded[0].expires_at and refunded[3].expires_at == refunded[1].expires_at
    assert stock_of(shop["reward"]) == 5
    with pytest.raises(DomainError) as again:
        vouchers.cancel(voucher, reason="twice")
    assert again.value.code == "voucher_not_open"


def test_expired_vouchers_are_refunded_or_not_per_the_reward_and_the_job_is_idempotent(shop):
    refundable = f.reward(shop["merchant"], refund_on_expiry=True)
    forfeit = f.reward(shop["merchant"], refund_on_expiry=False)
    resident = resident_with(1000)
    now = utcnow()
    a = vouchers.redeem(resident, refundable.id, client_key="a").voucher
    b = vouchers.redeem(resident, forfeit.id, client_key="b").voucher
    later = now + timedelta(days=31)
    assert sorted(vouchers.expire_due(later)) == sorted([a.id, b.id])
    assert list(vouchers.expire_due(later)) == []
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.status, a.refunded_points, b.status, b.refunded_points) == (
        VoucherStatus.EXPIRED, 300, VoucherStatus.EXPIRED, 0)
    assert available(resident) == 1000 - 600 + 300


def test_a_voucher_is_consumed_once_and_a_retried_scan_gets_the_same_success(shop):
    resident = resident_with(1000)
    voucher = vouchers.redeem(resident, shop["reward"].id, client_key="k").voucher
    code = vouchers.code_of(voucher)
    assert vouchers.verify(shop["cashier"], code).outcome == "valid"
    first = vouchers.consume(shop["cashier"], code, "scan-0001")
    retry = vouchers.consume(shop["cashier"], code, "scan-0001")
    other = vouchers.consume(shop["cashier"], code, "scan-0002")
    assert (first.outcome, retry.outcome, other.outcome) == ("consumed", "consumed", "already_used")
    assert other.voucher.consumed_at == first.voucher.consumed_at
    assert vouchers.verify(shop["cashier"], code).outcome == "already_used"
    assert db.session.execute(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "voucher.consume")).scalar_one() == 1


def test_the_short_code_works_like_the_qr_and_codes_cannot_be_forged(shop):
    resident = resident_with(1000)
    voucher = vouchers.redeem(resident, shop["reward"].id, client_key="k").voucher
    short = vouchers.short_code_of(voucher.id, voucher.nonce)
    assert len(short) == 10 and vouchers.find_by_code(f"{short[:5]}-{short[5:].lower()}").id == voucher.id
    code = vouchers.code_of(voucher)
    forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    assert vouchers.find_by_code(forged) is None
    assert vouchers.find_by_code(f"CV1.{voucher.id + 1}.{code.rsplit('.', 1)[1]}") is None
    assert vouchers.find_by_code("") is None and vouchers.find_by_code("CV1.x.y") is None
    assert vouchers.find_by_code(f"CV1.{voucher.id}.é") is None  # a str compare_digest refuses: never a 500
    # nothing of the code is stored: not the MAC, not the short code
    stored = db.session.execute(sa.select(Voucher.nonce, Voucher.short_code_hash)).one()
    assert code.rsplit(".", 1)[1] not in stored and short not in stored[1]


def test_another_merchants_voucher_is_refused_and_revealed_nothing(shop):
    resident = resident_with(1000)
    voucher = vouchers.redeem(resident, shop["reward"].id, client_key="k").voucher
    stranger = f.staff(f.merchant(name="别家商户"))
    with pytest.raises(Forbidden) as caught:
        vouchers.consume(stranger, vouchers.code_of(voucher), "scan-0001")
    assert caught.value.code == "other_merchant" and str(voucher.id) not in str(vars(caught.value))
    db.session.refresh(voucher)
    assert voucher.status is VoucherStatus.ISSUED


def test_stock_changes_are_journaled_and_never_go_below_zero(shop):
    reward = shop["reward"]
    rewards.change_stock(reward, 3, reason="delivery", actor=f.TEST_ACTOR)
    with pytest.raises(DomainError) as caught:
        rewards.change_stock(reward, -9, reason="too many", actor=f.TEST_ACTOR)
    assert caught.value.code == "stock_too_low"
    rewards.change_stock(reward, -8, reason="recall", actor=f.TEST_ACTOR)
    changes = db.session.execute(sa.select(StockChange.delta, StockChange.stock_after)
                                 .where(StockChange.reward_id == reward.id).order_by(StockChange.id)).all()
    assert changes == [(5, 5), (3, 8), (-8, 0)] and stock_of(reward) == 0


def test_settlement_and_liability_add_up(shop):
    resident = resident_with(1000, expires_in_days=60)
    now = utcnow()
    used = vouchers.redeem(resident, shop["reward"].id, client_key="a").voucher
    vouchers.redeem(resident, shop["reward"].id, client_key="b")
    vouchers.consume(shop["cashier"], vouchers.code_of(used), "scan-0001")
    rows = vouchers.settlement(now - timedelta(hours=1), now + timedelta(hours=1))
    assert rows == [{"merchant_id": shop["merchant"].id, "funder": "city", "vouchers": 1, "face_value_fen": 1500}]
    figures = vouchers.liability(now, fen_per_point=2)
    assert figures["outstanding_points"] == 400 and figures["outstanding_fen"] == 800
    assert (figures["expiring_30_days"], figures["expiring_90_days"]) == (0, 400)
    assert (figures["vouchers_outstanding"], figures["vouchers_outstanding_fen"]) == (1, 1500)
    commit()


def test_the_cron_commands_expire_vouchers_and_report_settlement_and_liability(app, shop):
    resident = resident_with(1000)
    used = vouchers.redeem(resident, shop["reward"].id, client_key="a").voucher
    vouchers.redeem(resident, shop["reward"].id, client_key="b")
    vouchers.consume(shop["cashier"], vouchers.code_of(used), "scan-0001")
    commit()
    runner = app.test_cli_runner()
    later = (utcnow() + timedelta(days=31)).isoformat()
    first = runner.invoke(args=["vouchers", "expire", "--now", later])
    again = runner.invoke(args=["vouchers", "expire", "--now", later])
    assert first.exit_code == 0 and "vouchers expired: 1" in first.output, first.output
    assert again.exit_code == 0 and "vouchers expired: 0" in again.output
    assert runner.invoke(args=["vouchers", "expire", "--now", "2026-01-01T00:00"]).exit_code == 2  # no zone
    hour = timedelta(hours=1)
    report = runner.invoke(args=["vouchers", "settlement", "--from", (utcnow() - hour).isoformat(),
                                 "--to", (utcnow() + hour).isoformat()])
    assert report.exit_code == 0, report.output
    assert report.output.splitlines() == ["merchant_id,funder,vouchers,face_value_fen",
                                          f"{shop['merchant'].id},city,1,1500"]
    liability = runner.invoke(args=["vouchers", "liability"])
    assert "outstanding_points: 700" in liability.output and "vouchers_outstanding: 0" in liability.output


def test_the_invariant_check_sees_stock_that_changed_without_a_record(shop):
    resident = resident_with(1000)
    vouchers.cancel(vouchers.redeem(resident, shop["reward"].id, client_key="a").voucher, reason="test")
    vouchers.redeem(resident, shop["reward"].id, client_key="b")
    assert invariants.verify() == []
    db.session.execute(sa.update(Reward).where(Reward.id == shop["reward"].id).values(stock=Reward.stock + 1))
    [drift] = invariants.verify()
    assert (drift.subject, drift.expected, drift.actual) == (f"reward {shop['reward'].id}", 4, 5)
    db.session.rollback()
