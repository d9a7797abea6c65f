"""`rasa data validate`, failing on every warning — with one warning understood precisely.

Rasa warns that a response "is not used in any story or rule" even when a custom action sends it
(`dispatcher.utter_message(response="utter_x")`) or a form asks with it (`utter_ask_<slot>`).
Those responses are used; a response used nowhere at all still fails, as does any other warning.

    python -m tests.validate_data
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
UNUSED_RESPONSE = re.compile(r"The utterance '([^']+)' is not used in any story or rule\.")


def responses_named_in_actions() -> set[str]:
    """Response names that appear as string literals in the action server's code."""
    names: set[str] = set()
    for path in (REPO / "actions").rglob("*.py"):
        names.update(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text(encoding="utf-8")))
    return names


def form_prompts(domain) -> set[str]:
    """The responses forms ask their slots with — the one Rasa picks, in its search order
    (action_ask_<form>_<slot>, utter_ask_<form>_<slot>, action_ask_<slot>, utter_ask_<slot>),
    so a prompt shadowed by a more specific one still counts as unused."""
    prompts: set[str] = set()
    for form in domain.form_names:
        for slot in domain.required_slots_for_form(form):
            search = [
                f"action_ask_{form}_{slot}",
                f"utter_ask_{form}_{slot}",
                f"action_ask_{slot}",
                f"utter_ask_{slot}",
            ]
            chosen = next((name for name in search if name in domain.action_names_or_texts), None)
            if chosen and chosen.startswith("utter_"):
                prompts.add(chosen)
    return prompts


def main() -> int:
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.validator import Validator

    importer = TrainingDataImporter.load_from_config(
        config_path=str(REPO / "config.yml"),
        domain_path=str(REPO / "domain.yml"),
        training_data_paths=[str(REPO / "nlu_data")],
    )
    validator = Validator.from_importer(importer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        errors_free = all(
            [
                validator.verify_domain_validity(),
                validator.verify_actions_in_stories_rules(),
                validator.verify_forms_in_stories_rules(),
                validator.verify_form_slots(),
                validator.verify_slot_mappings(),
                validator.verify_nlu(ignore_warnings=True),
                validator.verify_story_structure(ignore_warnings=False),
            ]
        )
    used_elsewhere = responses_named_in_actions() | form_prompts(validator.domain)
    problems: list[str] = []
    for warning in caught:
        message = str(warning.message)
        if not issubclass(warning.category, UserWarning):
            continue
        unused = UNUSED_RESPONSE.search(message)
        if unused and unused.group(1) in used_elsewhere:
            continue
        problems.append(message)
    for problem in problems:
        print(f"WARNING: {problem}")
    if not errors_free or problems:
        errors = "" if errors_free else " and errors"
        print(f"Data validation failed: {len(problems)} warning(s){errors}.")
        return 1
    print(f"Data validation passed (responses used by actions or forms: {len(used_elsewhere)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
