"""Complaint categories of SPEC §3 (Art. 20): code -> zh-CN label. Intake
records them, dispatch's routing table maps them to departments, the pages
and reports show the labels."""

CATEGORIES: dict[str, str] = {
    "sales_contract": "营销签约类",
    "sales_licence": "销售证照类",
    "property_certificate": "房产证类",
    "delivery_certificate": "交楼证照类",
    "delivery_delay_progress": "延期交楼类（工程进度类）",
    "delivery_delay_quality": "延期交楼类（工程质量类）",
    "planning_change": "规划设计类（规划变更）",
    "design_defect": "规划设计类（设计缺陷）",
    "living_amenities": "园区配套类（生活配套）",
    "infrastructure": "园区配套类（基础设施）",
    "leasing": "租赁管理类",
    "property_service": "物业服务类",
    "maintenance_repair": "维保修类",
}


def category_label(code: str) -> str:
    """The zh-CN label of a category code; an unknown code as it is."""
    return CATEGORIES.get(code, code)
