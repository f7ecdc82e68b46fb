"""Every 重大事故隐患 criterion listed in docs/reference/REGULATIONS.md, or in an official text verified
since (GB 45067-2024 第4章, 建城规〔2023〕4号 and 建质规〔2024〕5号 in full: docs/checklists.md §9), is
an item of its industry's template(s), flagged major, with the right document and clause; and no
published template cites a determination standard that a later one repealed.

The table below is the audit trail: one row per numbered criterion of each determination standard
in the reference, mapped to the item codes that carry it. It is checked both ways: every row's
items exist and are major, and every major item of every shipped template is claimed by a row.
"""

from __future__ import annotations

import pytest

from checklists import load_all

# document id -> (words its official title must contain, 文号/标准号)
DOCUMENTS = {
    "fw-major-2017": ("烟花爆竹生产经营单位重大生产安全事故隐患判定标准", "安监总管三〔2017〕121号"),
    "hc-major-2017": ("化工和危险化学品生产经营单位重大生产安全事故隐患判定标准", "安监总管三〔2017〕121号"),
    "cn-major-2024": ("房屋市政工程生产安全重大事故隐患判定标准（2024版）", "建质规〔2024〕5号"),
    "se-inspection-57": ("特种设备安全监督检查办法", "国家市场监督管理总局令第57号"),
    "se-gb45067": ("特种设备重大事故隐患判定准则", "GB 45067-2024"),
    "gas-major-2023": ("城镇燃气经营安全重大隐患判定标准", "建城规〔2023〕4号"),
}

TEMPLATE_OF_PREFIX = {
    "FW-PW-": "fireworks.production_wholesale",
    "FW-R-": "fireworks.retail",
    "HC-P-": "hazardous_chemicals.production",
    "HC-TS-": "hazardous_chemicals.trading_storage",
    "HC-FS-": "hazardous_chemicals.filling_station",
    "CN-HM-": "construction.housing_municipal",
    "SE-": "special_equipment.user_unit",
    "GS-O-": "gas.operator",
    "GS-U-": "gas.user",
}

