"""The command line: names, exit codes and the exact lines users see."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from process import cli
from tests.conftest import policy_without_register
from tests.factory import fill_template, make_people
from unionbatch.policy import load_policy
from unionbatch.spec import load_specs


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def good_inbox(folder: Path) -> Path:
    inbox = folder / "inbox"
    fill_template(inbox / "机关工会.xlsx", "机关工会", make_people(3, seed=21))
    return inbox


def run_good(tmp_path: Path, *options: str, out: str = "out"):
    """`run` on an inbox holding one clean file."""
    return invoke("run", "--inbox", str(good_inbox(tmp_path)), "--out", str(tmp_path / out), *options)


def test_templates_command_writes_every_form(tmp_path: Path) -> None:
    result = invoke("templates", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"已生成模板:{tmp_path / name}"
        for name in (
            "促进就业统计表.xlsx",
            "外出活动报名表.xlsx",
            "慰问名单.xlsx",
            "送温暖统计表.xlsx",
            "运动会报名表.xlsx",
            "成绩登记表.xlsx",
            "签到表.xlsx",
        )
    ]


def test_validate_exit_codes(tmp_path: Path) -> None:
    good = fill_template(tmp_path / "好.xlsx", "机关工会", make_people(3, seed=21))
    result = invoke("validate", str(good))
    assert (result.exit_code, result.output) == (0, "共 1 个文件:1 个通过,0 个有错误\n")
    bad = fill_template(tmp_path / "坏.xlsx", "城东街道工会", make_people(3, seed=23), edits={"E5": "12345"})
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "坏.xlsx 慰问名单!E5 [错误 phone_invalid] 联系电话“12345”格式不对。"
        "手机号为 1 开头的 11 位数字;固定电话请写上区号,区号和号码之间可加短横线。",
        "共 2 个文件:1 个通过,1 个有错误",
    ]


def test_validate_masks_ids_on_the_console(tmp_path: Path) -> None:
    people = make_people(2, seed=22)
    mistyped = people[0].id_number[:17] + "Y"  # a wrong last character: shown in the message, masked
    path = fill_template(tmp_path / "错号.xlsx", "机关工会", people, edits={"D4": mistyped})
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert mistyped not in result.output
    assert f"身份证号“{mistyped[:6]}********{mistyped[-4:]}”格式不对" in result.output


def test_run_all_accepted_exits_0(tmp_path: Path) -> None:
    result = run_good(tmp_path, "--period", "2026-01")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "2026-01" / "慰问名单汇总.xlsx").is_file()
    assert result.output.splitlines()[1] == "  已受理  机关工会  机关工会.xlsx  (3 行,0 个错误,0 个警告)"


def test_period_defaults_to_this_month_and_accepts_last_month(tmp_path: Path) -> None:
    import datetime as dt

    inbox = good_inbox(tmp_path)
    assert invoke("run", "--inbox", str(inbox), "--out", str(tmp_path / "out")).exit_code == 0
    assert (tmp_path / "out" / f"{dt.date.today():%Y-%m}" / "report.json").is_file()
    assert invoke("run", "--inbox", str(inbox), "--out", str(tmp_path / "o2"), "--period", "last-month").exit_code == 0
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    assert (tmp_path / "o2" / f"{last:%Y-%m}" / "report.json").is_file()


@pytest.mark.parametrize(
    ("policy_text", "reason"),
    [
        ('[relief]\ndibao = "abc"\n', "错误:策略文件中 relief.dibao 应为数字,现在是“abc”"),
        ("[relief]\ndibao = -5\n", "错误:策略文件中 relief.dibao 应为正数,现在是“-5”"),
        ("[relief]\ndibo = 800\n", "错误:策略文件中 [relief] 有无法识别的键:dibo;"),
        ('[relief.standards]\n"深度困难" = "一千"\n', "错误:策略文件中 relief.standards.深度困难 应为数字"),
        ('[[roster]]\nforms = ["慰问名单"]\n', "错误:策略文件中 roster 第 1 项 缺少 unit"),
        ('[[roster]]\nunit = "甲"\nforms = ["慰问单"]\n', "错误:策略文件中 roster 第 1 项.forms 含有未知表单"),
        ("relief = [\n", "错误:策略文件"),
    ],
)
def test_bad_policy_stops_the_run_with_exit_2(tmp_path: Path, policy_text: str, reason: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_text, encoding="utf-8")
    result = run_good(tmp_path, "--policy", str(policy))
    assert result.exit_code == 2
    assert result.output.startswith(reason)
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing touched


def test_missing_policy_file_exits_2(tmp_path: Path) -> None:
    result = run_good(tmp_path, "--policy", str(tmp_path / "无.toml"))
    assert result.exit_code == 2
    assert result.output == f"错误:找不到策略文件 {tmp_path / '无.toml'}\n"


def test_output_that_is_a_file_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    result = invoke("run", "--inbox", str(good_inbox(tmp_path)), "--out", str(blocker))
    assert result.exit_code == 2
    assert result.output.startswith(f"错误:路径中有一项不是文件夹:{blocker}/")
    assert len(result.output.strip().splitlines()) == 1


def test_bad_period_and_missing_inbox_exit_2(tmp_path: Path) -> None:
    result = run_good(tmp_path, "--period", "2026-13")
    assert (result.exit_code, result.output) == (2, "错误:期间“2026-13”格式不对,应为 YYYY-MM,如 2026-01\n")
    result = invoke("run", "--inbox", str(tmp_path / "无"), "--out", str(tmp_path / "o"))
    assert (result.exit_code, result.output) == (2, f"错误:收件箱文件夹不存在:{tmp_path / '无'}\n")


def test_sample_policy_loads(tmp_path: Path) -> None:
    result = run_good(tmp_path, "--policy", str(policy_without_register(tmp_path / "p")))
    assert result.exit_code == 0
    assert "卫健系统工会(未报送)" in result.output


def test_remind_before_and_after_a_run(tmp_path: Path) -> None:
    policy = str(policy_without_register(tmp_path / "p"))
    before = invoke("remind", "--out", str(tmp_path / "o"), "--period", "2026-11", "--policy", policy)
    assert before.exit_code == 0
    owed = sum(len(unit.forms) for unit in load_policy(Path(policy), load_specs()).roster)
    assert before.output.splitlines()[0] == f"2026-11:{owed} 项待报送"
    run_good(tmp_path, "--period", "2026-11", "--policy", policy, out="o")
    after = invoke("remind", "--out", str(tmp_path / "o"), "--period", "2026-11", "--policy", policy)
    lines = after.output.splitlines()
    assert lines[0] == f"2026-11:{owed - 1} 项待报送"  # 机关工会 sent its 慰问名单
    assert (
        "【催报】卫健系统工会:贵单位尚未报送2026年11月《慰问名单》,截止日期为 2026年12月20日,请尽快报送,谢谢。" in lines
    )
    assert not any("机关工会:贵单位尚未报送2026年11月《慰问名单》" in line for line in lines)


def test_remind_says_when_everyone_has_reported(tmp_path: Path) -> None:
    result = invoke("remind", "--out", str(tmp_path / "o"), "--period", "2026-11")
    assert (result.exit_code, result.output) == (0, "2026-11:应报送单位均已报送。\n")


def test_deadline_as_day_of_next_month(tmp_path: Path, specs) -> None:
    from unionbatch.policy import load_policy

    path = tmp_path / "p.toml"
    path.write_text('[deadlines]\n"送温暖统计表" = 5\n"慰问名单" = 2026-12-20\n', encoding="utf-8")
    policy = load_policy(path, specs)
    assert str(policy.deadline("送温暖统计表", "2026-12")) == "2027-01-05"
    assert str(policy.deadline("慰问名单", "2026-03")) == "2026-12-20"
    path.write_text('[deadlines]\n"慰问名单" = 31\n', encoding="utf-8")
    result = invoke("run", "--inbox", str(good_inbox(tmp_path)), "--out", str(tmp_path / "x"), "--policy", str(path))
    assert result.exit_code == 2 and "deadlines.慰问名单" in result.output


def test_error_lines_are_masked_and_clean(tmp_path: Path) -> None:
    missing = tmp_path / "收件箱 350103 19700601 4550\x1b[2J"
    result = invoke("run", "--inbox", str(missing), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.output == f"错误:收件箱文件夹不存在:{tmp_path}/收件箱 350103 ******** 4550\n"
