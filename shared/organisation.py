"""The organisation's vocabulary (SPEC §1, §3): role, department, tier and
unit codes. Routing, responsibility and the directory file all read these, so
a code is spelled in one place only."""
from shared import roles

# Role codes, in the order people read them (SPEC §1; shared.roles is the set).
ROLES = (
    roles.CENTRE_GM, roles.CENTRE_DEPUTY_GM, roles.CENTRE_STAFF, roles.VP,
    roles.SPECIALIST, roles.HEAD, roles.SUPERVISING_LEADER, roles.CHAIRMAN,
    roles.PROJECT_GM, roles.HR, roles.FINANCE, roles.ADMIN, roles.DEPARTMENT_STAFF,
)
assert frozenset(ROLES) == roles.ALL

# City tiers of a project (Art. 21): a capital project adds the leaders of
# design, engineering, development and marketing; a tier-3 one its project GM.
CAPITAL, TIER3, OTHER = "capital", "tier3", "other"
CITY_TIERS = (CAPITAL, TIER3, OTHER)

# Departments of a regional (real-estate) company, and the property company
# which acts as one department (Art. 20).
MARKETING = "marketing"
FINANCE_DEPT = "finance"
TREASURY = "treasury"
DEVELOPMENT = "development"
ENGINEERING = "engineering"
CHIEF_ENGINEER_OFFICE = "chief_engineer_office"
COMMERCIAL_OPERATIONS = "commercial_operations"
PROPERTY = "property"

REGION_DEPARTMENTS = (MARKETING, FINANCE_DEPT, TREASURY, DEVELOPMENT, ENGINEERING,
                      CHIEF_ENGINEER_OFFICE, COMMERCIAL_OPERATIONS)
DEPARTMENTS = REGION_DEPARTMENTS + (PROPERTY,)

DEPARTMENT_NAMES_ZH = {
    MARKETING: "营销部", FINANCE_DEPT: "财务部", TREASURY: "资金部", DEVELOPMENT: "开发部",
    ENGINEERING: "工程部", CHIEF_ENGINEER_OFFICE: "总工室",
    COMMERCIAL_OPERATIONS: "商业经营管理部", PROPERTY: "物业公司",
}

# What a company leader may supervise: any department, plus design and
# quality management, which the regulation names without a department.
DESIGN, QUALITY = "design", "quality"
SUPERVISION_AREAS = DEPARTMENTS + (DESIGN, QUALITY)
AREA_NAMES_ZH = {
    MARKETING: "营销", FINANCE_DEPT: "财务", TREASURY: "资金", DEVELOPMENT: "开发",
    ENGINEERING: "工程", CHIEF_ENGINEER_OFFICE: "总工室", COMMERCIAL_OPERATIONS: "商业经营",
    PROPERTY: "物业", DESIGN: "设计", QUALITY: "品质管理",
}

# Leaders who share responsibility beyond the department's own supervisor (Art. 21.1).
CAPITAL_LEADER_AREAS = (DESIGN, ENGINEERING, DEVELOPMENT, MARKETING)
PROPERTY_LEADER_AREAS = (ENGINEERING, QUALITY)

# Organisation units.
UNIT_CENTRE = "centre"
UNIT_GROUP = "group_unit"
UNIT_REGION_COMPANY = "region_company"
UNIT_PROPERTY_COMPANY = "property_company"
UNIT_DEPARTMENT = "department"
UNIT_DESK = "desk"
UNIT_KINDS = (UNIT_CENTRE, UNIT_GROUP, UNIT_REGION_COMPANY, UNIT_PROPERTY_COMPANY,
              UNIT_DEPARTMENT, UNIT_DESK)

# Positions a person holds in a unit (the directory's `positions`).
POS_CENTRE_GM = roles.CENTRE_GM
POS_CENTRE_DEPUTY_GM = roles.CENTRE_DEPUTY_GM
POS_CENTRE_STAFF = roles.CENTRE_STAFF
POS_VP = roles.VP
POS_CHAIRMAN = roles.CHAIRMAN
POS_HEAD = roles.HEAD
POS_SUPERVISING_LEADER = roles.SUPERVISING_LEADER
POS_LEADER = "leader"  # a company leader with supervised areas
POSITION_NAMES_ZH = {
    POS_CENTRE_GM: "总经理", POS_CENTRE_DEPUTY_GM: "副总经理", POS_CENTRE_STAFF: "客服人员",
    POS_VP: "直管副总裁", POS_CHAIRMAN: "董事长", POS_HEAD: "一把手",
    POS_SUPERVISING_LEADER: "分管领导", POS_LEADER: "公司领导",
}

# A desk stays open until six months after the last delivery (Art. 7); a
# specialist rotates every six months (Art. 43).
DESK_OPEN_MONTHS_AFTER_LAST_DELIVERY = 6
ROTATION_MONTHS = 6


def department_unit_id(company_id: str, department: str) -> str:
    """Unit id of a regional company's department; the property company is its own."""
    return company_id if department == PROPERTY else f"{company_id}.{department}"


def desk_unit_id(project_id: str) -> str:
    return f"{project_id}.desk"
