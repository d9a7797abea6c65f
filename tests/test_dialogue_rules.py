"""The digression table in bot/dialogue_rules.py and the files written from it."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import dialogue_rules as dr

REPO = Path(__file__).resolve().parents[1]


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_the_written_files_are_current():
    """Fails after an edit to the table, forms.yml or the domain's lists: run `make rules`."""
    assert dr.stale_files() == []
    assert dr.main(["--check"]) == 0


def test_a_hand_edit_of_the_rules_is_caught(tmp_path, monkeypatch):
    edited = tmp_path / "forms.yml"
    edited.write_text(dr.render_rules().replace("utter_cancelled", "utter_ok", 1), encoding="utf-8")
    monkeypatch.setattr(dr, "RULES_FILE", edited)
    assert dr.stale_files() == [edited]
    assert dr.main(["--check"]) == 1
    dr.write()
    assert edited.read_text(encoding="utf-8") == dr.render_rules()


def test_a_stale_domain_list_is_rewritten_and_nothing_else_changes():
    domain = dr.DOMAIN_FILE.read_text(encoding="utf-8")
    stale = domain.replace("ask_rights_protection, ", "", 1)
    assert stale != domain
    assert dr.render_domain(stale) == domain


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _from_text_mappings():
    for name, slot in load(REPO / "domain.yml")["slots"].items():
        for mapping in slot.get("mappings") or []:
            if mapping.get("type") == "from_text":
                if mapping.get("intent"):
                    # only that intent fills it (the wish said in the submit_wish message):
                    # no protected intent can be swallowed
                    assert not set(_as_list(mapping["intent"])) & dr.protected_intents(), name
                    continue
                forms = {c.get("active_loop") for c in mapping.get("conditions") or []}
                yield name, forms, set(mapping.get("not_intent") or [])


def test_every_form_text_mapping_ignores_its_forms_protected_intents():
    seen = 0
    for slot, forms, not_intent in _from_text_mappings():
        assert forms and None not in forms, f"{slot}: from_text must be conditioned on a form"
        assert forms <= set(dr.FORMS), slot
        for form in forms:
            assert not_intent == dr.protected_intents(form), (slot, form)
        seen += 1
    assert seen >= 15


def test_every_form_has_every_digression_and_only_those():
    rules = load(dr.RULES_FILE)["rules"]
    domain_forms = set(load(REPO / "domain.yml")["forms"])
    assert set(dr.FORMS) == domain_forms
    for form in domain_forms:
        mine = [r for r in rules if r["condition"] == [{"active_loop": form}]]
        used = [d for d in dr.DIGRESSIONS if dr.digression_intents(form, d)]
        assert len(mine) == len(used) + 1, form  # + the "not understood is the answer" rule
        answered = set()
        for rule in mine:
            first = rule["steps"][0]
            answered |= {s["intent"] for s in first.get("or", [])} | (
                {first["intent"]} if "intent" in first else set()
            )
        # crisis: the unconditional rule in safety.yml
        expected = dr.protected_intents(form) - set(dr.ALWAYS_PROTECTED)
        assert answered == expected | set(dr.ANSWER_INTENTS), form
        assert not set(dr.ANSWER_INTENTS) & dr.protected_intents(form)


def test_typed_yes_at_the_cancel_question_is_an_answer():
    """ "对，取消吧" (intent cancel) at "确定要取消…吗？" is the answer, not a request to stop."""
    assert "cancel" not in dr.protected_intents("appointment_cancel_form")
    assert "cancel" in dr.protected_intents("appointment_form")
    rules = load(dr.RULES_FILE)["rules"]
    assert "appointment_cancel_form - cancel stops the form" not in {r["rule"] for r in rules}


def test_the_finder_takes_ask_entitlements_as_an_answer():
    assert "ask_entitlements" in dr.protected_intents("wish_form")
    assert "ask_entitlements" not in dr.protected_intents("entitlement_form")
    rules = load(dr.RULES_FILE)["rules"]
    finder = [r for r in rules if r["condition"] == [{"active_loop": "entitlement_form"}]]
    assert "ask_entitlements" not in str(finder)


def test_resuming_and_stopping_rules_have_the_expected_shape():
    rules = {r["rule"]: r["steps"] for r in load(dr.RULES_FILE)["rules"]}
    assert rules["wish_form - are you a bot, mid-form"] == [
        {"intent": "bot_challenge"},
        {"action": "utter_iamabot"},
        {"action": "wish_form"},
        {"active_loop": "wish_form"},
    ]
    assert rules["reschedule_form - cancel stops the form"] == [
        {"intent": "cancel"},
        {"action": "action_stop_form"},
        {"active_loop": None},
        {"action": "utter_cancelled"},
    ]
    assert rules[
        "entitlement_form - a 报到 booking asked for stops the finder and starts the booking"
    ] == [
        {"intent": "book_appointment"},
        {"action": "action_stop_form"},
        {"active_loop": None},
        {"action": "appointment_form"},
        {"active_loop": "appointment_form"},
    ]
    assert "book_appointment" in dr.protected_intents("entitlement_form")
    assert "book_appointment" not in dr.protected_intents("appointment_form")
    assert "book_appointment" not in dr.protected_intents("wish_form")
    assert rules["job_seeker_form - a human is requested, then the form stops"] == [
        {"intent": "request_human"},
        {"action": "action_request_human"},
        {"action": "action_stop_form"},
        {"active_loop": None},
    ]


def test_crisis_is_handled_outside_the_forms_in_every_state():
    safety = load(REPO / "nlu_data/rules/safety.yml")["rules"]
    crisis = [r for r in safety if r["steps"][0].get("intent") == "crisis"]
    assert len(crisis) == 2 and all("condition" not in r for r in crisis)
    # An unmistakable phrase (the gate's crisis_kind entity): the domain response first.
    gate = next(r for r in crisis if r["steps"][0].get("entities") == ["crisis_kind"])
    assert gate["steps"][1:] == [{"action": "utter_crisis"}, {"action": "action_handle_crisis"}]
    # The classifier alone: a check question first (action_crisis_followup).
    guess = next(r for r in crisis if r is not gate)
    assert guess["steps"][1:] == [{"action": "action_crisis_followup"}]
