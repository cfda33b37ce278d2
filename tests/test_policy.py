"""The policy file: a mistake in it stops the run before any file is touched, with one Chinese line naming the key."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from click.testing import CliRunner

from process import cli
from tests.conftest import SAMPLES
from tests.factory import fill_template, make_people
from unionbatch.policy import PolicyError, load_policy


def run_with_policy(tmp_path: Path, policy: Path):
    inbox = tmp_path / "inbox"
    fill_template(inbox / "机关工会.xlsx", "机关工会", make_people(3, seed=21))
    arguments = ["run", "--inbox", str(inbox), "--out", str(tmp_path / "out"), "--period", "2026-11"]
    return CliRunner().invoke(cli, [*arguments, "--policy", str(policy)], catch_exceptions=False)


def refused(tmp_path: Path, text: str | bytes) -> str:
    """The one line a run with this policy ends with (exit 2, OUT not even created)."""
    policy = tmp_path / "policy.toml"
    policy.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    result = run_with_policy(tmp_path, policy)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    return result.output.strip().removeprefix("错误:")


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("[releif]\ndibao = 5000\n", "策略文件中有无法识别的表 [releif];你是不是想写 [relief]?"),
        ("[limit]\nmax_rows = 100\n", "策略文件中有无法识别的表 [limit];你是不是想写 [limits]?"),
        ('[[rooster]]\nunit = "机关工会"\n', "策略文件中有无法识别的表 [[rooster]];你是不是想写 [[roster]]?"),
        ("dibao = 5000\n[relief]\n", "策略文件中的键 dibao 写在了所有 [表] 之前,不属于任何表"),
        ("[relief]\ndibo = 800\n", "策略文件中 [relief] 有无法识别的键:dibo;你是不是想写 dibao?"),
        ('[email]\nsmtp_hots = "x"\n', "策略文件中 [email] 有无法识别的键:smtp_hots;你是不是想写 smtp_host?"),
    ],
)
def test_misspelt_sections_and_keys_are_named_with_the_nearest_known_one(tmp_path: Path, text: str, start: str) -> None:
    assert refused(tmp_path, text).startswith(start)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[relief]\ndibao = nan\n", "策略文件中 relief.dibao 应为数字,现在是“nan”"),
        ("[relief]\ndibao = inf\n", "策略文件中 relief.dibao 应为数字,现在是“inf”"),
        ("[relief]\ndibao = -800\n", "策略文件中 relief.dibao 应为正数,现在是“-800”"),
        (
            "[relief]\ndibao = 8e12\n",
            "策略文件中 relief.dibao 应不大于 100000000,现在是“8000000000000.0”,请检查是否多写了 0",
        ),
        (
            "[inbox]\nsettle_seconds = 1e9\n",
            "策略文件中 inbox.settle_seconds 应不大于 300,现在是“1000000000.0”,请检查是否多写了 0",
        ),
        ("[inbox]\nsettle_seconds = -1\n", "策略文件中 inbox.settle_seconds 应为非负数,现在是“-1”"),
        ("[limits]\nmax_rows = 1e30\n", "策略文件中 limits.max_rows 应不大于 1048576,现在是“1e+30”,请检查是否多写了 0"),
        (
            "[limits]\nmax_file_mb = 2000\n",
            "策略文件中 limits.max_file_mb 应不大于 1024,现在是“2000”,请检查是否多写了 0",
        ),
        (
            "[limits]\nmax_columns = 20000\n",
            "策略文件中 limits.max_columns 应不大于 16384,现在是“20000”,请检查是否多写了 0",
        ),
        ("[limits]\nmax_file_mb = 0\n", "策略文件中 limits.max_file_mb 应为正数,现在是“0”"),
        ("[email]\nsmtp_port = 70000\n", "策略文件中 email.smtp_port 应在 1 至 65535 之间,现在是“70000”"),
        (
            '[email]\nrequire_authentication = "yes"\n',
            "策略文件中 email.require_authentication 应为 true 或 false,现在是“yes”",
        ),
        ("[outing]\nfamily_share = nan\n", "策略文件中 outing.family_share 应为数字,现在是“nan”"),
    ],
)
def test_every_number_is_range_checked(tmp_path: Path, text: str, line: str) -> None:
    assert refused(tmp_path, text) == line


def test_a_ledger_path_that_is_a_folder_or_another_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "台账").mkdir()
    assert refused(tmp_path, '[inbox]\nledger = "台账"\n') == (
        f"策略文件中 inbox.ledger 指向的 {tmp_path / '台账'} 是一个文件夹;请写台账文件的路径,如 ledger.sqlite"
    )
    (tmp_path / "名单.xlsx").write_bytes(b"PK\x03\x04 not a database")
    assert refused(tmp_path, '[inbox]\nledger = "名单.xlsx"\n') == (
        f"策略文件中 inbox.ledger 指向的 {tmp_path / '名单.xlsx'} 不是台账数据库(SQLite);请检查路径,不要指向其他文件"
    )
    assert (tmp_path / "名单.xlsx").read_bytes() == b"PK\x03\x04 not a database"  # untouched


def test_an_empty_policy_is_refused(tmp_path: Path) -> None:
    assert refused(tmp_path, "# 只有注释\n\n") == (
        f"策略文件 {tmp_path / 'policy.toml'} 是空的(没有任何设置);请检查文件是否保存完整。如要使用默认值,运行时不要加 --policy"
    )


def test_toml_mistakes_are_explained_in_chinese_with_the_line(tmp_path: Path) -> None:
    where = tmp_path / "policy.toml"
    assert refused(tmp_path, "[outing]\nname = 踏青\n") == (
        f'策略文件 {where} 格式错误:第 2 行第 8 列值写得不对(文字要用英文双引号括起,如 name = "机关工会")'
    )
    assert refused(tmp_path, "[relief]\ndibao = 800\ndibao = 900\n") == (
        f"策略文件 {where} 格式错误:第 3 行第 12 列同一个键或表写了两次"
    )


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("gbk"),
        lambda text: text.encode("gb18030"),
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    ],
    ids=["utf-8-bom", "gbk", "gb18030", "utf-16"],
)
def test_policies_saved_by_windows_notepad_are_read(tmp_path: Path, specs, encode) -> None:
    text = '# 策略\n[relief]\ndibao = 950\n\n[[roster]]\nunit = "机关工会"\nemails = ["jg@example.org"]\n'
    path = tmp_path / "policy.toml"
    path.write_bytes(encode(text))
    policy = load_policy(path, specs)
    assert policy.for_form("慰问名单").dibao == 950
    assert [unit.name for unit in policy.roster] == ["机关工会"]


def test_undecodable_policy_is_refused_in_chinese(tmp_path: Path, specs) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"[relief]\n# \xff\xfe\x80\x80\x80\n")
    with pytest.raises(PolicyError, match="文字编码无法识别;请用记事本另存为 UTF-8 编码"):
        load_policy(path, specs)


def test_the_sample_policy_passes_every_check(specs) -> None:
    policy = load_policy(SAMPLES / "policy.toml", specs)
    assert len(policy.roster) == 17 and policy.settle_seconds == 0.3
