"""Make the import fixtures: CSV sources here, converted to .xlsx by LibreOffice (not by openpyxl).

    .venv/bin/python tests/data/make_fixtures.py      # needs `soffice` on PATH

The .csv files are the sources and are committed with the .xlsx/.xls they produce. ID numbers are synthetic,
made with the real GB 11643 check character; the script asserts none of them belongs to the demo county
(any size the demo generator makes with its default seed), so imports never collide with demo households.
The roster fixtures use demo heads of 城关镇 金星村（演示） on purpose (they must exist).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from app.demo_data import generate_demo_county  # noqa: E402
from app.households.idnumber import check_character  # noqa: E402

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def pid(birth: str, sequence: int, want_x: bool = False) -> str:
    """A valid synthetic ID number of 石泉县 (610922) born on `birth` (YYYYMMDD)."""
    while True:
        first17 = f"610922{birth}{sequence:03d}"
        number = first17 + check_character(first17)
        if not want_x or number.endswith("X"):
            return number
        sequence += 1


def wrong_check(number: str) -> str:
    return number[:17] + ("1" if number.endswith("0") else "0")


NATIONAL_HEADER = ["序号", "县（市、区）", "乡（镇）", "行政村", "户编号", "姓名", "证件号码 ", "与户主关系", "人数",
                   "脱贫年度", "联系电话"]
TEMPLATE_HEADER = ["乡镇", "行政村", "户编号", "姓名", "证件号码", "与户主关系", "家庭人口", "脱贫年度", "联系电话"]
ROSTER_HEADER = ["序号", "镇", "村", "户主姓名", "户主证件号码", "家庭人口", "脱贫年度", "返贫风险类型", "详细原因",
                 "包抓干部"]
JINXING, ZHUYUAN, YANGLIU = "金星村（演示）", "竹园村（演示）", "杨柳村（演示）"

# Demo heads of 金星村 (610922100001) and 杨柳村 (610922101001) in the test county.
DEMO_HEAD_1 = ("韩飞海", "610922196105180393")
DEMO_HEAD_2 = ("徐平", "610922196306284535")
DEMO_HEAD_OTHER_VILLAGE = ("宋勇海", "610922198201027398")
DEMO_SPOUSE = ("吕莲花", "610922196412177784")  # a member of 韩飞海's household

# The national export: 4 households, 11 people; header on row 4.
X_ID = pid("19950611", 931, want_x=True)
NATIONAL_ROWS: list[list[str]] = [
    ["石泉县农户信息（全国防返贫监测信息系统导出）"],
    ["导出日期：2026年11月20日"],
    [],
    NATIONAL_HEADER,
    ["1", "石泉县", "城关镇", JINXING, "6109221000019001", "张德明 ", pid("19700315", 911), "户主", "4", "2016",
     "13912345678"],
    ["2", "石泉县", "城关镇", JINXING, "6109221000019001", "李秀英", pid("19720802", 920), "配偶", "4", "2016", ""],
    ["3", "石泉县", "城关镇", JINXING, "6109221000019001", "张建国", X_ID.lower(), "之子", "4", "2016", ""],
    ["4", "石泉县", "城关镇", JINXING, "6109221000019001", "张 丽", pid("19980125", 940).translate(FULL_WIDTH),
     "之女", "4", "2016", ""],
    [],
    ["5", "石泉县", "城关镇", "竹园村(演示) ", "6109221000029002", "王福全", pid("19650909", 951), "户主", "2",
     "非贫困户", ""],
    ["6", "石泉县", "城关镇", "竹园村(演示) ", "6109221000029002", "陈兰", pid("19680404", 960), "配偶", "",
     "非贫困户", ""],
    ["7", "石泉县", "饶峰镇", YANGLIU, "6109221010019003", "刘永贵", pid("19580520", 971), "户主", "3", "2019", ""],
    ["8", "石泉县", "饶峰镇", YANGLIU, "6109221010019003", "周桂花", pid("19600113", 982), "配偶", "3", "2019", ""],
    ["9", "石泉县", "城关镇 ", JINXING, "6109221000019004", "赵春", pid("19800707", 993), "户主", "1", "２０２０",
     "029-84312345"],
    ["10", "石泉县", "饶峰镇", YANGLIU, "6109221010019003", "刘成", pid("19850228", 915), "之子", "3", "2019", ""],
    [],
]

# The template with the ID column left as "Standard": LibreOffice stores the IDs as numbers.
NUMERIC_ROWS: list[list[str]] = [
    TEMPLATE_HEADER,
    ["城关镇", JINXING, "6109221000019101", "孙志强", pid("19750101", 913), "户主", "2", "2017", "13800000000"],
    ["城关镇", JINXING, "6109221000019101", "吴秀兰", pid("19760606", 922), "配偶", "2", "2017", ""],
    ["城关镇", ZHUYUAN, "6109221000029102", "郑国", pid("19820202", 933), "户主", "1", "非贫困户", ""],
]

# The template with one error kind per household (rows noted); household 9201 is valid.
GOOD_HEAD, GOOD_SPOUSE = pid("19790101", 915), pid("19810101", 926)
ERROR_ROWS: list[list[str]] = [
    TEMPLATE_HEADER,
    ["城关镇", JINXING, "6109221000019201", "钱进", GOOD_HEAD, "户主", "2", "2018", ""],  # 2 valid
    ["城关镇", JINXING, "6109221000019201", "孔燕", GOOD_SPOUSE, "配偶", "2", "2018", ""],  # 3 valid
    ["城关镇", JINXING, "6109221000019202", "周一", wrong_check(pid("19700101", 935)), "户主", "1", "2018", ""],  # 4
    ["城关镇", JINXING, "6109221000019203", "周二", "610922197013329350", "户主", "1", "2018", ""],  # 5 birth date
    ["城关镇", "不存在村", "6109221000019204", "周三", pid("19700103", 955), "户主", "1", "2018", ""],  # 6 village
    ["城关镇", JINXING, "6109221000019205", "周四", pid("19700104", 965), "户主", "2", "2018", ""],  # 7
    ["城关镇", JINXING, "6109221000019205", "周五", pid("19700105", 975), "户主", "2", "2018", ""],  # 8 2nd head
    ["城关镇", JINXING, "6109221000019206", "周六", pid("19700106", 985), "配偶", "1", "2018", ""],  # 9 no head
    ["城关镇", JINXING, "6109221000019207", "周七", pid("19700107", 995), "户主", "3", "2018", ""],  # 10 size 3 ≠ 2
    ["城关镇", JINXING, "6109221000019207", "周八", pid("19700108", 917), "配偶", "3", "2018", ""],  # 11
    ["城关镇", JINXING, "6109221000019208", "周九", pid("19700109", 927), "户主", "2", "2018", ""],  # 12
    ["城关镇", JINXING, "6109221000019208", "孔燕", GOOD_SPOUSE, "配偶", "2", "2018", ""],  # 13 duplicate of row 3
    ["城关镇", JINXING, "6109221000019209", DEMO_HEAD_1[0], DEMO_HEAD_1[1], "户主", "1", "2018", ""],  # 14 demo's
    ["城关镇", JINXING, "6109221000019210", "周十", pid("19700110", 937), "户主", "1", "2012", ""],  # 15 year
    ["城关镇", JINXING, "6109221000019211", "", pid("19700111", 947), "户主", "1", "非贫困户", ""],  # 16 no name
    ["不存在镇", JINXING, "6109221000019212", "吴一", pid("19700112", 957), "户主", "1", "2018", ""],  # 17 town
    ["城关镇", JINXING, "6109221000019213", "吴二", pid("19700113", 967), "户主", "2", "2018", ""],  # 18
    ["城关镇", JINXING, "6109221000019213", *DEMO_SPOUSE, "配偶", "2", "2018", ""],  # 19 a demo member's ID
]

ROSTER_TOP = [["附件1"], ["石泉县返贫风险对象花名册（2026年11月）"], ["单位：城关镇"], ["2026年11月20日"]]
ROSTER_NOTES = [["备注：1. 脱贫年度以全国扶贫系统为准，非贫困户填写“非贫困户”；"],
                ["2. 返贫风险类型分为：因重大疾病、因自然灾害、因意外变故、因产业失败、因就业不稳、其它原因。"]]
ROSTER_ROWS: list[list[str]] = [
    *ROSTER_TOP, ROSTER_HEADER,
    ["1", "城关镇", JINXING, DEMO_HEAD_1[0], DEMO_HEAD_1[1], "3", "2019", "因重大疾病", "户主确诊尿毒症，需长期透析 ",
     "张干部"],
    ["2", "城关镇", JINXING, DEMO_HEAD_2[0] + " ", DEMO_HEAD_2[1], "2", "非贫困户", "因就业不稳",
     "务工人员失业三个月", "李干部"],
    [],
    *ROSTER_NOTES,
]
ROSTER_BAD_ROWS: list[list[str]] = [
    *ROSTER_TOP, ROSTER_HEADER,
    ["1", "城关镇", JINXING, DEMO_HEAD_1[0], DEMO_HEAD_1[1], "3", "2019", "因重大疾病", "尿毒症", ""],  # 6 fine
    ["2", "城关镇", JINXING, "无此人", pid("19660101", 939), "3", "2019", "因意外变故", "车祸", ""],  # 7 unknown
    ["3", "饶峰镇", YANGLIU, *DEMO_HEAD_OTHER_VILLAGE, "4", "2016", "因自然灾害", "洪水", ""],  # 8 other village
    ["4", "城关镇", JINXING, DEMO_HEAD_2[0], DEMO_HEAD_2[1], "2", "非贫困户", "因病", "住院", ""],  # 9 risk type
    ["5", "城关镇", JINXING, "叶平国", "610922199508126715", "4", "2016", "其它原因", "", ""],  # 10 no reason
    ["6", "城关镇", JINXING, "王二", "610922198612082834", "6", "2019", "因产业失败", "猪瘟", ""],  # 11 name ≠ 杨兴
    ["7", "城关镇", JINXING, DEMO_HEAD_1[0], DEMO_HEAD_1[1], "3", "2019", "因重大疾病", "重复", ""],  # 12 repeated
    *ROSTER_NOTES,
]

# (file stem, rows, LibreOffice column formats "col/format" — 2 = text, 1 = standard)
FIXTURES: list[tuple[str, list[list[str]], str]] = [
    ("national_export", NATIONAL_ROWS, "5/2/7/2/11/2"),
    ("template_numeric_ids", NUMERIC_ROWS, "3/2/5/1/9/1"),
    ("template_errors", ERROR_ROWS, "3/2/5/2/9/2"),
    ("roster_filled", ROSTER_ROWS, "5/2"),
    ("roster_bad", ROSTER_BAD_ROWS, "5/2"),
]


def all_ids() -> list[str]:
    ids = []
    for stem, rows, _formats in FIXTURES:
        if stem.startswith("roster"):
            continue
        for row in rows:
            for value in row:
                text = value.translate({ord(f): ord(a) for a, f in zip("0123456789", "０１２３４５６７８９",
                                                                        strict=True)}).upper()
                if len(text) == 18 and text[:17].isdigit() and text.startswith("610922"):
                    ids.append(text)
    return ids


def check_no_demo_collision() -> None:
    demo = {m.id_number for h in generate_demo_county().households for m in h.members}
    demo |= {m.id_number for h in generate_demo_county(villages_per_town=2, households_per_village=6,
                                                       towns=2).households for m in h.members}
    clash = (set(all_ids()) - {DEMO_HEAD_1[1], DEMO_SPOUSE[1]}) & demo
    assert not clash, f"fixture IDs collide with demo IDs: {clash}"


def convert(csv_path: Path, formats: str, target: str, out_dir: Path) -> None:
    # CSV import filter: comma, double quote, UTF-8 (76), from line 1, column formats.
    subprocess.run(["soffice", "--headless", f"--infilter=CSV:44,34,76,1,{formats}", "--convert-to", target,
                    "--outdir", str(out_dir), str(csv_path)], check=True, capture_output=True, timeout=120)


def main() -> None:
    check_no_demo_collision()
    for stem, rows, formats in FIXTURES:
        source = HERE / f"{stem}.csv"
        with open(source, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        convert(source, formats, "xlsx", HERE)
        print(f"{stem}.xlsx")
    # A legacy .xls (OLE2 container) of the same national export, for the hostile-file tests.
    convert(HERE / "national_export.csv", "5/2/7/2/11/2", "xls", HERE)
    (HERE / "national_export.xls").rename(HERE / "legacy.xls")
    print("legacy.xls")


if __name__ == "__main__":
    main()
