"""Click speaking Chinese: usage lines, help sections, option notes and click's own errors (missing option, no such
command, unknown option, extra arguments, a file that does not exist), rendered by subclasses through click's public
formatting hooks rather than by translating its English strings. process.py builds its commands with these."""

from __future__ import annotations

import difflib
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

HELP_TEXT = "显示本说明并退出"


class _Chinese:
    """The help page's fixed words (用法 / 选项) and the help option's own text."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix="用法:")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = [record for param in self.get_params(ctx) if (record := param.get_help_record(ctx))]  # type: ignore[attr-defined]
        if records:
            with formatter.section("选项"):
                write_rows(formatter, records)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class ChineseCommand(_Chinese, click.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("context_settings", {})["allow_extra_args"] = True  # refused below, in Chinese
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.args and not ctx.resilient_parsing:
            raise click.UsageError(f"多余的参数:{' '.join(ctx.args)}(不知道它们是做什么的,请删去或加上对应的选项)", ctx)
        return rest


class ChineseGroup(_Chinese, click.Group):
    command_class = ChineseCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        rows = [
            (name, command.get_short_help_str(formatter.width - 6 - len(name)))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("命令"):
                write_rows(formatter, rows)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        if self.get_command(ctx, name) is None and not ctx.resilient_parsing and not name.startswith("-"):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f";你是不是想写 {close[0]}" if close else ""
            raise click.UsageError(f"没有 {name} 这个命令{hint}(全部命令:{'、'.join(self.list_commands(ctx))})", ctx)
        return super().resolve_command(ctx, args)

    def main(self, args: Sequence[str] | None = None, *more: Any, standalone_mode: bool = True, **extra: Any) -> Any:
        """Click's standalone mode, with every message it would print in English printed in Chinese."""
        if not standalone_mode:
            return super().main(args, *more, standalone_mode=False, **extra)
        try:
            done = super().main(args, *more, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.format_message())
            sys.exit(0)
        except click.Abort:
            click.echo("已中止", err=True)
            sys.exit(1)
        except click.ClickException as error:
            show_error(error)
            sys.exit(error.exit_code)
        sys.exit(done if isinstance(done, int) else 0)


class ChineseOption(click.Option):
    """An option whose help notes (必填, 默认) are Chinese."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        if record is None:
            return None
        names, _ = record
        notes = []
        if self.required:
            notes.append("必填")
        if self.show_default and self.default is not None and not self.is_flag:
            notes.append(f"默认:{self.default}")
        text = self.help or ""
        return names, f"{text}  [{';'.join(notes)}]" if notes else text


def display_width(text: str) -> int:
    """Columns on a terminal: a Chinese character takes two (click's own lists count one and lose alignment)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def write_rows(formatter: click.HelpFormatter, rows: Sequence[tuple[str, str]]) -> None:
    """Two columns, the second starting at the same column on every line."""
    first = max(display_width(name) for name, _ in rows) + 2
    for name, text in rows:
        formatter.write(f"{'':>{formatter.current_indent}}{name}{' ' * (first - display_width(name))}{text}".rstrip())
        formatter.write("\n")


def show_error(error: click.ClickException) -> None:
    """A usage mistake: the usage line, where to find help, then 错误:… — all on stderr, as click does."""
    context = getattr(error, "ctx", None)
    if isinstance(error, click.UsageError) and context is not None:
        click.echo(context.get_usage(), err=True)
        click.echo(f"运行 {context.command_path} --help 查看说明。", err=True)
    click.echo(f"错误:{chinese_message(error)}", err=True)


def chinese_message(error: click.ClickException) -> str:
    """Click's own errors, from what they carry (the parameter, the option's name), not from their English text."""
    if isinstance(error, click.MissingParameter):
        return _missing(error)
    if isinstance(error, click.NoSuchOption):
        close = f";你是不是想写 {'、'.join(sorted(error.possibilities))}" if error.possibilities else ""
        return f"没有 {error.option_name} 这个选项{close}"
    if isinstance(error, click.BadOptionUsage):
        if "does not take a value" in error.message:
            return f"选项 {error.option_name} 是开关,后面不写值"
        return f"选项 {error.option_name} 后面要写一个值"
    if isinstance(error, click.BadParameter):
        return f"{_name(error.param)}:{error.message}" if isinstance(error.param, click.Option) else error.message
    if isinstance(error, click.FileError):
        return f"无法打开文件 {error.ui_filename}:{error.message}"
    return error.format_message()


def _missing(error: click.MissingParameter) -> str:
    param = error.param
    what = "选项" if isinstance(param, click.Option) else "参数"
    explained = f"({param.help})" if isinstance(param, click.Option) and param.help else ""
    return f"缺少{what} {_name(param)}{explained}"


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "参数"
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name


class PathType(click.ParamType):
    """A file or folder path, checked with Chinese messages (click.Path's are English)."""

    def __init__(self, kind: str = "path", exists: bool = False) -> None:
        self.kind = kind  # file | folder | path
        self.exists = exists
        self.name = {"file": "文件", "folder": "文件夹"}.get(kind, "路径")

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return self.name

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        if not self.exists:  # the command itself says what is wrong with the path, when it uses it
            return path
        if not path.exists():
            self.fail(f"{self.name} {path} 不存在", param, ctx)
        if self.kind == "file" and path.is_dir():
            self.fail(f"{path} 是文件夹,这里要写一个文件", param, ctx)
        if self.kind == "folder" and not path.is_dir():
            self.fail(f"{path} 不是文件夹", param, ctx)
        return path
