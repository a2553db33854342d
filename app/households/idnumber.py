"""Resident ID numbers (居民身份证号码, GB 11643-1999): normalise, validate, read birth date and sex."""

from __future__ import annotations

import unicodedata
from datetime import date
from operator import mul

WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
LENGTH = 18
EARLIEST_BIRTH = date(1900, 1, 1)


def check_character(first17: str) -> str:
    """The check character (0-9 or X) for the first 17 digits of an ID number."""
    if len(first17) != LENGTH - 1 or not _ascii_digits(first17):
        raise ValueError("需要 17 位数字")
    total = sum(map(mul, map(int, first17), WEIGHTS))  # in C: the import checks 200,000 of these
    return CHECK_CHARACTERS[total % 11]


def normalize_id_number(value: str) -> str:
    """Remove all spaces (half- and full-width), turn full-width characters into ASCII, upper-case x to X."""
    value = value or ""
    if not value.isascii():  # NFKC changes no ASCII character
        value = unicodedata.normalize("NFKC", value)
    return "".join(value.split()).upper()


def id_number_problem(value: str, today: date | None = None) -> str | None:
    """None when the (normalised) value is a valid 18-character ID number, else a short Chinese message."""
    number = normalize_id_number(value)
    if not number:
        return "请填写证件号码"
    if len(number) != LENGTH:
        return f"证件号码应为 18 位，实际为 {len(number)} 位"
    if not _ascii_digits(number[:17]):
        return "证件号码前 17 位只能是数字"
    born = _parse_birth(number)
    if born is None:
        return "出生日期无效（第 7–14 位应为真实的年月日）"
    if today is None:
        from app.clock import china_today  # the county's day, whatever the server's own zone

        today = china_today()
    if born > today or born < EARLIEST_BIRTH:
        return "出生日期无效（不能晚于今天或早于 1900 年）"
    expected = check_character(number[:17])
    if number[17] != expected:
        return f"校验位错误，应为 {expected}"
    return None


def masked_id(value: str | None) -> str:
    """The ID number as lists show it: region and last four only. Full numbers appear only where work needs them."""
    return f"{value[:6]}********{value[-4:]}" if value and len(value) == LENGTH else (value or "")


def is_valid_id_number(value: str, today: date | None = None) -> bool:
    return id_number_problem(value, today) is None


def birth_date(value: str) -> date:
    """The birth date in a valid ID number; raises ValueError with the problem otherwise."""
    number = _valid(value)
    born = _parse_birth(number)
    assert born is not None  # _valid checked it
    return born


def gender(value: str) -> str:
    """"男" when the 17th digit is odd, "女" when even; raises ValueError for an invalid number."""
    number = _valid(value)
    return "男" if int(number[16]) % 2 else "女"


def _valid(value: str) -> str:
    problem = id_number_problem(value)
    if problem:
        raise ValueError(problem)
    return normalize_id_number(value)


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _parse_birth(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
