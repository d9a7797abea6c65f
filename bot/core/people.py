"""Personal data of veterans: validation, masking and protection at rest.

Why this module exists: mobile numbers and 居民身份证 numbers reach us as free text typed on a
phone keyboard (full-width digits, spaces, ``+86``), and must never appear unmasked in logs,
published texts or the agent console. ID numbers are stored encrypted (Fernet) and looked up by
a keyed HMAC fingerprint so that dedupe ("one active booking per person") needs no decryption.

Errors carry a machine ``code``; the user-facing Chinese wording lives in domain responses.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
from datetime import date
from functools import lru_cache

from bot.core import settings

__all__ = [
    "InvalidMobile",
    "InvalidIdNumber",
    "validate_mobile",
    "validate_phone",
    "is_landline",
    "validate_id_number",
    "id_check_digit",
    "birth_date_from_id",
    "mask_id",
    "mask_phone",
    "mask_name",
    "mask_text",
    "encrypt_id",
    "decrypt_id",
    "encrypt_value",
    "decrypt_value",
    "id_fingerprint",
    "mobile_fingerprint",
    "phone_matches",
    "PiiMaskingFilter",
]


class PiiError(ValueError):
    """A validation failure with a stable machine ``code`` (the NLG maps codes to wording)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class InvalidMobile(PiiError):
    """Codes: ``empty``, ``bad_format``, ``not_mobile``."""


class InvalidIdNumber(PiiError):
    """Codes: ``empty``, ``bad_length``, ``bad_format``, ``bad_region``, ``bad_birthdate``,
    ``bad_check_digit``."""


