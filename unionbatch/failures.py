"""What went wrong with the run itself (disk, permissions, the ledger), as one Chinese line naming what failed; and the
temporary files a failed run must not leave behind."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from contextlib import suppress
from pathlib import Path

_OS_REASONS = {
    errno.ENOSPC: "磁盘已满",
    errno.EDQUOT: "超出磁盘配额",
    errno.EFBIG: "文件超过系统允许的大小",
    errno.EACCES: "没有读写权限",
    errno.EPERM: "没有读写权限",
    errno.EROFS: "磁盘是只读的",
    errno.EIO: "磁盘读写出错",
    errno.ENOENT: "文件或文件夹不存在",
    errno.ENOTDIR: "路径中有一项不是文件夹",
    errno.EISDIR: "应为文件,却是一个文件夹",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EMFILE: "同时打开的文件过多",
    errno.ENFILE: "系统同时打开的文件过多",
    errno.EBUSY: "文件或设备正被占用",
    errno.ETXTBSY: "文件正被占用",
    errno.EEXIST: "文件已存在",
    errno.ENOTEMPTY: "文件夹不是空的",
    errno.ELOOP: "快捷方式(符号链接)循环指向自己",
    errno.EXDEV: "不能跨磁盘移动",
    errno.ENOMEM: "内存不足",
    errno.EAGAIN: "资源暂时不可用,请稍后再试",
    errno.ECONNREFUSED: "连接被拒绝(服务器未运行,或端口不对)",
    errno.ECONNRESET: "连接被对方中断",
    errno.ETIMEDOUT: "连接超时(服务器无响应,或被防火墙拦截)",
    errno.EHOSTUNREACH: "无法到达服务器(网络不通)",
    errno.ENETUNREACH: "网络不通",
    errno.EPIPE: "连接已断开",
    errno.ESTALE: "网络文件夹的连接已失效,请重新连接",
}
_SQLITE_REASONS = (
    ("disk is full", "磁盘已满"),
    ("readonly database", "没有写入权限"),
    ("disk i/o error", "磁盘读写出错"),
    ("unable to open", "无法打开"),
    ("not a database", "不是台账数据库文件"),
    ("malformed", "数据库文件已损坏"),
    ("locked", "正被另一个程序使用"),
)
# what a run writes before renaming it into place (write/annotate, archive moves and copies, replies)
TEMPORARY_PATTERNS = (".*.tmp.xlsx", ".*.moving", ".*.copying", ".*.tmp")


def os_reason(error: OSError) -> str:
    """The OS's reason in Chinese (its English strerror never reaches the user); an errno not listed by its number."""
    if isinstance(error, TimeoutError) and error.errno is None:
        return _OS_REASONS[errno.ETIMEDOUT]
    if error.errno in _OS_REASONS:
        return _OS_REASONS[error.errno]
    return f"系统错误(错误号 {error.errno})" if error.errno else "系统错误"


def os_failure(error: OSError, fallback: Path) -> str:
    """磁盘已满:/out/2026-05(本次处理未完成)— the file's folder when the file is one of our temporaries."""
    where = Path(error.filename) if error.filename else fallback
    if where.name.startswith("."):
        where = where.parent
    return f"{os_reason(error)}:{where}(本次处理未完成,问题解决后重新运行即可)"


def wrapped_os_error(error: Exception) -> OSError | None:
    """The OSError inside xlsxwriter's FileCreateError (xlsxwriter is not imported for this: `validate` starts
    faster without it)."""
    if not type(error).__module__.startswith("xlsxwriter"):
        return None
    inner = error.args[0] if error.args else error.__context__
    return inner if isinstance(inner, OSError) else None


def ledger_failure(error: sqlite3.Error, ledger: Path) -> str:
    text = str(error).lower()
    reason = next((chinese for english, chinese in _SQLITE_REASONS if english in text), f"数据库错误({error})")
    if reason == "磁盘读写出错" and _free_bytes(ledger.parent) < FULL_BELOW:
        reason = "磁盘已满"  # WAL mode: a full disk surfaces as an I/O error on the -shm/-wal files
    return f"台账 {ledger} 无法使用:{reason}(本次处理未完成,问题解决后重新运行即可)"


FULL_BELOW = 1024 * 1024


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return FULL_BELOW


def remove_temporaries(folder: Path) -> None:
    """A run that failed midway removes what it had not yet renamed into place; the finished files stay."""
    for pattern in TEMPORARY_PATTERNS:
        for path in folder.rglob(pattern) if folder.is_dir() else ():
            with suppress(OSError):
                path.unlink()
