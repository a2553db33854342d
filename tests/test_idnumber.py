from datetime import date

import pytest

from app.households.idnumber import (
    birth_date,
    check_character,
    gender,
    id_number_problem,
    is_valid_id_number,
    normalize_id_number,
)

VALID = "11010519491231002X"  # the GB 11643-1999 example


def test_known_valid_number() -> None:
    assert check_character(VALID[:17]) == "X"
    assert id_number_problem(VALID) is None
    assert is_valid_id_number(VALID)
    assert birth_date(VALID) == date(1949, 12, 31)
    assert gender(VALID) == "女"


def test_other_check_characters() -> None:
    assert check_character("11010119900307123") == "3"
    assert is_valid_id_number("110101199003071233")
    assert gender("110101199003071233") == "男"
    assert check_character("44030419850615003") == "1"
    assert birth_date("440304198506150031") == date(1985, 6, 15)


def test_lowercase_x_and_spaces_are_normalised() -> None:
    assert normalize_id_number(" 110105 19491231\u3000002x ") == VALID
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == VALID
    assert is_valid_id_number("11010519491231002x")


def test_wrong_check_character() -> None:
    assert id_number_problem("110105194912310021") == "校验位错误，应为 X"
    assert not is_valid_id_number("110105194912310021")


def test_wrong_length() -> None:
    problem = id_number_problem("11010519491231002")
    assert problem is not None and "18" in problem
    assert id_number_problem("") is not None


def test_non_digits_in_first_17() -> None:
    problem = id_number_problem("11010519491231A02X")
    assert problem is not None and "数字" in problem


@pytest.mark.parametrize("first17", [
    "11010519490231002",  # 31 February
    "11010518991231002",  # before 1900
    "11010520991231002",  # in the future
])
def test_bad_birth_date(first17: str) -> None:
    number = first17 + check_character(first17)
    problem = id_number_problem(number, today=date(2026, 1, 1))
    assert problem is not None and "出生日期" in problem
    with pytest.raises(ValueError):
        birth_date(number)
