"""Role codes of SPEC §1, as the directory and the gateway spell them."""

CENTRE_GM = "centre_gm"
CENTRE_DEPUTY_GM = "centre_deputy_gm"
CENTRE_STAFF = "centre_staff"
VP = "vp"
SPECIALIST = "specialist"
HEAD = "head"
SUPERVISING_LEADER = "supervising_leader"
CHAIRMAN = "chairman"
PROJECT_GM = "project_gm"
HR = "hr"
FINANCE = "finance"
ADMIN = "admin"
# Not in SPEC §1's table, which names only the head: the people of a
# department who go on visits and write progress for it (Art. 22, 24, 26).
DEPARTMENT_STAFF = "department_staff"

ALL = frozenset({CENTRE_GM, CENTRE_DEPUTY_GM, CENTRE_STAFF, VP, SPECIALIST, HEAD,
                 SUPERVISING_LEADER, CHAIRMAN, PROJECT_GM, HR, FINANCE, ADMIN,
                 DEPARTMENT_STAFF})
CENTRE = frozenset({CENTRE_GM, CENTRE_DEPUTY_GM, CENTRE_STAFF, VP})

LABELS_ZH = {
    CENTRE_GM: "售后服务中心总经理", CENTRE_DEPUTY_GM: "售后服务中心副总经理",
    CENTRE_STAFF: "售后服务中心客服人员", VP: "直管副总裁", SPECIALIST: "客服专员",
    HEAD: "部门一把手", SUPERVISING_LEADER: "分管领导", CHAIRMAN: "董事长",
    PROJECT_GM: "项目总经理", HR: "人力资源中心", FINANCE: "财务中心", ADMIN: "系统管理员",
    DEPARTMENT_STAFF: "部门员工",
}
