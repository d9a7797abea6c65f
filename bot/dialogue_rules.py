"""What a message that is not an answer does while a form is asking: the one table.

Every form shares one digression pattern:

* an informational question is answered, then the form resumes and re-asks its question;
* a complaint about being asked again is answered with what is recorded, then the form resumes;
* cancel stops the form, nothing is saved (action_stop_form clears the form's slots);
* request_human records the handoff, then the form stops;
* in the entitlement finder (yes/no questions, nothing the user would lose), asking to book a
  报到 stops the finder and starts the booking, rather than the finder asking its question again;
* crisis is answered by the unconditional rule in nlu_data/rules/safety.yml, which stops any form.

From this table come (1) the rules in nlu_data/rules/forms.yml, (2) the ``not_intent`` lists of
the forms' from_text slot mappings in domain.yml (the anchored ``*_protected_intents`` lists), so
that a form never swallows those messages as answers, and (3) the protected intents the action
server's validators ignore (``protected_intents``). Run ``make rules`` (``python -m
bot.dialogue_rules``) after editing the table; ``--check`` fails when a written file is stale.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RULES_FILE = REPO / "nlu_data" / "rules" / "forms.yml"
DOMAIN_FILE = REPO / "domain.yml"
WIDTH = 100


@dataclass(frozen=True)
class Digression:
    """A rule shape: ``intents`` during ``form`` → ``actions``; then the form resumes, or (after
    action_stop_form) the loop is closed and ``after_stop`` runs."""

    title: str
    intents: tuple[str, ...]
    actions: tuple[str, ...]
    resumes: bool
    after_stop: tuple[str, ...] = ()
    only_in: tuple[str, ...] = ()  # the forms it applies to (all when empty)


# The forms, in the order their rules are written (the comment names the service).
FORMS = {
    "appointment_form": "booking a reporting appointment",
    "appointment_lookup_form": "finding a booking by confirmation code",
    "appointment_cancel_form": "confirming a cancellation",
    "reschedule_form": "moving a booking",
    "wish_form": "a micro-wish",
    "wish_lookup_form": "finding a micro-wish by its number",
    "job_seeker_form": "registering as a job seeker",
    "entitlement_form": "the entitlement finder",
}
# Questions answered from knowledge.yml by action_answer_question.
QUESTION_INTENTS = (
    "ask_capabilities",
    "ask_allowance",
    "ask_reporting_process",
    "ask_contact",
    "ask_entitlements",
    "ask_training",
    "ask_employment",
    "ask_entrepreneurship",
    "ask_platform_usage",
    "ask_rights_protection",
)
DIGRESSIONS = (
    Digression(
        "a question mid-form is answered, then the form resumes",
        QUESTION_INTENTS,
        ("action_answer_question",),
        resumes=True,
    ),
    Digression(
        "a programme question mid-form is answered, then the form resumes",
        ("ask_benefit",),
        ("action_explain_benefit",),
        resumes=True,
    ),
    Digression("are you a bot, mid-form", ("bot_challenge",), ("utter_iamabot",), resumes=True),
    Digression(
        "a scam warning mid-form, then the form resumes",
        ("report_fraud",),
        ("utter_fraud_warning",),
        resumes=True,
    ),
    Digression(
        "a complaint about being asked again gets sorry and a recap, then the form resumes",
        ("complain_repeated",),
        ("action_acknowledge_repeat",),
        resumes=True,
    ),
    Digression(
        "cancel stops the form",
        ("cancel",),
        ("action_stop_form",),
        resumes=False,
        after_stop=("utter_cancelled",),
    ),
    Digression(
        "a human is requested, then the form stops",
        ("request_human",),
        ("action_request_human", "action_stop_form"),
        resumes=False,
    ),
    Digression(
        "a 报到 booking asked for stops the finder and starts the booking",
        ("book_appointment",),
        ("action_stop_form",),
        resumes=False,
        after_stop=("appointment_form",),
        only_in=("entitlement_form",),
    ),
)
# Messages the NLU could not place (a date like "60天以后那天", "礼拜天能去不", a name, a code
# with a phone) are, while a form asks, the answer: the form's validator reads them and says what
# it could not use. Without this rule the unconditional "not understood" / "out of scope" rules
# would answer instead and the form would never see the message. Never protected.
ANSWER_INTENTS = ("nlu_fallback", "out_of_scope")
# Handled for every form by an unconditional rule elsewhere (safety.yml), never an answer.
ALWAYS_PROTECTED = ("crisis",)
# Intents that are not a digression in a form: the finder is itself the answer to
# ask_entitlements, so there the message is an answer like any other; at "确定要取消…吗？" a
# typed "对，取消吧" is the answer yes, not a request to stop (the validator reads yes or no).
NOT_A_DIGRESSION = {
    "entitlement_form": ("ask_entitlements",),
    "appointment_cancel_form": ("cancel",),
}


def digression_intents(form: str, digression: Digression) -> tuple[str, ...]:
    if digression.only_in and form not in digression.only_in:
        return ()
    excluded = NOT_A_DIGRESSION.get(form, ())
    return tuple(intent for intent in digression.intents if intent not in excluded)


def protected_intents(form: str | None = None) -> frozenset[str]:
    """The intents ``form`` (default: a form without exceptions) never takes as an answer."""
    intents = set(ALWAYS_PROTECTED)
    for digression in DIGRESSIONS:
        if not digression.only_in or form in digression.only_in:
            intents |= set(digression.intents)
    return frozenset(intents - set(NOT_A_DIGRESSION.get(form or "", ())))


def ordered_protected_intents(form: str | None = None) -> list[str]:
    """protected_intents in table order (for the written lists)."""
    every = list(ALWAYS_PROTECTED) + [i for d in DIGRESSIONS for i in d.intents]
    wanted = protected_intents(form)
    return [intent for intent in dict.fromkeys(every) if intent in wanted]


# --------------------------------------------------------------------------- forms.yml


HEADER = """\
# Generated by `python -m bot.dialogue_rules` from the table in bot/dialogue_rules.py.
# Do not edit: change the table and run `make rules`.
version: "3.1"
rules:
"""


def _rule_lines(form: str, digression: Digression) -> list[str]:
    lines = [
        f"  - rule: {form} - {digression.title}",
        "    condition:",
        f"      - active_loop: {form}",
        "    steps:",
    ]
    intents = digression_intents(form, digression)
    if len(intents) == 1:
        lines.append(f"      - intent: {intents[0]}")
    else:
        lines.append("      - or:")
        lines += [f"          - intent: {intent}" for intent in intents]
    for action in digression.actions:
        lines.append(f"      - action: {action}")
        if action == "action_stop_form" and not digression.resumes:
            lines.append("      - active_loop: null")
    if digression.resumes:
        lines += [f"      - action: {form}", f"      - active_loop: {form}"]
    for action in digression.after_stop:
        lines.append(f"      - action: {action}")
        if action in FORMS:
            lines.append(f"      - active_loop: {action}")
    return lines


def _answer_rule_lines(form: str) -> list[str]:
    lines = [
        f"  - rule: {form} - a message not understood is taken as the answer",
        "    condition:",
        f"      - active_loop: {form}",
        "    steps:",
        "      - or:",
    ]
    lines += [f"          - intent: {intent}" for intent in ANSWER_INTENTS]
    return lines + [f"      - action: {form}", f"      - active_loop: {form}"]


def render_rules() -> str:
    blocks = []
    for form, service in FORMS.items():
        lines = [f"  # ---- {form} ({service})"]
        for digression in DIGRESSIONS:
            if not digression_intents(form, digression):
                continue
            if len(lines) > 1:
                lines.append("")
            lines += _rule_lines(form, digression)
        lines += ["", *_answer_rule_lines(form)]
        blocks.append("\n".join(lines))
    return HEADER + "\n\n".join(blocks) + "\n"


# --------------------------------------------------------------------------- domain.yml


def anchor_name(form: str | None) -> str:
    return f"{form}_protected_intents" if form else "protected_intents"


def anchors() -> dict[str, list[str]]:
    """Each anchored not_intent list in domain.yml and the intents it must hold."""
    lists = {anchor_name(None): ordered_protected_intents()}
    for form in NOT_A_DIGRESSION:
        lists[anchor_name(form)] = ordered_protected_intents(form)
    return lists


def _flow_list(intents: list[str], indent: str) -> str:
    """A YAML flow sequence wrapped at WIDTH, continuation lines one column in."""
    lines, line = [], indent + "["
    for number, intent in enumerate(intents):
        item = intent + ("]" if number == len(intents) - 1 else ",")
        if len(line) + 1 + len(item) > WIDTH and line.strip() != "[":
            lines.append(line)
            line = indent + " " + item
        else:
            line += ("" if line.endswith("[") else " ") + item
    lines.append(line)
    return "\n".join(lines)


def render_domain(text: str) -> str:
    """``text`` (domain.yml) with every anchored protected-intent list rewritten from the table."""
    for name, intents in anchors().items():
        pattern = re.compile(rf"(&{name}\n)([ ]*)\[[^\]]*\]")
        match = pattern.search(text)
        if match is None:
            raise ValueError(f"domain.yml has no list anchored &{name}")
        text = (
            text[: match.start()]
            + match.group(1)
            + _flow_list(intents, match.group(2))
            + text[match.end() :]
        )
    return text


# --------------------------------------------------------------------------- command line


def stale_files() -> list[Path]:
    domain = DOMAIN_FILE.read_text(encoding="utf-8")
    stale = [DOMAIN_FILE] if render_domain(domain) != domain else []
    if not RULES_FILE.exists() or RULES_FILE.read_text(encoding="utf-8") != render_rules():
        stale.append(RULES_FILE)
    return stale


def write() -> list[Path]:
    """Write the files that are out of date (and only those, so their mtimes stay put)."""
    written = stale_files()
    if DOMAIN_FILE in written:
        DOMAIN_FILE.write_text(
            render_domain(DOMAIN_FILE.read_text(encoding="utf-8")), encoding="utf-8"
        )
    if RULES_FILE in written:
        RULES_FILE.write_text(render_rules(), encoding="utf-8")
    return written


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        for path in stale:
            print(f"{_shown(path)} is out of date: run `make rules`")
        return 1 if stale else 0
    written = write()
    print(
        "Written: " + ", ".join(map(_shown, written))
        if written
        else "Form rules and protected-intent lists are up to date."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