def _clean(text: str | None) -> str:
    """NFKC turns full-width digits/letters (１３８, ｘ) into ASCII; separators are dropped."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-‐‑–—_.()（）]", "", text)


# --------------------------------------------------------------------------- mobile


def validate_mobile(text: str | None) -> str:
    """Return the 11-digit mainland mobile number in ``text`` or raise ``InvalidMobile``.

    Accepts spaces, dashes, ``+86`` / ``0086`` and full-width digits. Landlines are refused
    (``not_mobile``) because the number is used for SMS-style reminders and look-ups.
    """
    import phonenumbers

    cleaned = _clean(text)
    if not cleaned:
        raise InvalidMobile("empty")
    if not re.fullmatch(r"\+?\d{7,16}", cleaned):
        raise InvalidMobile("bad_format")
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile("bad_format", str(exc)) from None
    national = str(number.national_number)
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        if re.fullmatch(r"1\d{10}", national):
            raise InvalidMobile("not_mobile")
        raise InvalidMobile("bad_format")
    kind = phonenumbers.number_type(number)
    if (
        kind
        not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        or len(national) != 11
    ):
        raise InvalidMobile("not_mobile")
    return national


# Qingdao's area code: an 8-digit local number typed without it ("85861234") is a Qingdao line.
LOCAL_AREA_CODE = "0532"


def is_landline(number: str | None) -> bool:
    """A number ``validate_phone`` returned for a fixed line (it keeps the leading 0)."""
    return bool(number) and str(number).startswith("0")


def validate_phone(text: str | None) -> str:
    """A contact number: an 11-digit mobile (as ``validate_mobile``) or a mainland landline with
    its area code, digits only ('0532-85861234' → '053285861234'; a bare 8-digit local number
    gets Qingdao's 0532). Elderly veterans often only have a landline; reminders to a landline
    come as a phone call, not an SMS. Raises ``InvalidMobile`` otherwise."""
    import phonenumbers

    try:
        return validate_mobile(text)
    except InvalidMobile as error:
        cleaned = _clean(text)
        if cleaned.startswith("+86"):
            cleaned = cleaned[3:]
            cleaned = cleaned if cleaned.startswith("0") else "0" + cleaned
        if re.fullmatch(r"[2-9]\d{7}", cleaned):
            cleaned = LOCAL_AREA_CODE + cleaned
        if not re.fullmatch(r"0\d{9,11}", cleaned):
            raise error from None
        try:
            number = phonenumbers.parse(cleaned, "CN")
        except phonenumbers.NumberParseException:
            raise error from None
        kind = phonenumbers.number_type(number)
        if not phonenumbers.is_valid_number(number) or kind not in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            raise error from None
        return "0" + str(number.national_number)


# --------------------------------------------------------------------------- ID number

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level prefixes (incl. 71 台湾, 81 香港, 82 澳门 and 83 for residence permits).
_PROVINCES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
    "83",
}


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=False))
    return _ID_CHECK_CHARS[total % 11]


def birth_date_from_id(id_number: str) -> date:
    """The birth date encoded in positions 7-14 of a (validated) 18-character ID."""
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def validate_id_number(text: str | None, today: date | None = None) -> str:
    """Return the 18-character upper-case ID number or raise ``InvalidIdNumber`` with a code.

    Checks, in order: length, characters, province prefix, birth date (a real date between 1900
    and ``today``) and the GB 11643 check character, so the user hears the most useful reason.
    """
    cleaned = _clean(text).upper()
    if not cleaned:
        raise InvalidIdNumber("empty")
    if len(cleaned) != 18:
        raise InvalidIdNumber("bad_length", f"{len(cleaned)} characters")
    if not re.fullmatch(r"\d{17}[\dX]", cleaned):
        raise InvalidIdNumber("bad_format")
    if cleaned[:2] not in _PROVINCES:
        raise InvalidIdNumber("bad_region")
    try:
        born = birth_date_from_id(cleaned)
    except ValueError:
        raise InvalidIdNumber("bad_birthdate") from None
    if born.year < 1900 or born > (today or date.today()):
        raise InvalidIdNumber("bad_birthdate")
    if id_check_digit(cleaned[:17]) != cleaned[17]:
        raise InvalidIdNumber("bad_check_digit")
    return cleaned


# --------------------------------------------------------------------------- masking


def mask_id(id_number: str | None) -> str:
    """'370202199001011234' → '3702**********1234' (first 4, 10 stars, last 4)."""
    value = _clean(id_number).upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(mobile: str | None) -> str:
    """'13812345678' → '138****5678'; other lengths keep first 3 and last 4 at most."""
    value = _clean(mobile)
    if value.startswith("+86"):
        value = value[3:]
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(name: str | None) -> str:
    """'王建国' → '王*国', '王五' → '王*', '欧阳娜娜' → '欧**娜'; names stay recognisable to
    staff."""
    value = (name or "").strip()
    if len(value) <= 1:
        return "*" * len(value)
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


# \d is Unicode-aware, so full-width digits are caught too; the lookarounds keep us from
# splitting a longer digit run into pieces.
_ID_RE = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d{4}){2}(?!\d)")
_LONG_DIGITS_RE = re.compile(r"(?<!\d)\d{11,}(?!\d)")
# A landline with its area code ("0532-85861234") and a phone number spoken as numerals
# ("一三八 五三二六 七七八九", 幺 = 1): both are contact numbers people type.
_LANDLINE_RE = re.compile(r"(?<![\d\-])0\d{2,3}[\s\-]?\d{7,8}(?![\d\-])")
_SPOKEN_DIGITS_RE = re.compile(
    r"[零〇一二三四五六七八九幺洞](?:[\s\-]*[零〇一二三四五六七八九幺洞]){6,}"
)


def find_mobile(text: str | None) -> str | None:
    """The first valid mainland mobile number written inside free text, as 11 digits; None when
    there is none ("码是 K7QX3M 电话 136 0532 9876" → "13605329876")."""
    for match in _MOBILE_RE.finditer(unicodedata.normalize("NFKC", text or "")):
        try:
            return validate_mobile(match.group(0))
        except InvalidMobile:
            continue
    return None


def _digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _mask_run(match: re.Match[str]) -> str:
    run = _digits(match.group(0))
    return run[:3] + "*" * (len(run) - 7) + run[-4:]


def mask_text(text: str | None) -> str:
    """Mask every ID number, mobile or landline number (also spoken as numerals) and 11+ digit
    run inside free text.

    Used for log lines, the first message shown in the handoff queue and published wish texts.
    """
    if not text:
        return text or ""
    text = _ID_RE.sub(lambda m: mask_id(_digits(m.group(0))), text)
    text = _MOBILE_RE.sub(lambda m: mask_phone(re.sub(r"^\+?86", "", _clean(m.group(0)))), text)
    text = _LANDLINE_RE.sub(lambda m: mask_phone(_clean(m.group(0))), text)
    text = _SPOKEN_DIGITS_RE.sub(lambda m: "*" * len(m.group(0)), text)
    return _LONG_DIGITS_RE.sub(_mask_run, text)


class PiiMaskingFilter(logging.Filter):
    """Logging filter that rewrites records so that no ID or phone number reaches a log sink.

    Install on handlers (not loggers) so records propagated from any library are covered.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not drop the record
            message = str(record.msg)
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


# --------------------------------------------------------------------------- at rest


@lru_cache(maxsize=4)
def _fernet(key: bytes):
    from cryptography.fernet import Fernet

    return Fernet(key)


@lru_cache(maxsize=4)
def _fingerprint_key(key: bytes) -> bytes:
    """A sub-key so the HMAC key differs from the encryption key while one secret is managed."""
    return hmac.new(key, b"rongjun-id-fingerprint-v1", hashlib.sha256).digest()


def encrypt_id(id_number: str) -> str:
    """Fernet token (ASCII) for a validated ID number."""
    return _fernet(settings.id_key()).encrypt(id_number.encode()).decode()


def decrypt_id(token: str) -> str:
    """Inverse of ``encrypt_id``; raises ``cryptography.fernet.InvalidToken`` on a wrong key."""
    return _fernet(settings.id_key()).decrypt(token.encode()).decode()


def encrypt_value(value: str) -> str:
    """Fernet token for any personal value kept at rest (a name or mobile in a Rasa slot)."""
    return encrypt_id(value)


def decrypt_value(token: str) -> str:
    """Inverse of ``encrypt_value``."""
    return decrypt_id(token)


def id_fingerprint(id_number: str) -> str:
    """Deterministic keyed digest (hex) of the normalised ID: equal IDs → equal fingerprints."""
    normalised = _clean(id_number).upper()
    return hmac.new(
        _fingerprint_key(settings.id_key()), normalised.encode(), hashlib.sha256
    ).hexdigest()


@lru_cache(maxsize=4)
def _mobile_key(key: bytes) -> bytes:
    return hmac.new(key, b"rongjun-mobile-fingerprint-v1", hashlib.sha256).digest()


def mobile_fingerprint(mobile: str) -> str:
    """Keyed digest (hex) of a mobile number, kept beside its ciphertext so that a look-up can
    check "is this the number given at booking?" without decrypting every row. ``+86 138-…`` and
    ``138…`` give the same digest; so do ``0532-85861234`` and ``85861234`` (landlines)."""
    try:
        normalised = validate_phone(mobile)
    except InvalidMobile:
        normalised = _clean(mobile)
    return hmac.new(_mobile_key(settings.id_key()), normalised.encode(), hashlib.sha256).hexdigest()


def phone_matches(row: object, phone: str | None) -> bool:
    """True when ``phone`` is the contact number (mobile or landline) stored (as
    ``row.mobile_hash``) for a booking, wish or job-seeker row; False for a missing, invalid or
    different number. Constant-time compare."""
    stored = getattr(row, "mobile_hash", None)
    if not stored or not phone:
        return False
    try:
        mobile = validate_phone(phone)
    except InvalidMobile:
        return False
    return hmac.compare_digest(stored, mobile_fingerprint(mobile))
