"""Columns several forms share, each in one place; a form adapts one with `dataclasses.replace`."""

from __future__ import annotations

from unionbatch.spec import Column, Person, Unique

SEQ = Column("seq", "序号", "text", required=False, row_number=True, width=6, help="可不填")
GENDER = Column("gender", "性别", "choice", choices=("男", "女"), help="从下拉列表选择", example="男", width=6)
ID_NUMBER = Column(
    "id_number",
    "身份证号",
    "id",
    synonyms=("身份证号码", "证件号码", "公民身份号码", "身份证"),
    help="18 位身份证号,本列已设为文本格式,请勿改为数字",
    example="110105198001011238",
    width=21,
)
PHONE = Column(
    "phone",
    "联系电话",
    "phone",
    required=False,
    synonyms=("联系方式", "手机号", "手机号码", "电话", "手机"),
    help="手机 11 位",
    example="13800138000",
    width=14,
)
REMARK = Column("remark", "备注", "text", required=False, width=14)
# a statistics form's row names its unit (a county's form one row per 镇); the form's own synonyms are added
UNIT_NAME = Column(
    "unit_name",
    "单位名称",
    "text",
    required=False,
    synonyms=("单位", "工会名称"),
    help="本表只报本单位一行时可不填",
    width=20,
)

NAMED = Person(name="name")  # a form naming people by 姓名 only
PERSON = Person(name="name", id_number=ID_NUMBER.key, gender=GENDER.key)  # 姓名, 身份证号 and 性别
ONCE_PER_PERSON = Unique((ID_NUMBER.key,), subject="人")  # one row per 身份证号, by one unit only
