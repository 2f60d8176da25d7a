"""All models, imported here so metadata (and Alembic) sees every table."""

from carbon_platform.models.accounts import AccountKind, CarbonAccount, Enterprise, Resident
from carbon_platform.models.actions import (
    COUNTED,
    Action,
    ActionStatus,
    CampaignAward,
    CampaignBudget,
    CampaignControl,
)
from carbon_platform.models.adjustments import AdjustmentRequest, AdjustmentStatus
from carbon_platform.models.admins import Administrator, AdminRole
from carbon_platform.models.audit import AuditEvent
from carbon_platform.models.auth import Audience, AuthToken, LoginCode, TokenKind
from carbon_platform.models.banks import BankGrant, FinancialInstitution
from carbon_platform.models.base import Base
from carbon_platform.models.consent import (
    Authorisation,
    Binding,
    BindingCode,
    BindingKind,
    BindingStatus,
    EventKind,
    EventStatus,
    PartnerEvent,
)
from carbon_platform.models.energy import (
    EnergyReport,
    EnergyReportVersion,
    EnterpriseOutput,
    EnterpriseSite,
    EnterpriseStatement,
)
from carbon_platform.models.evidence import Evidence
from carbon_platform.models.households import Household, HouseholdInvitation, HouseholdMembership, MemberRole
from carbon_platform.models.ledger import (
    Book,
    Journal,
    JournalKind,
    LedgerEntry,
    LedgerShortfall,
    LotAllocation,
    PointLot,
    Unit,
)
from carbon_platform.models.merchants import Merchant, MerchantCheckin, MerchantKind, MerchantStaff, StaffRole
from carbon_platform.models.partners import Partner, PartnerKind, PartnerSecret
from carbon_platform.models.reference import District, DistrictKind
from carbon_platform.models.rewards import Funder, LimitPeriod, Reward, StockChange, Voucher, VoucherStatus
from carbon_platform.models.rules import RulebookStatus, RulebookVersion

__all__ = [
    "AdjustmentRequest", "AdjustmentStatus", "BankGrant", "FinancialInstitution",
    "Evidence", "EnergyReport", "EnergyReportVersion", "EnterpriseOutput",
    "EnterpriseSite", "EnterpriseStatement",
    "Authorisation", "Binding", "BindingCode", "BindingKind", "BindingStatus", "EventKind", "EventStatus",
    "PartnerEvent",
    "COUNTED", "Action", "ActionStatus", "CampaignAward", "CampaignBudget", "CampaignControl", "RulebookStatus",
    "RulebookVersion",
    "AccountKind", "Administrator", "AdminRole", "Audience", "AuditEvent", "AuthToken", "Base", "Book",
    "CarbonAccount", "District", "DistrictKind", "Enterprise", "Household", "HouseholdInvitation",
    "HouseholdMembership", "Journal", "JournalKind", "LedgerEntry", "LedgerShortfall", "LoginCode",
    "LotAllocation", "MemberRole", "Merchant", "MerchantCheckin", "MerchantKind", "MerchantStaff", "Partner",
    "PartnerKind", "PartnerSecret", "PointLot", "Resident", "StaffRole", "TokenKind", "Unit",
    "Funder", "LimitPeriod", "Reward", "StockChange", "Voucher", "VoucherStatus",
]
