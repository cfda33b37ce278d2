"""Every line the command line prints is Chinese: click's own help and errors, OS and mail-server errors."""

from __future__ import annotations

import errno
import re
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from process import cli
from tests.factory import fill_template, make_people
from tests.servers import USER, free_port, imap_server
from tests.test_mail import write_policy
from unionbatch.failures import os_reason
from unionbatch.progress import ProgressLog

COMMANDS = ["templates", "validate", "run", "remind", "fetch-mail", "send", "watch", "bar"]
# the words a Chinese help page still holds: option names, file and format names, examples of values
ALLOWED = re.compile(
    r"--[a-z-]+|process\.py|report\.json|YYYY-MM|last-month|TOML|IMAP|SMTP|OUT|outbox|Ctrl-C|Excel|cli(?: [a-z-]+)?|默认:templates|与 run 命令|(?m:^  [a-z-]+(?= ))"
)


def invoke(*arguments: str):
    return CliRunner().invoke(cli, list(arguments), catch_exceptions=False)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_page_is_chinese(command: str | None) -> None:
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    assert result.output.startswith("用法:") and "\n选项:\n" in result.output
    assert "显示本说明并退出" in result.output
    english = re.findall(r"[A-Za-z]{3,}", ALLOWED.sub("", result.output))
    assert english == [], result.output


def test_help_columns_line_up_with_chinese_metavars() -> None:
    lines = invoke("run", "--help").output.splitlines()
    inbox = next(line for line in lines if "--inbox" in line)
    period = next(line for line in lines if "--period" in line)
    assert inbox == "  --inbox 文件夹  收件箱文件夹  [必填]"
    assert period.index("期间,如") - period.count("期间", 0, period.index("期间,如")) * 2 == len("  --inbox ") + 4


def test_missing_option_names_it_and_what_it_is_for(tmp_path: Path) -> None:
    result = invoke("bar", "110105194912310021", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "用法:cli bar [选项] 身份证号",
        "运行 cli bar --help 查看说明。",
        "错误:缺少选项 --reason(原因,如“2025 年虚报家庭收入”)",
    ]


def test_no_such_command_suggests_the_nearest() -> None:
    result = invoke("runn")
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "错误:没有 runn 这个命令;你是不是想写 run(全部命令:bar、fetch-mail、remind、run、send、templates、validate、watch)"
    )


def test_a_file_that_does_not_exist(tmp_path: Path) -> None:
    result = invoke("validate", str(tmp_path / "名单.xlsx"))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == f"错误:文件 {tmp_path / '名单.xlsx'} 不存在"


def test_unknown_option_missing_value_and_extra_arguments(tmp_path: Path) -> None:
    unknown = invoke("run", "--inbox", str(tmp_path), "--out", str(tmp_path), "--polcy", "p.toml")
    assert (unknown.exit_code, unknown.output.splitlines()[-1]) == (
        2,
        "错误:没有 --polcy 这个选项;你是不是想写 --policy",
    )
    no_value = invoke("run", "--inbox")
    assert (no_value.exit_code, no_value.output.splitlines()[-1]) == (2, "错误:选项 --inbox 后面要写一个值")
    extra = invoke("run", "--inbox", str(tmp_path), "--out", str(tmp_path), "名单.xlsx")
    assert extra.exit_code == 2
    assert extra.output.splitlines()[-1] == "错误:多余的参数:名单.xlsx(不知道它们是做什么的,请删去或加上对应的选项)"


def test_no_command_shows_the_help() -> None:
    result = invoke()
    assert result.exit_code == 0 and result.output.startswith("用法:cli [选项] 命令 [参数]...")
    assert "\n命令:\n" in result.output


@pytest.mark.parametrize(
    ("number", "chinese"),
    [
        (errno.EROFS, "磁盘是只读的"),
        (errno.ECONNREFUSED, "连接被拒绝(服务器未运行,或端口不对)"),
        (errno.EXDEV, "不能跨磁盘移动"),
    ],
)
def test_os_errors_read_in_chinese(number: int, chinese: str) -> None:
    assert os_reason(OSError(number, "English words")) == chinese


def test_an_errno_without_a_chinese_reason_gives_its_number_not_english() -> None:
    assert os_reason(OSError(errno.ENOLINK, "Link has been severed")) == f"系统错误(错误号 {errno.ENOLINK})"


def _fetch(tmp_path: Path, port: int, monkeypatch, password: str):
    monkeypatch.setenv("UNIONBATCH_IMAP_PASSWORD", password)
    policy = write_policy(
        tmp_path, {"imap_host": "127.0.0.1", "imap_port": port, "imap_user": USER, "imap_security": "none"}
    )
    return invoke(
        "fetch-mail", "--inbox", str(tmp_path / "inbox"), "--out", str(tmp_path / "out"), "--policy", str(policy)
    )


def test_imap_refused_connection_is_chinese(tmp_path: Path, monkeypatch) -> None:
    port = free_port()
    result = _fetch(tmp_path, port, monkeypatch, "x")
    assert result.exit_code == 2
    assert result.output == f"错误:无法从 127.0.0.1:{port} 收取邮件:连接被拒绝(服务器未运行,或端口不对)\n"