# (industry, document, clause as cited, criterion in short, item codes)
CRITERIA = [
    # ---- 烟花爆竹：安监总管三〔2017〕121号，二十项
    ("fireworks", "fw-major-2017", "第一项", "主要负责人、安全管理人员未经考核合格", ["FW-PW-010"]),
    ("fireworks", "fw-major-2017", "第二项", "特种作业人员未持证上岗；带药检维修", ["FW-PW-011", "FW-PW-012"]),
    ("fireworks", "fw-major-2017", "第三项", "职工自带工器具进厂涉药作业", ["FW-PW-040"]),
    ("fireworks", "fw-major-2017", "第四项", "作业人员超核定人数", ["FW-PW-030"]),
    ("fireworks", "fw-major-2017", "第五项", "滞留、存储药量超核定药量", ["FW-PW-031"]),
    ("fireworks", "fw-major-2017", "第六项", "内外部安全距离不足、防护屏障", ["FW-PW-032"]),
    ("fireworks", "fw-major-2017", "第七项", "防静电、防火、防雷设施缺失失效", ["FW-PW-033"]),
    ("fireworks", "fw-major-2017", "第八项", "擅自改变用途、私搭乱建", ["FW-PW-034"]),
    ("fireworks", "fw-major-2017", "第九项", "工厂围墙缺失、分区不符", ["FW-PW-035"]),
    ("fireworks", "fw-major-2017", "第十项", "氧化剂还原剂同库、预混、同房粉碎称量", ["FW-PW-041"]),
    ("fireworks", "fw-major-2017", "第十一项", "涉药机械设备未论证或擅改", ["FW-PW-042"]),
    ("fireworks", "fw-major-2017", "第十二项", "库房存储能力与设计产能不匹配", ["FW-PW-043"]),
    ("fireworks", "fw-major-2017", "第十三项", "全员责任制、隐患排查治理制度", ["FW-PW-020", "FW-PW-021"]),
    ("fireworks", "fw-major-2017", "第十四项", "出租出借转让买卖冒用伪造许可证", ["FW-PW-002"]),
    ("fireworks", "fw-major-2017", "第十五项", "超许可范围、违禁药物", ["FW-PW-004"]),
    ("fireworks", "fw-major-2017", "第十六项", "分包转包生产线、工房、库房", ["FW-PW-005"]),
    ("fireworks", "fw-major-2017", "第十七项", "一证多厂、多股东各自生产", ["FW-PW-006"]),
    ("fireworks", "fw-major-2017", "第十八项", "许可证过期、停产期间生产经营", ["FW-PW-003"]),
    (
        "fireworks",
        "fw-major-2017",
        "第十九项",
        "仓库存放其它爆炸物；违禁超标产品",
        ["FW-PW-050", "FW-PW-051", "FW-R-020"],
    ),
    ("fireworks", "fw-major-2017", "第二十项", "零售点下店上宅；零售场所使用明火", ["FW-R-010", "FW-R-030"]),
    # ---- 危险化学品：安监总管三〔2017〕121号，二十项
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第一项",
        "主要负责人和安全管理人员未经考核合格",
        ["HC-P-010", "HC-TS-010", "HC-FS-010"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第二项",
        "特种作业人员未持证上岗",
        ["HC-P-011", "HC-TS-011", "HC-FS-011"],
    ),
    ("hazardous_chemicals", "hc-major-2017", "第三项", "两重点一重大外部安全防护距离", ["HC-P-020", "HC-TS-020"]),
    ("hazardous_chemicals", "hc-major-2017", "第四项", "重点监管工艺自动化控制、紧急停车", ["HC-P-030"]),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第五项",
        "一二级重大危险源罐区紧急切断、独立SIS",
        ["HC-P-040", "HC-P-041", "HC-TS-021", "HC-TS-022"],
    ),
    ("hazardous_chemicals", "hc-major-2017", "第六项", "全压力式液化烃储罐注水措施", ["HC-P-042", "HC-TS-023"]),
    ("hazardous_chemicals", "hc-major-2017", "第七项", "液化气体充装万向管道充装系统", ["HC-P-043", "HC-TS-024"]),
    ("hazardous_chemicals", "hc-major-2017", "第八项", "剧毒气体管道穿越公共区域", ["HC-P-021"]),
    ("hazardous_chemicals", "hc-major-2017", "第九项", "架空电力线路穿越生产区", ["HC-P-022"]),
    ("hazardous_chemicals", "hc-major-2017", "第十项", "在役装置未经正规设计且未诊断", ["HC-P-031"]),
    ("hazardous_chemicals", "hc-major-2017", "第十一项", "淘汰落后工艺、设备", ["HC-P-032", "HC-TS-028"]),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十二项",
        "检测报警装置；防爆电气",
        ["HC-P-044", "HC-P-045", "HC-TS-025", "HC-TS-026", "HC-FS-020", "HC-FS-021"],
    ),
    ("hazardous_chemicals", "hc-major-2017", "第十三项", "控制室、机柜间防火防爆", ["HC-P-023"]),
    ("hazardous_chemicals", "hc-major-2017", "第十四项", "双重电源；不间断电源", ["HC-P-033", "HC-P-034"]),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十五项",
        "安全阀、爆破片未正常投用",
        ["HC-P-046", "HC-TS-027", "HC-FS-022"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十六项",
        "全员责任制；隐患排查治理制度",
        ["HC-P-050", "HC-P-051", "HC-TS-040", "HC-TS-041", "HC-FS-030", "HC-FS-031"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十七项",
        "操作规程和工艺控制指标",
        ["HC-P-052", "HC-TS-042", "HC-FS-032"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十八项",
        "动火、受限空间等特殊作业管理",
        ["HC-P-053", "HC-TS-043", "HC-FS-033"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第十九项",
        "新工艺试验论证、试生产方案、反应风险评估",
        ["HC-P-035", "HC-P-036", "HC-P-037"],
    ),
    (
        "hazardous_chemicals",
        "hc-major-2017",
        "第二十项",
        "分区分类储存、超量超品种、禁配混存",
        ["HC-P-060", "HC-TS-030", "HC-FS-034"],
    ),
    # ---- 建筑施工：建质规〔2024〕5号 第四至十七条（第十八条废止2022版），五十三项
    *[
        ("construction", "cn-major-2024", clause, what, codes)
        for clause, what, codes in [
            ("第四条第（一）项", "无安全生产许可证施工；超（无）资质承揽工程", ["CN-HM-001", "CN-HM-012"]),
            ("第四条第（二）项", "安全生产管理人员配备不足；三类人员无有效考核合格证书", ["CN-HM-013", "CN-HM-002"]),
            ("第四条第（三）项", "特种作业人员无有效操作资格证书", ["CN-HM-003"]),
            ("第四条第（四）项", "危大工程方案未编制、审核、论证；方案严重缺陷", ["CN-HM-004", "CN-HM-014"]),
            ("第四条第（五）项", "危大工程未经验收进入下道工序或投入使用", ["CN-HM-015"]),
            ("第五条第（一）项", "基坑、边坡毗邻建筑物和管线专项防护", ["CN-HM-020"]),
            ("第五条第（二）项", "基坑、边坡超挖", ["CN-HM-021"]),
            ("第五条第（三）项", "深基坑、高边坡第三方监测", ["CN-HM-022"]),
            ("第五条第（四）项", "基坑、边坡坍塌预兆未处理", ["CN-HM-023"]),
            ("第六条第（一）项", "模板支架基础承载力和变形", ["CN-HM-030"]),
            ("第六条第（二）项", "模板支架荷载超设计值", ["CN-HM-031"]),
            ("第六条第（三）项", "拆模、爬升时混凝土强度", ["CN-HM-032"]),
            ("第六条第（四）项", "未按方案顺序、分层厚度浇筑", ["CN-HM-033"]),
            ("第七条第（一）项", "脚手架基础承载力和变形", ["CN-HM-040"]),
            ("第七条第（二）项", "连墙件未设置或整层缺失", ["CN-HM-041"]),
            ("第七条第（三）项", "附着式升降脚手架防倾覆、防坠落、同步装置", ["CN-HM-043"]),
            ("第八条第（一）项", "起重机械未验收、未登记", ["CN-HM-050"]),
            ("第八条第（二）项", "起重机械基础承载力和变形", ["CN-HM-056"]),
            ("第八条第（三）项", "安拆、爬升（降）、附着前未检查", ["CN-HM-053"]),
            ("第八条第（四）项", "安全装置不全、失效、拆除", ["CN-HM-054"]),
            ("第八条第（五）项", "主要受力构件裂纹锈蚀变形开焊；连接螺栓、销轴缺失失效", ["CN-HM-057"]),
            ("第八条第（六）项", "施工升降机附着、悬高、垂直度", ["CN-HM-052"]),
            ("第八条第（七）项", "塔机起升高度、附着、悬高、垂直度", ["CN-HM-051"]),
            ("第八条第（八）项", "塔机与周边建（构）筑物、群塔安全距离", ["CN-HM-058"]),
            ("第八条第（九）项", "报废起重机械、报废吊索具", ["CN-HM-059"]),
            ("第九条第（一）项", "钢结构、网架安装用支撑结构", ["CN-HM-060"]),
            ("第九条第（二）项", "单榀钢桁架等预制构件防失稳", ["CN-HM-061"]),
            ("第九条第（三）项", "悬挑式卸料平台搁置点、拉结点、支撑点", ["CN-HM-062"]),
            ("第九条第（四）项", "脚手架与结构之间、电梯井道水平防护", ["CN-HM-064", "CN-HM-065"]),
            ("第九条第（五）项", "吊篮超载、安全锁失效、安全绳未独立悬挂", ["CN-HM-066"]),
            ("第十条第（一）项", "特殊作业环境照明未用安全电压", ["CN-HM-070"]),
            ("第十条第（二）项", "与外电架空线路安全距离不足且无防护", ["CN-HM-071"]),
            ("第十一条第（一）项", "未辨识有限空间、未设警示标志", ["CN-HM-082"]),
            ("第十一条第（二）项", "有限空间审批、培训、先通风再检测后作业", ["CN-HM-080"]),
            ("第十一条第（三）项", "有限空间无专人监护或无专职安全员监督", ["CN-HM-081"]),
            ("第十一条第（四）项", "有限空间检测、通风、呼吸防护、救援设备", ["CN-HM-083"]),
            ("第十二条第（一）项", "装饰装修拆除承重结构未经结构复核", ["CN-HM-091"]),
            ("第十二条第（二）项", "拆除顺序不符", ["CN-HM-090"]),
            ("第十三条第（一）项", "隧道带水施工、地下水控制失效", ["CN-HM-100"]),
            ("第十三条第（二）项", "涌水涌沙坍塌、支护变形裂缝未处置", ["CN-HM-101"]),
            (
                "第十三条第（三）项",
                "开挖支护方法；超前地质预报、监控量测；监测超限未处置",
                ["CN-HM-102", "CN-HM-103", "CN-HM-104"],
            ),
            ("第十三条第（四）项", "盾构始发、接收端头加固", ["CN-HM-105"]),
            ("第十三条第（五）项", "盾尾密封、铰链渗漏仍掘进；带压开仓换刀", ["CN-HM-106", "CN-HM-107"]),
            ("第十三条第（六）项", "隧道施工毗邻建筑物和管线专项防护", ["CN-HM-108"]),
            ("第十三条第（七）项", "未经批准在轨道交通安全保护区内作业", ["CN-HM-109"]),
            ("第十四条第（一）项", "基坑周边堆载超设计允许值", ["CN-HM-120"]),
            ("第十四条第（二）项", "无支护基坑（槽）周边堆载", ["CN-HM-121"]),
            ("第十四条第（三）项", "楼板、屋面、地下室顶板、脚手架堆载超设计允许值", ["CN-HM-122"]),
            ("第十五条第（一）项", "大型机械未校核运行路线、作业位置承载能力", ["CN-HM-130"]),
            ("第十五条第（二）项", "恶劣天气违规吊装、安拆、高处作业", ["CN-HM-131"]),
            ("第十五条第（三）项", "非载人设备吊运人员", ["CN-HM-132"]),
            ("第十六条", "国家明令禁止和限制使用的施工工艺、设备和材料", ["CN-HM-110"]),
            ("第十七条", "其他严重违法且有现实危险", ["CN-HM-111"]),
        ]
    ],
    # ---- 特种设备：市场监管总局令第57号 第二十五条（严重事故隐患，按重大处理）
    ("special_equipment", "se-inspection-57", "第二十五条第（一）项", "无许可生产、淘汰、报废仍用", ["SE-GEN-001"]),
    ("special_equipment", "se-inspection-57", "第二十五条第（二）项", "未经监检或检验不合格仍用", ["SE-GEN-002"]),
    ("special_equipment", "se-inspection-57", "第二十五条第（三）项", "安全附件、保护装置缺失失灵仍用", ["SE-GEN-003"]),
    ("special_equipment", "se-inspection-57", "第二十五条第（四）项", "事故或明显故障未全面检查仍用", ["SE-GEN-004"]),
    ("special_equipment", "se-inspection-57", "第二十五条第（五）项", "超参数、超范围使用", ["SE-GEN-005"]),
    ("special_equipment", "se-inspection-57", "第二十五条第（六）项", "其他严重事故隐患", ["SE-GEN-006"]),
    # ---- 特种设备：GB 45067-2024 电梯 4.6
    ("special_equipment", "se-gb45067", "4.6 a)", "定期检验不合格", ["SE-EL-001"]),
    ("special_equipment", "se-gb45067", "4.6 b)", "门锁回路短接", ["SE-EL-002"]),
    ("special_equipment", "se-gb45067", "4.6 c)", "限速器-安全钳联动失效", ["SE-EL-003"]),
    ("special_equipment", "se-gb45067", "4.6 d)", "扶梯急停开关缺失失效", ["SE-EL-004"]),
    ("special_equipment", "se-gb45067", "4.6 e)", "扶手带外缘400mm防护挡板", ["SE-EL-005"]),
    # ---- 特种设备：GB 45067-2024 4.2～4.10（正式文本）
    # 4.1 a)–c) restate 第二十五条第（一）（二）（四）项 above; 4.1 d) refers to 4.2–4.10.
    *[
        ("special_equipment", "se-gb45067", clause, what, codes)
        for clause, what, codes in [
            ("4.2 a)", "锅炉定期检验结论不符合要求", ["SE-BL-001"]),
            ("4.2 b)", "热工仪表失效或控制电（气）源中断", ["SE-BL-004"]),
            ("4.2 c)", "安全阀（爆破片装置）缺失或失效", ["SE-BL-002", "SE-BL-003"]),
            ("4.2 d)", "系统报警装置缺失或失效", ["SE-BL-005"]),
            ("4.2 e)", "联锁保护装置缺失或失效", ["SE-BL-006"]),
            ("4.2 f)", "熄火保护装置缺失或失效", ["SE-BL-007"]),
            ("4.2 g)", "电站锅炉汽水管道泄漏或管道破裂", ["SE-BL-010"]),
            ("4.3 a)", "压力容器定期检验结论不符合要求", ["SE-PV-001"]),
            ("4.3 b)", "固定式改做移动式使用", ["SE-PV-004"]),
            ("4.3 c)", "安全阀、爆破片、紧急切断装置缺失失效", ["SE-PV-002"]),
            ("4.3 d)", "快开门联锁装置缺失或失效", ["SE-PV-003"]),
            ("4.3 e)", "氧舱接地装置缺失或失效", ["SE-PV-005"]),
            ("4.3 f)", "氧舱联锁功能失效", ["SE-PV-006"]),
            ("4.4 a)", "压力管道定期检验不符合要求或不允许使用", ["SE-PP-001"]),
            ("4.4 b)", "压力管道安全阀、爆破片、紧急切断装置缺失失效", ["SE-PP-002"]),
            ("4.5 a)", "未经许可擅自充装", ["SE-PV-010"]),
            ("4.5 b)", "错装介质", ["SE-PV-011"]),
            ("4.5 c)", "充装设施紧急切断装置缺失失效", ["SE-PV-012"]),
            ("4.7 a)", "起重机械未经首次检验", ["SE-HM-001"]),
            ("4.7 b)", "定期检验（含首次检验）不合格", ["SE-HM-002"]),
            ("4.7 c)", "急停开关缺失或失效", ["SE-HM-003"]),
            ("4.7 d)", "起重量、力矩限制器、防坠安全器缺失或失效", ["SE-HM-004", "SE-HM-005"]),
            ("4.7 e)", "室外轨道式起重机械抗风防滑装置", ["SE-HM-006"]),
            ("4.8 a)", "客运索道检验不合格或复检不合格", ["SE-RW-001"]),
            ("4.8 b)", "紧急停车开关缺失或失效", ["SE-RW-002"]),
            ("4.8 c)", "吊厢、吊篮、客车门不能锁闭且未停用", ["SE-RW-003"]),
            ("4.8 d)", "辅机、备用电源不能启动运行", ["SE-RW-004"]),
            ("4.8 e)", "安全回路故障后短接继续运营", ["SE-RW-005"]),
            ("4.9 a)", "大型游乐设施检验不合格", ["SE-AR-001"]),
            ("4.9 b)", "乘客束缚装置缺失或失效", ["SE-AR-002"]),
            ("4.9 c)", "座舱舱门锁紧装置缺失或失效", ["SE-AR-003"]),
            ("4.9 d)", "制动、限位、防碰撞缓冲、止逆行、限速装置", ["SE-AR-004"]),
            ("4.9 e)", "主要受力部件、焊缝、螺栓裂纹或严重变形", ["SE-AR-005"]),
            ("4.10 a)", "场车定期检验不合格", ["SE-VH-001"]),
            ("4.10 b)", "电动车辆电源紧急切断装置", ["SE-VH-003"]),
            ("4.10 c)", "制动（行车、驻车）装置缺失或失效", ["SE-VH-002"]),
            ("4.10 d)", "观光列车牵引连接及二次保护装置", ["SE-VH-004"]),
            ("4.10 e)", "观光车辆超过最大行驶坡度", ["SE-VH-005"]),
        ]
    ],
    # ---- 燃气：建城规〔2023〕4号
    ("gas", "gas-major-2023", "第四条第（一）项", "无燃气经营许可证", ["GS-O-001"]),
    ("gas", "gas-major-2023", "第四条第（二）项", "无安全风险分级管控制度", ["GS-O-002"]),
    ("gas", "gas-major-2023", "第四条第（三）项", "无事故隐患排查治理制度", ["GS-O-003"]),
    ("gas", "gas-major-2023", "第四条第（四）项", "无应急救援预案", ["GS-O-004"]),
    ("gas", "gas-major-2023", "第四条第（五）项", "无用户设施定期安全检查制度", ["GS-O-005"]),
    ("gas", "gas-major-2023", "第五条第（一）项", "储罐监测装置、超限报警", ["GS-O-020"]),
    ("gas", "gas-major-2023", "第五条第（二）项", "超压自动切断和放散装置", ["GS-O-021"]),
    ("gas", "gas-major-2023", "第五条第（三）项", "装卸用管防拉脱联锁保护", ["GS-O-022"]),
    ("gas", "gas-major-2023", "第五条第（四）项", "爆炸危险环境电气仪表防爆性能", ["GS-O-023"]),
    ("gas", "gas-major-2023", "第五条第（五）项", "固定式可燃气体浓度报警装置", ["GS-O-024"]),
    ("gas", "gas-major-2023", "第六条第（一）项", "中压及以上地下管线占压", ["GS-O-030"]),
    ("gas", "gas-major-2023", "第六条第（二）项", "输配管道在地下构筑物内敷设", ["GS-O-033"]),
    ("gas", "gas-major-2023", "第六条第（三）项", "调压装置出口超压保护", ["GS-O-031"]),
    ("gas", "gas-major-2023", "第七条第（一）项", "为非自有气瓶充装", ["GS-O-040"]),
    ("gas", "gas-major-2023", "第七条第（二）项", "销售未经许可充装单位充装的瓶装燃气", ["GS-O-041"]),
    ("gas", "gas-major-2023", "第七条第（三）项", "销售为非自有气瓶充装的瓶装燃气", ["GS-O-044"]),
    ("gas", "gas-major-2023", "第八条", "燃气无标准要求的警示性臭味", ["GS-O-008"]),
    ("gas", "gas-major-2023", "第九条第（一）项", "用户检查发现密闭地下空间设置不书面告知", ["GS-O-060"]),
    ("gas", "gas-major-2023", "第九条第（二）项", "用户检查发现管道设在卫生间不书面告知", ["GS-O-061"]),
    ("gas", "gas-major-2023", "第九条第（三）项", "用户检查发现设在卧室客房不书面告知", ["GS-O-062"]),
    ("gas", "gas-major-2023", "第九条第（四）项", "用户检查发现淘汰燃具、连接管不书面告知", ["GS-O-063"]),
    ("gas", "gas-major-2023", "第十条", "其他严重违法且有现实危险", ["GS-O-007"]),
]

# How many criteria reference/REGULATIONS.md lists per document (and what the table must therefore hold).
EXPECTED_COUNTS = {
    "fw-major-2017": 20,
    "hc-major-2017": 20,
    "cn-major-2024": 5 + 4 + 4 + 3 + 9 + 5 + 2 + 4 + 2 + 7 + 3 + 3 + 1 + 1,  # 第四至十七条 (official text)
    "se-inspection-57": 6,
    "se-gb45067": 7 + 6 + 2 + 3 + 5 + 5 + 5 + 5 + 5,  # 4.2 boilers … 4.10 in-plant vehicles (GB text)
    "gas-major-2023": 5 + 5 + 3 + 3 + 1 + 4 + 1,  # 第四至十条 (official text)
}


# 文号 of a repealed determination standard -> the clause that repealed it.
REPEALED = {"建质规〔2022〕2号": "建质规〔2024〕5号 第十八条"}


@pytest.fixture(scope="module")
def templates():
    return {t.code: t for t in load_all()}


def _template_for(code: str) -> str:
    return next(t for prefix, t in TEMPLATE_OF_PREFIX.items() if code.startswith(prefix))


def test_table_covers_every_listed_criterion():
    counts: dict[str, int] = {}
    for _, document, *_ in CRITERIA:
        counts[document] = counts.get(document, 0) + 1
    assert counts == EXPECTED_COUNTS


@pytest.mark.parametrize(
    "industry,document,clause,what,codes", CRITERIA, ids=[f"{r[1]}:{r[2]}:{r[4][0]}" for r in CRITERIA]
)
def test_criterion_is_a_major_item(templates, industry, document, clause, what, codes):
    assert codes, what
    title_words, number = DOCUMENTS[document]
    for code in codes:
        template = templates[_template_for(code)]
        assert template.industry == industry
        item = template.item(code)
        assert item is not None, f"{code} missing for {document} {clause}（{what}）"
        assert item.major, code
        assert item.hazard_level_if_failed == "major", code
        assert item.evidence.photo_required_when_failed, code
        assert item.basis.document == document, code
        assert item.basis.clause == clause, code
        source = template.source(document)
        assert title_words in source.title and source.title == item.basis.title
        assert source.number == number


def test_every_major_item_is_an_official_criterion(templates):
    claimed = {code for *_, codes in CRITERIA for code in codes}
    majors = {i.code for t in templates.values() for i in t.items if i.major}
    assert majors - claimed == set(), "major items without an official criterion"
    assert claimed - majors == set()


def test_each_industry_has_its_criteria_in_its_own_templates(templates):
    for industry, document, _, _, codes in CRITERIA:
        for code in codes:
            assert templates[_template_for(code)].industry == industry


def test_major_items_of_a_template_cite_only_determination_standards(templates):
    for t in templates.values():
        for item in t.major_items:
            assert item.basis.document in DOCUMENTS, (t.code, item.code)


def test_no_published_template_cites_a_repealed_standard():
    """A withdrawn version keeps its old citations for the inspections that named it; a published
    one must not send an inspector to a repealed standard."""
    citing = [
        (t.code, t.version, s.number) for t in load_all() if t.published for s in t.sources if s.number in REPEALED
    ]
    assert citing == []
