"""Deterministic workloads for the benchmark: N 慰问名单 submissions × R rows, a share of them with mistakes.

Files are written with xlsxwriter in the layout of our template (title, 填报单位 line, header, rows), as
fast as a generator can go, so that generating W10 does not dominate the benchmark's own run time.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import xlsxwriter
from stdnum.cn import ric

HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "工作单位",
    "困难类别",
    "致困原因",
    "家庭人口",
    "家庭年收入(元)",
    "刚性支出(元)",
    "慰问金额(元)",
    "慰问物资折款(元)",
    "建档编号",
    "备注",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"
TIERS = (("深度困难", 1000), ("相对困难", 800), ("意外致困", 1000))
CAUSES = ("因病", "因学", "因业", "因灾", "因残", "其他")


def person_id(rng: random.Random, serial: int, male: bool) -> str:
    """Unique for every serial: the birth date and the two sequence digits encode it."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=serial // 100)
    digit = rng.choice("13579" if male else "02468")
    body = f"350102{born:%Y%m%d}{serial % 100:02d}{digit}"
    return body + ric.calc_check_digit(body + "0")


# the independent workload's shape: the columns a unit must fill plus 慰问物资折款, and a wrong check digit as the
# mistake (the 500 files × 200 people, 5 % of files with one); 11 columns instead of 15
INDEPENDENT = (
    "序号",
    "姓名",
    "身份证号",
    "联系电话",
    "困难类别",
    "致困原因",
    "家庭人口",
    "家庭年收入(元)",
    "刚性支出(元)",
)
INDEPENDENT += ("慰问金额(元)", "慰问物资折款(元)")


def make_workload(
    folder: Path,
    files: int,
    rows: int,
    bad_share: float = 0.05,
    seed: int = 7,
    first: int = 0,
    independent: bool = False,
) -> list[Path]:
    """`files` workbooks of `rows` people each, numbered from `first`; every person is unique across the workload
    (files numbered apart never share one). `independent`: the independent workload's columns and mistake."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    bad = {first + index for index in rng.sample(range(files), max(1, int(files * bad_share)))}
    header = list(INDEPENDENT) if independent else HEADER
    keep = [HEADER.index(name) for name in header]
    paths = []
    for number in range(first, first + files):
        unit = f"第{number:04d}基层工会"
        path = folder / f"{unit}.xlsx"
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        workbook.set_properties({"created": dt.datetime(2026, 1, 1)})
        sheet = workbook.add_worksheet("慰问名单")
        sheet.write_row(0, 0, ["困难职工慰问名单"])
        sheet.write_row(1, 0, ["填报单位:", unit, "", "", "", "", "", "填报日期:", "2026-11-15"])
        sheet.write_row(2, 0, header)
        for row in range(rows):
            male = rng.random() < 0.5
            tier, standard = TIERS[row % 3]
            household = rng.randint(2, 5)
            income = 500 * household * 12 if tier == "深度困难" else 1200 * household * 12
            expense = int(income * 0.8) if tier == "意外致困" else 0
            values = [
                row + 1,
                rng.choice(SURNAMES) + rng.choice(GIVEN),
                "男" if male else "女",
                person_id(rng, number * rows + row, male),
                f"13{rng.randrange(10**9):09d}",
                unit,
                tier,
                rng.choice(CAUSES),
                household,
                income,
                expense,
                standard + rng.choice((0, 200)),
                rng.choice((0, 200)),
                f"FZ{number:04d}-{row:04d}",
                "",
            ]
            if number in bad and row % 50 == 7:
                if independent:  # a wrong check digit
                    values[3] = values[3][:-1] + ("0" if values[3][-1] != "0" else "1")
                else:
                    values[4] = "1380013800"  # one digit short
            for col, index in enumerate(keep):
                if index == 3:
                    sheet.write_string(row + 3, col, values[3])
                else:
                    sheet.write(row + 3, col, values[index])
        workbook.close()
        paths.append(path)
    return paths
