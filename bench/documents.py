"""The enforcement documents outside the server: sample pages and the render budget (not a test).

    python -m bench.documents samples docs/documents   first page of each kind as PNG (pdftoppm)
    python -m bench.documents time [N]                 a 现场检查记录 of a 56-item special-equipment
                                                       inspection, N renders: budget < 1 s each
    python -m bench.documents rss N                    peak RSS (KiB) after N renders (the memory test)

The samples are filled the way documents.service fills them, from the real checklist files; the
numbers and names in them are made up.
"""

from __future__ import annotations

import base64
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

from checklists.definition import load_template
from documents.render import render_pdf
from evidence.imaging import reencode_signature
from documents.service import KINDS, MEASURES_BASIS, basis_text

VERIFY = "http://localhost:8000/api/v1/public/documents/0b7e2a8c-5f4d-4c1e-9a57-3d2f6e1b8c90"
SPECIAL_EQUIPMENT = Path(__file__).resolve().parent.parent / "checklists/templates/special_equipment.user_unit.v1.yaml"


def _common(kind: str, serial: int) -> dict:
    return {
        "title": KINDS[kind].title,
        "office_name": "安巡示范县应急管理局",
        "office": {"review_body": "安巡示范县人民政府或者上一级应急管理部门", "court": "安巡示范县人民法院"},
        "number": f"（安巡示范）应急{KINDS[kind].abbreviation}〔2026〕{serial}号",
        "replaces": None,
        "enterprise": {
            "name": "安巡示范县青石特种设备有限公司",
            "uscc": "91500299MA0000001X",
            "address": "安巡示范县青石镇青石村3组18号",
            "legal_representative": "王建国",
        },
        "inspectors": [{"name": "李明", "cert_no": "渝执 500299001"}, {"name": "张丽", "cert_no": "渝执 500299002"}],
        "issued_date": "2026年11月22日",
        "deadline": "2026年11月29日",
        "found_date": "2026年11月22日",
        "signatures": [],
    }


