"""The one confirmation-code generator (appointments and wishes)."""

from __future__ import annotations

from bot.core import codes


def test_alphabet_has_no_look_alikes():
    assert not set("01OIL") & set(codes.ALPHABET)
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET) == 31


def test_new_code_is_valid_and_skips_taken_codes():
    taken = set()
    for _ in range(200):
        code = codes.new_code(lambda c: c in taken)
        assert codes.is_valid(code) and code not in taken and len(code) == codes.LENGTH
        taken.add(code)


def test_new_code_retries_until_free():
    attempts = []

    def taken(code):
        attempts.append(code)
        return len(attempts) < 3

    code = codes.new_code(taken)
    assert code == attempts[-1] and len(attempts) == 3


def test_normalise_and_validate():
    assert codes.normalise(" ab3-k7m ") == "AB3K7M"
    assert codes.normalise("ＡＢ３Ｋ７Ｍ") == "AB3K7M"
    assert codes.is_valid("ab3 k7m")
    assert not codes.is_valid("AB3K7") and not codes.is_valid("AB0K7M")


def test_appointments_and_wishes_use_it(session, now):
    from bot.core import appointments, wishes

    assert (appointments.CODE_ALPHABET, appointments.CODE_LENGTH) == (codes.ALPHABET, codes.LENGTH)
    wish = wishes.submit(
        session, sender_id="tg-1", category="生活用品", description="想要一台收音机", now=now
    )
    assert codes.is_valid(wish.code)
    assert wishes.get_by_code(session, wish.code.lower()).id == wish.id
