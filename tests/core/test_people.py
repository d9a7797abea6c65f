"""PII validation, masking and protection at rest (bot/core/people.py)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from cryptography.fernet import InvalidToken

from bot.core import people
from bot.core.people import InvalidIdNumber, InvalidMobile

VALID_ID = "370202199001011237"
VALID_ID_X = "11010519491231002X"


# ------------------------------------------------------------------ mobile


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "008613812345678",
        "１３８１２３４５６７８",
        " 13812345678 ",
    ],
)
def test_validate_mobile_accepts_common_spellings(text):
    assert people.validate_mobile(text) == "13812345678"


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty"),
        (None, "empty"),
        ("abc", "bad_format"),
        ("1381234567", "bad_format"),
        ("12345678901", "not_mobile"),
        ("0532-88888888", "not_mobile"),
        ("138123456789", "bad_format"),
    ],
)
def test_validate_mobile_rejects_with_code(text, code):
    with pytest.raises(InvalidMobile) as excinfo:
        people.validate_mobile(text)
    assert excinfo.value.code == code


# ------------------------------------------------------------------ ID number


def test_check_digit_matches_gb11643_examples():
    # 11010519491231002X is the example printed in GB 11643-1999.
    assert people.id_check_digit("11010519491231002") == "X"
    assert people.id_check_digit("37020219900101123") == "7"


@pytest.mark.parametrize(
    "text",
    [
        VALID_ID,
        "3702 0219 9001 0112 37",
        "１１０１０５１９４９１２３１００２ｘ",
        VALID_ID_X.lower(),
    ],
)
def test_validate_id_accepts_and_normalises(text):
    result = people.validate_id_number(text, today=date(2026, 12, 1))
    assert len(result) == 18 and result == result.upper()
    assert result in (VALID_ID, VALID_ID_X)


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "empty"),
        ("37020219900101123", "bad_length"),
        ("3702021990010112377", "bad_length"),
        ("37020219900101123A", "bad_format"),
        ("990202199001011237", "bad_region"),
        ("370202199002301230", "bad_birthdate"),  # 30 February
        ("370202203001011234", "bad_birthdate"),  # born in the future
        ("370202189901011234", "bad_birthdate"),  # before 1900
        ("370202199001011238", "bad_check_digit"),
        ("110105194912310021", "bad_check_digit"),  # digit where X belongs
    ],
)
def test_validate_id_rejects_with_code(text, code):
    with pytest.raises(InvalidIdNumber) as excinfo:
        people.validate_id_number(text, today=date(2026, 12, 1))
    assert excinfo.value.code == code


def test_birth_date_from_id():
    assert people.birth_date_from_id(VALID_ID) == date(1990, 1, 1)


# ------------------------------------------------------------------ masking


def test_mask_id_keeps_first_and_last_four():
    assert people.mask_id("37020219900101123X") == "3702**********123X"
    assert people.mask_id(VALID_ID) == "3702**********1237"


def test_mask_phone_and_name():
    assert people.mask_phone("13812345678") == "138****5678"
    assert people.mask_phone("+8613812345678") == "138****5678"
    assert people.mask_name("王建国") == "王*国"
    assert people.mask_name("王五") == "王*"
    assert people.mask_name("欧阳娜娜") == "欧**娜"
    assert people.mask_name("") == ""


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            f"我的身份证是{VALID_ID}，电话13812345678",
            "我的身份证是3702**********1237，电话138****5678",
        ),
        ("电话 138 1234 5678 谢谢", "电话 138****5678 谢谢"),
        ("卡号6222021234567890123", "卡号622************0123"),
        ("身份证11010519491231002x", "身份证1101**********002X"),
        ("全角１３８１２３４５６７８", "全角138****5678"),
        ("预约12月5号9点，共3人，邮编266000", "预约12月5号9点，共3人，邮编266000"),
        ("家里座机0532-85861234", "家里座机053*****1234"),
        ("一三八 五三二六 七七八九", "*************"),
        ("下周一上午，三个人", "下周一上午，三个人"),
    ],
)
def test_mask_text(text, expected):
    assert people.mask_text(text) == expected


def test_mask_text_leaves_no_long_digit_run():
    masked = people.mask_text(f"{VALID_ID} 13812345678 123456789012345")
    assert not any(len(run) >= 11 for run in masked.replace("*", " ").split())


def test_logging_filter_masks_message_args_and_exceptions(caplog):
    logger = logging.getLogger("rj.test.pii")
    handler_filter = people.PiiMaskingFilter()
    caplog.handler.addFilter(handler_filter)
    try:
        logger.warning("user %s gave id %s", "13812345678", VALID_ID)
        try:
            raise ValueError(f"bad id {VALID_ID}")
        except ValueError:
            logger.exception("failed")
    finally:
        caplog.handler.removeFilter(handler_filter)
    text = caplog.text
    assert "13812345678" not in text and VALID_ID not in text
    assert "138****5678" in text and "3702**********1237" in text


# ------------------------------------------------------------------ at rest


def test_encrypt_round_trip_and_ciphertext_hides_id():
    token = people.encrypt_id(VALID_ID)
    assert VALID_ID not in token
    assert people.decrypt_id(token) == VALID_ID
    assert people.encrypt_id(VALID_ID) != token  # Fernet is randomised


def test_decrypt_with_other_key_fails(monkeypatch):
    token = people.encrypt_id(VALID_ID)
    from cryptography.fernet import Fernet

    monkeypatch.setenv("RJ_ID_KEY", Fernet.generate_key().decode())
    with pytest.raises(InvalidToken):
        people.decrypt_id(token)


def test_fingerprint_is_stable_keyed_and_normalised(monkeypatch):
    first = people.id_fingerprint(VALID_ID)
    assert first == people.id_fingerprint("3702 0219 9001 0112 37")
    assert first != people.id_fingerprint(VALID_ID_X)
    assert VALID_ID not in first and len(first) == 64
    from cryptography.fernet import Fernet

    monkeypatch.setenv("RJ_ID_KEY", Fernet.generate_key().decode())
    assert people.id_fingerprint(VALID_ID) != first


def test_id_key_generated_in_data_dir_when_env_missing(monkeypatch, tmp_path):
    monkeypatch.delenv("RJ_ID_KEY")
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path / "fresh"))
    token = people.encrypt_id(VALID_ID)
    key_file = tmp_path / "fresh" / "id.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert people.decrypt_id(token) == VALID_ID


@pytest.mark.parametrize(
    "text, number",
    [
        ("0532-85861234", "053285861234"),
        ("0532 8586 1234", "053285861234"),
        ("85861234", "053285861234"),  # a local Qingdao number
        ("010-62345678", "01062345678"),
        ("+86 138 1234 5678", "13812345678"),
    ],
)
def test_validate_phone_accepts_mobiles_and_landlines(text, number):
    assert people.validate_phone(text) == number
    assert people.is_landline(number) == number.startswith("0")


@pytest.mark.parametrize("text", ["12345", "12345678901", "0532-123", "我没有电话"])
def test_validate_phone_refuses_the_rest(text):
    with pytest.raises(people.InvalidMobile):
        people.validate_phone(text)