def test_imap_wrong_password_is_chinese(tmp_path: Path, monkeypatch) -> None:
    with imap_server() as imap:
        result = _fetch(tmp_path, imap.port, monkeypatch, "wrong password")
    assert result.exit_code == 2
    assert result.output.startswith(f"错误:无法从 127.0.0.1:{imap.port} 收取邮件:用户名或密码错误,服务器拒绝登录(NO ")
    assert "[AUTHENTICATIONFAILED]" in result.output  # the server's own words, in brackets after the Chinese


def test_unknown_form_in_roster_lists_names_not_a_python_list(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[roster]]\nunit = "甲"\nforms = ["慰问单"]\n', encoding="utf-8")
    result = invoke("run", "--inbox", str(tmp_path), "--out", str(tmp_path / "out"), "--policy", str(policy))
    line = result.output.splitlines()[-1]
    assert line.startswith("错误:策略文件中 roster 第 1 项.forms 含有未知表单:慰问单;可选:")
    assert "、慰问名单、" in line and "[" not in line and "'" not in line
    assert "[" not in line and "'" not in line


def test_run_log_says_each_files_state_in_chinese_and_how_far_the_run_got(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    fill_template(inbox / "甲.xlsx", "甲工会", make_people(2, 31))
    fill_template(inbox / "乙.xlsx", "乙工会", make_people(3, 32), edits={"E5": "1"})
    result = invoke("run", "--inbox", str(inbox), "--out", str(out), "--period", "2026-11")
    assert result.exit_code == 1
    lines = (out / "run.log").read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(" 进度:已核对 2/2 个文件")  # the last file always gets its line
    files = sorted(line.split(" ", 1)[1] for line in lines[1:])
    assert files == [
        "2026-11 已受理 甲工会 甲.xlsx 2 行 0 个错误 0 个警告",
        "2026-11 退回修改 乙工会 乙.xlsx 3 行 1 个错误 0 个警告",
    ]
    assert re.findall(r"[A-Za-z]{3,}", "\n".join(lines).replace(".xlsx", "")) == []


def test_progress_lines_every_n_files_and_after_a_pause(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    progress = ProgressLog(log, every_files=3, every_seconds=0.3)
    for done in (1, 2, 3, 4):
        progress(done, 7)
    time.sleep(0.35)
    progress(5, 7)
    progress(6, 7)
    progress(7, 7)
    counts = [line.split("已核对 ")[1] for line in log.read_text(encoding="utf-8").splitlines()]
    assert counts == ["3/7 个文件", "5/7 个文件", "6/7 个文件", "7/7 个文件"]


def test_watch_refuses_a_broken_policy_at_start(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[releif]\ndibao = 800\n", encoding="utf-8")
    result = invoke("watch", "--inbox", str(tmp_path), "--out", str(tmp_path / "out"), "--policy", str(policy))
    assert result.exit_code == 2
    assert result.output.startswith("错误:策略文件中") and "正在监视" not in result.output
    assert not (tmp_path / "out").exists()


def test_watch_refuses_a_bad_period_at_start(tmp_path: Path) -> None:
    result = invoke("watch", "--inbox", str(tmp_path), "--out", str(tmp_path / "out"), "--period", "2026-13")
    assert (result.exit_code, result.output) == (2, "错误:期间“2026-13”格式不对,应为 YYYY-MM,如 2026-01\n")


@pytest.mark.parametrize("command", [["bar", make_people(1, 11)[0].id_number, "--reason", "虚报"], ["send"]])
def test_bar_and_send_without_a_ledger_say_so_and_create_none(tmp_path: Path, command: list[str]) -> None:
    out = tmp_path / "输出"
    result = invoke(*command, "--out", str(out))
    assert result.exit_code == 2
    assert result.output == (
        f"错误:{out} 中没有台账 ledger.sqlite:请检查 --out 是否就是 run 用的输出文件夹(先运行一次 run 才有台账)\n"
    )
    assert not out.exists()


CJK = re.compile(r"[\u4e00-\u9fff]")


def _command_tree(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    """Every command under `command` (itself included), by its path: walks click's tree, so a new command or
    option is covered without being listed here (as sqlite-utils' test_docs does)."""
    found = [(" ".join(("process.py", *path)), command)]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            found += _command_tree(sub, (*path, name))
    return found


def test_every_command_and_option_has_chinese_help() -> None:
    missing = []
    tree = _command_tree(cli)
    assert {path for path, _ in tree} >= {f"process.py {command}" for command in COMMANDS}
    for path, command in tree:
        ctx = click.Context(command, info_name=path)
        if not CJK.search(command.help or ""):
            missing.append(f"{path}: the command's help")
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                if not CJK.search(param.help or ""):
                    missing.append(f"{path} {param.opts[0]}")
            elif not CJK.search(param.metavar or ""):  # an argument's help is its name in the usage line
                missing.append(f"{path} {param.name}: the argument's metavar")
    assert missing == []
