"""工会表格批量处理 — command line. Thin: parse options, call the engine, map errors to exit codes."""

from __future__ import annotations

import datetime as dt
import functools
import gc
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

import click

from chinese_click import ChineseGroup, ChineseOption, PathType
from unionbatch.findings import mask_text
from unionbatch.ledger import Ledger
from unionbatch.pipeline import (
    LEDGER,
    RUN_LOG,
    RunError,
    bar_person,
    check_batch,
    fetch_into_inbox,
    resolve_period,
    run_batch,
    send_queued,
)
from unionbatch.policy import PolicyError, load_policy
from unionbatch.privacy import console_line, masked_logging, owner_only_files
from unionbatch.progress import ProgressLog
from unionbatch.report import append_traceback, finding_lines, summary_lines
from unionbatch.spec import load_specs

EXIT_RUN_FAILED = 2
option = functools.partial(click.option, cls=ChineseOption)  # help notes (必填, 默认) in Chinese


class RunFailed(click.ClickException):
    """Exit 2 with one Chinese line, masked and without control characters (it may quote a file or a server)."""

    exit_code = EXIT_RUN_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(console_line(message))


def guarded(command: Callable[..., Any], log_folder: str | None = "out") -> Callable[..., Any]:
    """A processor bug (an exception nobody planned for) ends the command with exit 2 and one Chinese line, never
    a traceback on the console; the traceback, masked, goes to OUT/run.log (to stderr above that line for the
    commands without an output folder)."""

    @functools.wraps(command)
    def run_guarded(**options: Any) -> Any:
        try:
            return command(**options)
        except click.ClickException:
            raise
        except Exception as error:
            raise RunFailed(_processor_bug(error, options.get(log_folder) if log_folder else None)) from error

    return run_guarded


def _processor_bug(error: Exception, out: Path | None) -> str:
    text = "".join(traceback.format_exception(error))
    line = f"程序内部出错({type(error).__name__}),本次处理未完成;请把"
    if out is not None:
        with suppress(OSError):
            append_traceback(out / RUN_LOG, text)
            return f"{line} {out / RUN_LOG} 的最后一段转给系统管理员"
    click.echo(mask_text(text), err=True, nl=False)
    return f"{line}上面的错误信息转给系统管理员"


@click.group(cls=ChineseGroup)
@click.pass_context
def cli(context: click.Context) -> None:
    """工会表格批量处理:识别、校验、汇总各单位报送的 Excel 表格。"""
    context.with_resource(owner_only_files())  # the ledger, 原件/, 汇总, outbox/, logs: personal data
    masked_logging()  # a traceback of a worker quotes cells: IDs and phones masked on stderr too


