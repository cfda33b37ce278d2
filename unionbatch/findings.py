"""Findings: every problem with a user's file is data, never an exception.

Each code has one severity and one message template (problem + how to fix it), in Chinese.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .privacy import mask_text

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Code:
    severity: str
    problem: str
    fix: str
    title: str = ""  # a few Chinese words naming the problem, shown beside the code (e.g. 身份证号校验位不对)


CODES: dict[str, Code] = {
    # file-level
    "file_type": Code(
        ERROR,
        "不是电子表格文件(扩展名为“{ext}”)",
        "请提交 .xlsx、.xls、.xlsm 或 .ods 格式的表格",
        title="不是电子表格文件",
    ),
    "file_unreadable": Code(
        ERROR,
        "文件无法读取:{reason}",
        "请用 Excel 或 WPS 打开确认文件完好,另存为 .xlsx 后重新提交",
        title="文件无法读取",
    ),
    "file_encrypted": Code(ERROR, "文件设有密码", "请取消密码后重新提交", title="文件设有密码"),
    "file_disguised": Code(
        ERROR,
        "文件实际上是{real},不是电子表格(只是扩展名为“{ext}”)",
        "请提交 Excel 表格本身;从其他系统导出的文件,请先用 Excel 或 WPS 打开,另存为 .xlsx 后再提交",
        title="文件实为其他格式",
    ),
    "file_unsafe": Code(
        ERROR,
        "文件中含有不安全的内容({reason}),已拒绝处理",
        "请用 Excel 或 WPS 打开后另存为新的 .xlsx 文件再提交",
        title="文件含不安全内容",
    ),
    "too_large": Code(
        ERROR,
        "文件超过处理上限:{reason}",
        "请删除多余的行、列或工作表后重新提交;确需报送大文件的,请联系工会办公室",
        title="文件超过处理上限",
    ),
    "archive_nested": Code(
        ERROR,
        "压缩包中的“{value}”本身又是一个压缩包,没有解开",
        "请把表格直接放进一个压缩包(不要包了再包),或把表格作为附件直接发送",
        title="压缩包里套压缩包",
    ),
    "archive_encrypted": Code(
        ERROR,
        "压缩包中的“{value}”设有密码,无法解开",
        "请去掉压缩包的密码后重新发送,或把表格作为附件直接发送",
        title="压缩包设有密码",
    ),
    "formulas_not_calculated": Code(
        ERROR,
        "表中有 {count} 个公式没有保存计算结果(如 {value}),文件可能由程序生成、从未在 Excel 中打开过",
        "请用 Excel 或 WPS 打开此文件,保存后重新提交",
        title="公式没有保存计算结果",
    ),
    "hidden_sheet": Code(
        WARNING,
        "工作表“{value}”处于隐藏状态,其中的内容未读取",
        "如其中有要报送的数据,请取消隐藏并填入报送的表中",
        title="工作表被隐藏",
    ),
    "late_submission": Code(
        ERROR,
        "文件于 {value} 收到,已过截止时间 {deadline}",
        "截止后人员不再变动,本文件未计入;确需补报的,请直接与工会办公室联系",
        title="逾期报送",
    ),
    "not_a_form": Code(
        ERROR,
        "未能识别为本会的任何一种表格(找不到含“姓名”“身份证号”等列的表头)",
        "请使用本会下发的模板填写,不要改动表头",
        title="不是本会的表格",
    ),
    "form_incomplete": Code(
        ERROR,
        "看起来是{form},但缺少“{missing}”列,无法按{form}受理",
        "请使用本会下发的{form}模板填写,或在表头加上“{missing}”列后重新提交",
        title="表格缺少必要的列",
    ),
    "form_in_hidden_sheet": Code(
        ERROR,
        "{form}只在隐藏的工作表“{value}”中,隐藏的工作表不读取",
        "如果这就是要报送的名单,请在 Excel / WPS 中取消隐藏该工作表后重新提交;如果是旧表,请删除该工作表",
        title="表格在隐藏的工作表中",
    ),
    "earlier_year_sheet": Code(
        WARNING,
        "工作表“{value}”是 {year} 年的{form},本文件中还有 {latest} 年的,只读取了 {latest} 年的工作表",
        "往年的名单不必报送,可删除该工作表或将其隐藏;如果它也是本期要报送的,请改正工作表名称或标题中的年份",
        title="含往年的工作表",
    ),
    "unit_conflict": Code(
        ERROR,
        "各工作表填写的填报单位不同({units}),一个文件只能是一个单位的报送",
        "请每个单位分别报送自己的文件;如果都是本单位的,请把各工作表的“填报单位”改为同一个单位全称",
        title="各工作表填报单位不同",
    ),
    "column_missing": Code(
        ERROR, "缺少必填列“{field}”", "请在表头行加上“{field}”列(建议直接使用本会模板)", title="缺少必填列"
    ),
    "unit_missing": Code(ERROR, "未填写填报单位", "请在表格上方“填报单位”处填写本单位全称", title="未填写填报单位"),
    "no_rows": Code(ERROR, "表中没有任何数据行", "请填写名单后再提交", title="表中没有数据行"),
    "old_template": Code(
        WARNING,
        "使用的是旧版模板(版本 {value}),现行版本为 {current}",
        "本次已按现行规则读取;下次请使用新版模板",
        title="使用旧版模板",
    ),
    "processing_failed": Code(
        ERROR,
        "处理此文件时程序内部出错({reason}),文件未被处理",
        "文件本身可能没有问题;请把此文件转给系统管理员检查",
        title="程序内部出错",
    ),
    # cell-level
    "hidden_rows": Code(
        WARNING,
        "第 {line} 行被隐藏,已按正常数据读取",
        "请确认隐藏行中的数据确实要报送;不需要的请整行删除,不要只隐藏",
        title="有隐藏的行",
    ),
    "required_missing": Code(ERROR, "“{field}”未填写", "请补填{field}", title="必填项未填写"),
    "not_a_number": Code(
        ERROR, "“{field}”应为数字,填写的是“{value}”", "请只填写数字,不要带文字,如 800 或 1200.50", title="应填数字"
    ),
    "not_integer": Code(ERROR, "“{field}”应为整数,填写的是“{value}”", "请填写整数,如 3", title="应填整数"),
    "money_precision": Code(
        ERROR,
        "金额“{value}”超过两位小数",
        "金额最多保留两位小数(以元为单位即精确到分,以万元为单位即精确到百元)",
        title="金额超过两位小数",
    ),
    "negative_value": Code(ERROR, "“{field}”不能为负数,填写的是“{value}”", "请填写 0 或正数", title="不能为负数"),
    "below_minimum": Code(ERROR, "“{field}”应不小于 {minimum},填写的是“{value}”", "请核对后改正", title="数值小于下限"),
    "invalid_choice": Code(
        ERROR, "“{field}”填写的“{value}”不在可选范围内", "请从下拉列表中选择:{choices}", title="不在可选范围内"
    ),
    "invalid_mark": Code(
        ERROR,
        "“{field}”填写的“{value}”看不出是否报名",
        "报名的打 √(可从下拉列表选择),不报名的留空",
        title="看不出是否报名",
    ),
    "legacy_choice": Code(
        WARNING, "“{field}”填写的“{value}”是旧称,已按“{mapped}”处理", "请改用现行名称:{choices}", title="使用了旧称"
    ),
    "id_as_number": Code(
        ERROR,
        "身份证号被 Excel 存成了数字(显示为 {value}),超过 15 位的数字后几位已变成 0,无法恢复",
        "请先把该列单元格设置为“文本”格式(或在号码前加英文单引号 '),再重新输入完整的 18 位身份证号",
        title="身份证号被存成数字",
    ),
    "id_first_generation": Code(
        ERROR,
        "身份证号“{value}”是 15 位的第一代身份证号,现行身份证为 18 位;按国家标准升位后应为 {upgraded}",
        "请与本人现在的身份证核对:一致的,把号码改为这个 18 位号码;不一致的,按身份证填写",
        title="15 位旧身份证号",
    ),
    "id_area_unknown": Code(
        WARNING,
        "身份证号前 6 位“{area}”不是已知的行政区划代码",
        "请对照身份证核对前 6 位;号码无误的(如新设的区县)可不修改",
        title="身份证号地区码不明",
    ),
    "id_format": Code(
        ERROR,
        "身份证号“{value}”格式不对:应为 18 位,前 17 位是数字,最后一位是数字或 X",
        "请对照身份证重新输入",
        title="身份证号格式不对",
    ),
    "id_birthdate": Code(
        ERROR,
        "身份证号中的出生日期“{birth}”不是有效日期",
        "请核对身份证号第 7 至 14 位(出生年月日)",
        title="身份证号出生日期无效",
    ),
    "id_checksum": Code(
        ERROR, "身份证号校验不通过,号码中有数字填错", "请对照身份证逐位核对,注意最后一位 X", title="身份证号校验位不对"
    ),
    "gender_mismatch": Code(
        ERROR,
        "性别填写为“{value}”,但身份证号显示为“{expected}”",
        "请核对性别或身份证号(第 17 位单数为男、双数为女)",
        title="性别与身份证号不符",
    ),
    "phone_invalid": Code(
        ERROR,
        "联系电话“{value}”格式不对",
        "手机号为 1 开头的 11 位数字;固定电话请写上区号,区号和号码之间可加短横线",
        title="联系电话格式不对",
    ),
    "duplicate_in_file": Code(
        ERROR,
        "此{key_name}与{other_place}重复,同一{subject}出现了两次",
        "请删除重复的一行,或核对{key_name}",
        title="本表内重复",
    ),
    "duplicate_across_files": Code(
        ERROR,
        "此{subject}也在“{other_unit}”报送的表中({other_file} {other_place})",
        "同一{subject}只能由一个单位报送(不重复、不交叉),请与对方单位核实后保留一处",
        title="与其他单位重复",
    ),
    "total_mismatch": Code(
        ERROR,
        "合计行的“{field}”为 {value},但各行相加为 {computed:,}(相差 {difference:,})",
        "请按各行实际金额改正合计",
        title="合计行与各行之和不符",
    ),
    # who may send
    "unknown_sender": Code(
        ERROR,
        "发件人 {value} 不在报送单位名单中,文件未汇总,已报告工会办公室",
        "请使用本单位在工会登记的邮箱报送;如更换了邮箱,请联系工会办公室登记",
        title="发件人未登记",
    ),
    "sender_unit_mismatch": Code(
        ERROR,
        "发件人 {value} 登记的单位是“{units}”,但表中的填报单位是“{unit}”,文件未汇总",
        "请只报送本单位的表格;代其他单位报送的,请由该单位用其登记的邮箱发送",
        title="发件人与填报单位不符",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One problem, as data: where it is, what was found, the code's severity and title, the message, and the
    parameters the message was filled with (the other file, the computed value, the difference …), kept so that
    report.json's readers need not parse Chinese to get them."""

    code: str
    file: str
    severity: str
    title: str
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None
    value: str | None = None
    problem: str = ""
    fix: str = ""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return f"{self.problem}。{self.fix}。"

    def to_dict(self, full_ids: bool = False) -> dict[str, Any]:
        show = (lambda text: text) if full_ids else mask_text
        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "field": self.field,
            "value": None if self.value is None else show(self.value),
            "message": show(self.message),
            "params": {name: _json_value(value, show) for name, value in self.params.items()},
        }


def _json_value(value: Any, show: Callable[[str], str]) -> Any:
    """A parameter as report.json holds it: numbers and flags as they are, a Decimal as its exact text."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    return show(str(value))


def code_definition(code: str, codes: Mapping[str, Code] | None = None) -> Code:
    """A code's definition: the form's own (`codes`, a spec's) or the engine's general one."""
    if codes and code in codes:
        return codes[code]
    return CODES[code]


def make_finding(
    code: str,
    file: str,
    *,
    codes: Mapping[str, Code] | None = None,
    sheet: str | None = None,
    cell: str | None = None,
    field: str | None = None,
    value: Any = None,
    **params: Any,
) -> Finding:
    """Build a finding, filling the code's templates with field, value and params; `codes` are the form's own
    codes (its spec's), looked up before the general ones."""
    template = code_definition(code, codes)
    shown = None if value is None else str(value)
    fill = {"field": field or "", "value": shown or "", **params}
    return Finding(
        code=code,
        file=file,
        severity=template.severity,
        title=template.title,
        sheet=sheet,
        cell=cell,
        field=field,
        value=shown,
        problem=template.problem.format(**fill),
        fix=template.fix.format(**fill),
        params=params,
    )