def _stroke(seed: int) -> bytes:
    """A made-up hand signature as a phone would send it (transparent PNG), re-encoded as the server does."""
    img = Image.new("RGBA", (640, 220), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    for n in range(3):
        x0 = 40 + n * 190
        draw.line(
            [(x0 + i * 9, 110 + int(60 * ((i * (3 + seed + n)) % 7 - 3) / 3)) for i in range(18)],
            fill=(20, 20, 60, 255),
            width=7,
            joint="curve",
        )
    out = io.BytesIO()
    img.save(out, "PNG")
    return reencode_signature(out.getvalue(), max_pixels=4_000_000).png


def _signed(content: dict, *people: tuple[str, str, int]) -> tuple[dict, dict]:
    """The content with signatures of (role, name, seed), and the images the render needs."""
    signatures, images = [], {}
    for role, name, seed in people:
        sha = f"{seed:064x}"
        signatures.append({"role": role, "name": name, "sha256": sha, "signed_date": "2026年11月22日"})
        images[sha] = "data:image/png;base64," + base64.b64encode(_stroke(seed)).decode()
    return content | {"signatures": signatures}, images


def _findings(template, count: int) -> list[dict]:
    return [
        {"text": item.text, "reason": None, "basis": basis_text(item.basis), "major": item.major}
        for item in template.items[:count]
    ]


def samples() -> dict[str, dict]:
    template = load_template(SPECIAL_EQUIPMENT)
    two = _findings(template, 2)
    out = {
        "site_inspection_record": _common("site_inspection_record", 12)
        | {
            "place": "安巡示范县青石镇青石村3组18号",
            "period": "2026年11月22日 09时30分至10时15分",
            "inspection_kind": "日常检查",
            "checklist": f"{template.title}（第 {template.version} 版）",
            "checked": 54,
            "passed": 51,
            "not_applicable": 2,
            "failed": _findings(template, 3),
            "remarks": "现场检查时企业主要负责人在场。",
        },
        "rectification_order": _common("rectification_order", 7)
        | {"failed": two, "measures": "停用未经定期检验的设备，委托检验机构检验", "responsible_person": "王建国"},
        "recheck_opinion": _common("recheck_opinion", 3)
        | {
            "failed": two,
            "ordered_date": "2026年11月22日",
            "order_number": "（安巡示范）应急责改〔2026〕7号",
            "submitted_date": "2026年11月27日",
            "recheck_date": "2026年11月28日",
            "passed": True,
            "conclusion": "经复查，上述问题已整改完毕，符合要求，予以销号。",
            "note": "",
        },
        "on_site_measures": _common("on_site_measures", 2)
        | {
            "failed": two[:1],
            "measures": "责令暂时停止使用该台叉车，从危险区域内撤出作业人员",
            "measures_basis": MEASURES_BASIS,
        },
        "supervision_notice": _common("supervision_notice", 1)
        | {
            "failed": two[:1],
            "supervising_office": "安巡示范县安全生产委员会办公室",
            "five": [
                ["整改责任", "企业主要负责人王建国"],
                ["整改措施", "更换安全附件并检验"],
                ["整改资金", "5 万元"],
                ["整改时限", "2026-12-31"],
                ["应急预案", "停用期间的应急预案"],
            ],
        },
    }
    decision = _common("penalty_decision", 4) | {
        "facts": "2026年11月22日，本机关执法人员现场检查发现，你单位使用的 1 台叉车未经定期检验，有现场检查记录、照片为证。",
        "violated": "《中华人民共和国特种设备安全法》第四十条第三款",
        "penalty_basis": "《中华人民共和国特种设备安全法》第八十四条第（一）项",
        "penalty": "罚款",
        "amount_text": "30,000.00 元",
        "payment_deadline": "2026年12月7日",
        "notified_date": "2026年11月25日",
        "hearing_offered": True,
        "hearing_requested": False,
    }
    out["penalty_decision.general"] = decision | {"procedure": "general"}
    out["penalty_decision.simple"] = decision | {
        "procedure": "simple",
        "title": "行政处罚决定书（简易程序）",
        "penalty": "警告并处罚款",
        "amount_text": "2,000.00 元",
        "penalty_basis": "《安全生产违法行为行政处罚办法》第四十五条",
        "violated": "《中华人民共和国安全生产法》第二十八条",
    }
    case = {key: decision[key] for key in ("facts", "violated", "penalty_basis", "penalty", "amount_text")} | {
        "procedure": "general",
        "case_number": "（安巡示范）应急立〔2026〕1号",
        "opened_date": "2026年11月22日",
    }
    out["case_filing_approval"] = (
        _common("case_filing_approval", 1)
        | case
        | {"source": "2026年11月22日日常检查（（安巡示范）应急检记〔2026〕12号）", "decision_deadline": "2027年2月20日"}
    )
    notice = case | {
        "notified_date": "2026年11月25日",
        "statement_deadline": "2026年11月28日",
        "hearing_deadline": "2026年11月30日",
        "hearing_offered": True,
    }
    out["penalty_notice"] = _common("penalty_notice", 1) | notice
    out["hearing_notice"] = _common("hearing_notice", 1) | notice
    out["case_closing_approval"] = (
        _common("case_closing_approval", 1)
        | case
        | {
            "decision_number": "（安巡示范）应急罚〔2026〕4号",
            "decided_date": "2026年12月1日",
            "executed_date": "2026年12月10日",
            "execution": "当事人已于2026年12月10日缴纳罚款 30,000.00 元",
            "closed_date": "2026年12月18日",
            "closing_note": "",
        }
    )
    return out


def signed_samples() -> dict[str, tuple[dict, dict]]:
    """The documents a party signs on site, with signatures captured on the phone."""
    plain = samples()
    one = plain["site_inspection_record"] | {"passed": 53, "failed": plain["site_inspection_record"]["failed"][:1]}
    return {
        "site_inspection_record.signed": _signed(
            one, ("party", "王建国", 1), ("officer", "李明", 2), ("officer", "张丽", 3)
        ),
        "rectification_order.signed": _signed(plain["rectification_order"], ("party", "王建国", 1)),
    }


def inspection_record_56() -> dict:
    """A 现场检查记录 listing every item of the 56-item special-equipment checklist as failed: the longest one."""
    template = load_template(SPECIAL_EQUIPMENT)
    return samples()["site_inspection_record"] | {
        "checked": 56,
        "passed": 0,
        "not_applicable": 0,
        "failed": _findings(template, 56),
    }


def write_samples(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    every = {name: (content, {}) for name, content in samples().items()} | signed_samples()
    for name, (content, images) in every.items():
        pdf = render_pdf(name.split(".")[0], content, verify_url=VERIFY, images=images)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", f.name, str(folder / name)],
                check=True,
            )
        print(folder / f"{name}.png")


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "time"
    if command == "samples":
        write_samples(Path(argv[1] if len(argv) > 1 else "docs/documents"))
    elif command == "rss":
        content = samples()["rectification_order"]
        for _ in range(int(argv[1])):
            render_pdf("rectification_order", content, verify_url=VERIFY)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    else:
        content, runs = inspection_record_56(), int(argv[1]) if len(argv) > 1 else 5
        render_pdf("site_inspection_record", content, verify_url=VERIFY)  # fonts and templates loaded once
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            pdf = render_pdf("site_inspection_record", content, verify_url=VERIFY)
            times.append(time.perf_counter() - start)
        print(
            f"现场检查记录, 56 items: {len(pdf) // 1024} KiB; {runs} renders, "
            f"median {sorted(times)[runs // 2]:.3f} s, max {max(times):.3f} s (budget 1 s)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
