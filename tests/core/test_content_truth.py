"""Everything a veteran can read, rendered in Simplified and Traditional: no 示例, no XXXX, no
"请部署方", no unfilled {placeholder}; every answer names its source and ends with the notice.

Covers every domain response (with the fields the actions pass), every knowledge answer, every
programme's details as the actions render them, and the 报到 requirements per category. Text built
from service-centre data is checked separately (those facts move to a deployment file).
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
import yaml

from bot.core import entitlements, knowledge
from bot.core.script import TRADITIONAL, to_script, to_simplified

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
RESPONSES = DOMAIN["responses"]
SLOTS = set(DOMAIN.get("slots") or {})
SCRIPTS = ("simplified", TRADITIONAL)
FORBIDDEN = ("示例", "XXXX", "xxxx", "请部署方", "部署方", "占位", "待填写", "TODO")
NOTICE_END = "以官方最新公布为准。"
SOURCE_LABEL = "来源："
FILLER = "〇"  # a neutral value for fields in the static-response check


def problems_in(text: str, where: str) -> list[str]:
    """Forbidden markers and unfilled ``{fields}`` in one rendered text (either script)."""
    simplified = to_simplified(text)
    found = [f"{where}: contains {marker!r}" for marker in FORBIDDEN if marker in simplified]
    if "{" in text or "}" in text:
        found.append(f"{where}: unfilled placeholder in {text[:60]!r}")
    return found


def answer_problems(text: str, where: str) -> list[str]:
    """An answer must also name its source and end with the notice."""
    simplified = to_simplified(text)
    found = problems_in(text, where)
    if SOURCE_LABEL not in simplified:
        found.append(f"{where}: no 来源")
    if not simplified.rstrip().endswith(NOTICE_END):
        found.append(f"{where}: does not end with {NOTICE_END}")
    return found


def fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


# ───────────────────────── which fields the actions pass ─────────────────────────


def _action_fields() -> tuple[dict[str, set], set]:
    """response → keyword names passed with it by any action; and the responses filled with
    ``**values`` (fields not knowable statically).

    A call naming its response with a constant passes its keywords to that response. A call naming
    it through a variable (``fc.utter(d, t, response, **values)``) may send any response named in
    the same function, or in a module-level table the function reads (``CLOSED_DAY[detail]``), so
    its keywords go to each of those.
    """
    passed: dict[str, set] = {}
    dynamic: set = set()
    for path in sorted((ROOT / "actions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        tables = {
            target.id: [n.value for n in ast.walk(stmt.value) if _is_response(n)]
            for stmt in tree.body
            if isinstance(stmt, ast.Assign)
            for target in stmt.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _is_utter_call(node):
                continue
            names = [a.value for a in node.args if _is_response(a)]
            names += [
                k.value.value
                for k in node.keywords
                if k.arg == "response" and _is_response(k.value)
            ]
            for name in names:
                _record(passed, dynamic, name, node)
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            calls = [
                n
                for n in ast.walk(function)
                if isinstance(n, ast.Call)
                and _is_utter_call(n)
                and not any(_is_response(a) for a in n.args)
                and not any(k.arg == "response" and _is_response(k.value) for k in n.keywords)
            ]
            if not calls:
                continue
            reachable = {n.value for n in ast.walk(function) if _is_response(n)}
            for name in {n.id for n in ast.walk(function) if isinstance(n, ast.Name)} & set(tables):
                reachable.update(tables[name])
            for call in calls:
                for name in reachable:
                    _record(passed, dynamic, name, call)
    return passed, dynamic


def _record(passed: dict, dynamic: set, response: str, call: ast.Call) -> None:
    passed.setdefault(response, set()).update(
        k.arg for k in call.keywords if k.arg not in (None, "response", "buttons")
    )
    if any(k.arg is None for k in call.keywords):
        dynamic.add(response)


def _is_response(node) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("utter_")
    )


def _is_utter_call(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("utter", "utter_message", "domain_text")


PASSED, DYNAMIC = _action_fields()


def _variations():
    for name, variations in RESPONSES.items():
        for index, variation in enumerate(variations):
            yield name, index, variation


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_response_renders_clean(script):
    problems = []
    for name, index, variation in _variations():
        where = f"{name}[{index}] ({script})"
        texts = [variation.get("text") or ""]
        texts += [b.get("title") or "" for b in variation.get("buttons") or ()]
        for text in texts:
            for field in fields(text):
                if field not in SLOTS and field not in PASSED.get(name, ()) and name not in DYNAMIC:
                    problems.append(f"{where}: nothing fills {{{field}}}")
            rendered = text.format(**dict.fromkeys(fields(text), FILLER))
            problems += problems_in(to_script(rendered, script), where)
    assert problems == []


def test_the_field_check_can_fail():
    assert "utter_benefit_details" in PASSED and "source" in PASSED["utter_benefit_details"]
    assert problems_in("电话：0532-XXXXXXXX", "x") == ["x: contains 'XXXX'"]
    assert problems_in("（示例）请部署方填写", "x")[:1] == ["x: contains '示例'"]
    assert problems_in("地址：{address}", "x") == ["x: unfilled placeholder in '地址：{address}'"]
    assert answer_problems("荣军卡可以免费乘车。", "x") == [
        "x: no 来源",
        f"x: does not end with {NOTICE_END}",
    ]
    assert answer_problems("荣軍卡。\n\n來源：信網報導（2024年）。以官方最新公佈為準。", "x") == []


def test_handoff_promises_no_waiting_time():
    texts = [v.get("text") or "" for v in RESPONSES["utter_handoff_requested"]]
    for text in texts:
        assert "几分钟" not in text and "工作时间内" not in text
        assert "12345" in text and "12356" in text


# ───────────────────────── answers from the data files ─────────────────────────


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_knowledge_answer(script):
    problems = []
    for intent, _label in knowledge.topic_labels(answered_only=True):
        found = knowledge.answer(intent)
        assert found is not None and found.source, intent
        text = to_script(found.text, script)
        problems += answer_problems(text, f"knowledge {intent} ({script})")
        assert to_script(found.source, script) in text
    assert problems == []


def _render(response: str, **values) -> str:
    template = RESPONSES[response][0]["text"]
    assert set(fields(template)) <= set(values), (response, fields(template))
    return template.format(**values)


def _programme_text(programme) -> str:
    """utter_benefit_details filled exactly as ActionExplainBenefit / ActionProgrammeDetails do."""
    parts = entitlements.details(programme)
    return _render(
        "utter_benefit_details",
        name=programme.name,
        summary=parts["summary"],
        gives=parts["gives"].strip(),
        eligibility=parts["eligibility_text"].strip(),
        how_to_apply=parts["how_to_apply"].strip(),
        where=parts["where"].strip(),
        documents=parts["documents_text"],
        source=parts["source"],
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_programme_details(script):
    problems = []
    programmes = entitlements.load_catalogue()
    assert len(programmes) >= 28
    for programme in programmes:
        text = to_script(_programme_text(programme), script)
        problems += answer_problems(text, f"programme {programme.id} ({script})")
        assert to_script(programme.source, script) in text
    assert problems == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_reporting_requirement(script):
    problems = []
    for category in knowledge.reporting_categories() + [None]:
        req = knowledge.reporting_requirements(category)
        text = _render(
            "utter_reporting_documents",
            category=req["category"] or "",
            documents="\n".join(req["documents"]),
            source=req["source"],
        )
        problems += answer_problems(to_script(text, script), f"reporting {category} ({script})")
        problems += problems_in(to_script(req["notes"], script), f"reporting {category} notes")
    assert problems == []


def test_the_finder_only_claims_published_eligibility():
    everyone = {
        "veteran_category": "退役士兵",
        "qingdao_hukou": True,
        "age": 70,
        "income_difficulty": True,
    }
    result = entitlements.find(everyone)
    named = {p.name for p in result.qualifies} | {p.name for p, _ in result.maybe}
    for name in ("荣军保", "荣军居", "荣军鹊桥", "荣军加油", "荣军观影", "荣军商城", "荣军驿站"):
        assert name not in named
    assert {"荣军卡", "农村籍退役士兵老年生活补助", "定期生活补助", "住房优待"} <= named


# ───────────────────────── text built from service-centre data ─────────────────────────


@pytest.mark.parametrize("script", SCRIPTS)
def test_centre_texts(script):
    from bot.core import appointments

    problems = []
    for centre in appointments.load_centres():
        hours = "、".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in centre.hours)
        for response, values in (
            (
                "utter_contact_centre_line",
                {
                    "name": centre.name,
                    "address": centre.address_text,
                    "phone": centre.phone_text,
                    "hours": hours,
                },
            ),
            (
                "utter_appointment_booked",
                {
                    "code": "K7QX3M",
                    "centre": centre.name,
                    "address": centre.address_text,
                    "when": "12月1日 09:00",
                },
            ),
        ):
            text = to_script(_render(response, **values), script)
            problems += problems_in(text, f"{response} {centre.id} ({script})")
    assert problems == []