@cli.command()
@option(
    "--out", "out", type=PathType("folder"), default=Path("templates"), show_default=True, help="模板保存到的文件夹"
)
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@functools.partial(guarded, log_folder=None)  # its --out is where templates go, not a run's output folder
def templates(out: Path, policy_path: Path | None) -> None:
    """生成所有表单的空白模板(报名表的项目列取自策略文件中的活动)。"""
    from unionbatch.template import write_templates

    try:
        policy = load_policy(policy_path, load_specs())
    except PolicyError as error:
        raise RunFailed(str(error)) from error
    for path in write_templates(policy.specs, out):
        click.echo(f"已生成模板:{path}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=PathType("file", exists=True), metavar="文件...")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@option("--period", default=None, metavar="期间", help="按哪个期间核对,如 2026-11(默认本月;写 last-month 表示上月)")
@guarded
def validate(files: tuple[Path, ...], policy_path: Path | None, period: str | None) -> None:
    """只校验文件,不汇总。有错误时退出码为 1。"""
    try:
        policy = load_policy(policy_path, load_specs())
        month = resolve_period(period)
    except (PolicyError, RunError) as error:
        raise RunFailed(str(error)) from error
    results = check_batch(list(files), policy.specs, policy, period=month)[0]
    for line in finding_lines(results):
        click.echo(line)
    rejected = sum(not result.accepted for result in results)
    click.echo(f"共 {len(results)} 个文件:{len(results) - rejected} 个通过,{rejected} 个有错误")
    sys.exit(1 if rejected else 0)


@cli.command()
@option("--inbox", type=PathType("folder"), required=True, help="收件箱文件夹")
@option("--out", type=PathType("folder"), required=True, help="输出文件夹")
@option("--period", default=None, metavar="期间", help="期间,如 2026-11(默认本月;写 last-month 表示上月)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@option("--full-ids", is_flag=True, help="report.json 中保留完整身份证号和电话(默认打码)")
@option("--keep-inbox", is_flag=True, help="处理后把文件复制(而不是移动)到 原件/,收件箱保持不变")
@guarded
def run(inbox: Path, out: Path, period: str | None, policy_path: Path | None, full_ids: bool, keep_inbox: bool) -> None:
    """处理收件箱中的全部文件,输出到 OUT/期间/;处理完的文件移到 OUT/期间/原件/。"""
    bar = TerminalProgress() if sys.stderr.isatty() else None
    progress = ProgressLog(out / RUN_LOG, also=bar)
    try:
        report = run_batch(inbox, out, period, policy_path, full_ids=full_ids, keep_inbox=keep_inbox, progress=progress)
    except (RunError, PolicyError) as error:
        raise RunFailed(str(error)) from error
    finally:
        progress.close()
        if bar is not None:
            bar.finish()
    for line in summary_lines(report):
        click.echo(line)
    sys.exit(report.exit_code)


@cli.command()
@option("--out", type=PathType("folder"), required=True, help="输出文件夹(与 run 命令的相同)")
@option("--period", default=None, metavar="期间", help="期间,如 2026-11(默认本月;写 last-month 表示上月)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@option("--send", "send_mail", is_flag=True, help="给名单中登记了邮箱的单位发送催报邮件")
@option(
    "--due",
    is_flag=True,
    help="只列出(加 --send 时只发送)今天该发的催报:截止前几天起每天、截止当天和逾期后,每个单位每种表单每天至多一封;供每天的定时任务运行",
)
@option(
    "--date",
    "when",
    default=None,
    metavar="日期",
    help="按此日期(时间)计算,如 2026-12-17 或 “2026-12-17 18:00”(默认现在)",
)
@guarded
def remind(
    out: Path, period: str | None, policy_path: Path | None, send_mail: bool, due: bool, when: str | None
) -> None:
    """列出本期未报送或被退回的单位和给每个单位的催报通知;--send 时发邮件,--due 时只取今天该发的(供每天的定时任务运行)。"""
    from unionbatch.mail import MailError  # mail and templates are imported by the commands that use them:
    from unionbatch.remind import ReminderError, deliver_reminders, due_reminders, due_today  # `validate` starts faster

    try:
        now = _moment(when)
        period = resolve_period(period, now.date())
        policy = load_policy(policy_path, load_specs())
        found = due_reminders(policy, period, out / period / "report.json", now)
        reminders, delivered = found.due, None
        ledger_path = policy.ledger_path or out / LEDGER
        if due or send_mail:
            with Ledger(ledger_path) if send_mail or ledger_path.exists() else nullcontext() as ledger:
                if due:
                    reminders = due_today(reminders, policy, period, now, ledger)
                if send_mail and ledger is not None:
                    delivered = deliver_reminders(reminders, policy, period, out / period / "outbox", now, ledger)
    except (RunError, PolicyError, ReminderError, MailError) as error:
        raise RunFailed(str(error)) from error
    for line in found.closed:
        click.echo(console_line(line))
    if not reminders:
        click.echo(f"{period}:今天没有要发的催报。" if due else f"{period}:应报送单位均已报送。")
        return
    click.echo(f"{period}:{len(reminders)} 项待报送")
    for reminder in reminders:
        click.echo(console_line(reminder.text(period, now if due else None)))
    for line in delivered.splitlines() if delivered is not None else []:
        click.echo(console_line(line))


def _moment(when: str | None) -> dt.datetime:
    """--date as a moment: a date alone is the start of that day."""
    if when is None:
        return dt.datetime.now().replace(microsecond=0)
    try:
        return dt.datetime.fromisoformat(when.strip())
    except ValueError as error:
        raise RunError(f"日期“{when}”格式不对,应为 YYYY-MM-DD 或 “YYYY-MM-DD HH:MM”,如 2026-12-17") from error


@cli.command("fetch-mail")
@option("--inbox", type=PathType("folder"), required=True, help="收件箱文件夹")
@option("--out", type=PathType("folder"), required=True, help="输出文件夹(台账所在处)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@guarded
def fetch_mail_command(inbox: Path, out: Path, policy_path: Path | None) -> None:
    """从 IMAP 邮箱收取新邮件,把表格附件存入收件箱(每封只收一次)。"""
    from unionbatch.mail import MailError

    try:
        fetched = fetch_into_inbox(inbox, out, policy_path)
    except (PolicyError, MailError, RunError) as error:
        raise RunFailed(str(error)) from error
    click.echo(f"收取新邮件 {fetched.messages} 封,存入附件 {len(fetched.saved)} 个")
    for path in fetched.saved:
        click.echo(console_line(f"  {path.name}"))
    for line in fetched.refused:
        click.echo(f"  未收取:{line}")
    sys.exit(1 if fetched.refused else 0)


@cli.command()
@option("--out", type=PathType("folder"), required=True, help="输出文件夹(台账所在处)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@guarded
def send(out: Path, policy_path: Path | None) -> None:
    """发送尚未发出的回信(没有 SMTP 设置时,回信保存在 OUT/期间/outbox/)。"""
    from unionbatch.mail import MailError

    try:
        delivery, waiting = send_queued(out, policy_path)
    except (PolicyError, MailError, RunError) as error:
        raise RunFailed(str(error)) from error
    if delivery is None:
        click.echo(f"未设置 SMTP:{waiting} 封回信保存在 outbox 文件夹中,未发送")
        return
    click.echo(f"已发送 {delivery.sent} 封,失败 {delivery.failed} 封(失败的下次运行时重试)")
    for line in delivery.failures:
        click.echo(f"  {console_line(line)}")
    sys.exit(1 if delivery.failed else 0)


@cli.command()
@option("--inbox", type=PathType("folder", exists=True), required=True, help="收件箱文件夹")
@option("--out", type=PathType("folder"), required=True, help="输出文件夹")
@option("--period", default=None, metavar="期间", help="期间,如 2026-11(默认为处理时的当月)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@guarded
def watch(inbox: Path, out: Path, period: str | None, policy_path: Path | None) -> None:
    """监视收件箱:文件一到就处理,并随时更新本期汇总。按 Ctrl-C 停止。"""
    from unionbatch.watch import watch_inbox  # watchdog only when watching: a fast start for the other commands

    try:  # a broken policy or period refuses at once, not after 正在监视… at the first file
        load_policy(policy_path, load_specs())
        if period is not None:
            resolve_period(period)
    except (PolicyError, RunError) as error:
        raise RunFailed(str(error)) from error
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"正在监视 {inbox},结果写到 {out}(Ctrl-C 停止)")

    def show(report) -> None:
        for line in summary_lines(report):
            click.echo(line)

    try:
        watch_inbox(inbox, out, show, lambda reason: click.echo(f"本次未处理:{reason}"), stop, policy_path, period)
    except KeyboardInterrupt:
        stop.set()
    click.echo("已停止监视")


@cli.command()
@click.argument("id_number", metavar="身份证号")
@option("--reason", required=True, metavar="原因", help="原因,如“2025 年虚报家庭收入”")
@option("--out", type=PathType("folder"), required=True, help="输出文件夹(台账所在处)")
@option("--policy", "policy_path", type=PathType("file"), default=None, help="策略文件(不给时用内置默认值)")
@guarded
def bar(id_number: str, reason: str, out: Path, policy_path: Path | None) -> None:
    """登记虚报人员:此身份证号此后报送时按错误退回(取消补助资格)。"""
    try:
        policy = load_policy(policy_path, load_specs())
        masked = bar_person(policy.ledger_path or out / LEDGER, id_number, reason)
    except (PolicyError, RunError) as error:
        raise RunFailed(str(error)) from error
    click.echo(console_line(f"已登记取消补助资格:{masked}({reason})"))


class TerminalProgress:
    """A progress bar on the terminal (stderr) while a run checks its files; nothing is drawn under cron."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="正在核对文件", show_pos=True, file=sys.stderr)
            self.bar.render_progress()
        self.bar.update(done - self.bar.pos)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()


def main() -> None:
    try:
        cli()
    finally:
        # what the command loaded (pandas, openpyxl, a period's rows) lives until the process ends: frozen, the
        # interpreter's collections at exit do not walk it again (~0.1 s of every command)
        gc.freeze()


if __name__ == "__main__":
    main()
