"""Structure and content rules for the policy data files (programmes.yml, knowledge.yml,
reporting.yml, sources.yml).

Every answer entry must cite registered sources (laws with their article); nothing may be a
placeholder or a 示例; amounts may appear only in ``figures`` (reported statistics) backed by a
report.

The checks are plain functions returning a list of problems, so the same functions are run on the
real
files (expect no problems) and on deliberately broken copies (expect the problem to be reported) —
that way the tests are shown to be able to fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core import sources as S

DATA = Path(__file__).resolve().parents[2] / "bot" / "core" / "data"

NOTICE = "以官方最新公布为准"

MATRIX = [
    "荣军卡",
    "荣军联盟",
    "荣军保",
    "荣军居",
    "荣军微心愿",
    "荣军夜校",
    "荣军鹊桥",
    "荣军驿站",
    "荣军加油",
    "荣军观影",
    "荣军商城",
    "荣军街",
    "荣军通",
    "荣军情",
]
CATEGORIES = {
    "退役士兵",
    "转业军官",
    "军休干部",
    "伤残军人",
    "烈士遗属",
    "因公牺牲军人遗属",
    "病故军人遗属",
    "现役军人家属",
    "复员军人",
}
ELIGIBILITY_KEYS = {
    "categories",
    "qingdao_hukou",
    "age_min",
    "age_max",
    "disability_grades",
    "income_difficulty",
}
KINDS = {"荣军矩阵", "青岛服务", "法定优待"}
INFORMATIONAL = [
    "ask_entitlements",
    "ask_allowance",
    "ask_reporting_process",
    "ask_employment",
    "ask_training",
    "ask_entrepreneurship",
    "ask_platform_usage",
    "ask_rights_protection",
    "ask_contact",
    "ask_capabilities",
]
LABEL_ONLY = [
    "book_appointment",
    "check_appointment",
    "submit_wish",
    "check_wish",
    "request_human",
    "ask_benefit",
]
CONTRACT_INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "cancel",
    "bot_challenge",
    "ask_capabilities",
    "request_human",
    "out_of_scope",
    "crisis",
    "inform",
    "ask_entitlements",
    "ask_benefit",
    "ask_allowance",
    "book_appointment",
    "check_appointment",
    "cancel_appointment",
    "reschedule_appointment",
    "ask_reporting_process",
    "submit_wish",
    "check_wish",
    "ask_employment",
    "ask_training",
    "ask_entrepreneurship",
    "ask_platform_usage",
    "ask_rights_protection",
    "ask_contact",
}
ID_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
MAX_LABEL = 8
MAX_ANSWER = 400  # target ~350 characters; hard ceiling here

# National numbers that may be stated as fact; any other short service number is suspicious.
NATIONAL_HOTLINES = {"12345", "12356", "12348", "12333", "110", "120", "119"}
PHONE_RE = re.compile(
    r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}[-－ ]?\d{7,8}|400[-－ ]?\d{3}[-－ ]?\d{4}|\d{7,8})(?!\d)"
)
HOTLINE_RE = re.compile(r"(?<![\d.])1\d{4}(?![\d.])")
ADDRESS_RE = re.compile(r"[路街巷弄道]\s*\d+\s*号|\d+\s*号楼|\d+\s*(?:室|层)|\d+\s*号院")
MONEY_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:千|万|亿)?\s*元")
EXAMPLE_MARK = "示例"


# ───────────────────────── helpers ─────────────────────────


def load(name: str) -> Any:
    with open(DATA / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def strings(value: Any) -> Iterator[str]:
    """Every string inside a nested YAML value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def source_problems(where: str, refs: Any, register: dict) -> list[str]:
    """The entry's ``sources`` must render to a citation (registered keys, laws with articles)."""
    try:
        S.cite(refs, where=where, sources=register)
    except S.SourceError as error:
        return [str(error) if where in str(error) else f"{where}: {error}"]
    return []


def invented_fact_problems(where: str, entry: Any, register: dict | None = None) -> list[str]:
    """No placeholders, no 示例, no phone numbers or addresses; amounts only in ``figures``,
    which must be backed by a report (news or government page) among the entry's sources."""
    problems = []
    if isinstance(entry, dict) and entry.get("placeholder") is True:
        problems.append(f"{where}: placeholder entry")
    body = (
        {k: v for k, v in entry.items() if k not in ("figures", "sources")}
        if isinstance(entry, dict)
        else entry
    )
    figures = entry.get("figures") if isinstance(entry, dict) else None
    if figures is not None:
        kinds = {register[k].kind for k in S.keys(entry.get("sources")) if k in (register or {})}
        if "report" not in kinds:
            problems.append(f"{where}: figures without a report among its sources")
    for text in list(strings(body)) + list(strings(figures)):
        if EXAMPLE_MARK in text:
            problems.append(f"{where}: 示例 text {text[:30]!r}")
        for pattern, what in ((PHONE_RE, "phone"), (ADDRESS_RE, "address"), (MONEY_RE, "amount")):
            if what == "amount" and figures is not None and text in strings(figures):
                continue
            match = pattern.search(text)
            if match:
                problems.append(f"{where}: unmarked {what} {match.group(0)!r}")
        for match in HOTLINE_RE.finditer(text):
            if match.group(0) not in NATIONAL_HOTLINES:
                problems.append(f"{where}: unknown service number {match.group(0)!r}")
    return problems


def nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


# ───────────────────────── checkers ─────────────────────────


def check_programmes(data: Any, register: dict | None = None) -> list[str]:
    register = S.register() if register is None else register
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["programmes.yml: top level is not a mapping"]
    if data.get("notice") != NOTICE:
        problems.append("programmes.yml: notice missing or changed")
    progs = data.get("programmes")
    if not isinstance(progs, list) or not progs:
        return problems + ["programmes.yml: no programmes list"]

    ids: list[str] = []
    names: list[str] = []
    for index, prog in enumerate(progs):
        where = f"programme #{index}"
        if not isinstance(prog, dict):
            problems.append(f"{where}: not a mapping")
            continue
        pid = prog.get("id")
        where = f"programme {pid or index}"
        if not (isinstance(pid, str) and pid.isascii() and ID_RE.match(pid) and len(pid) <= 20):
            problems.append(f"{where}: bad id {pid!r}")
        ids.append(pid)
        names.append(prog.get("name"))
        if not nonempty_str(prog.get("name")):
            problems.append(f"{where}: no name")
        if prog.get("kind") not in KINDS:
            problems.append(f"{where}: bad kind {prog.get('kind')!r}")
        for field in ("summary", "gives", "eligibility_text", "how_to_apply", "where"):
            if not nonempty_str(prog.get(field)):
                problems.append(f"{where}: missing {field}")
        problems += source_problems(where, prog.get("sources"), register)
        docs = prog.get("documents")
        if not (isinstance(docs, list) and all(nonempty_str(d) for d in docs)):
            problems.append(f"{where}: documents must be a list of strings")
        if "finder" in prog and not isinstance(prog["finder"], bool):
            problems.append(f"{where}: finder must be true/false")
        elig = prog.get("eligibility")
        if elig is None:
            elig = {}
        if not isinstance(elig, dict):
            problems.append(f"{where}: eligibility must be a mapping")
            elig = {}
        for key in set(elig) - ELIGIBILITY_KEYS:
            problems.append(f"{where}: eligibility key {key!r} not allowed")
        cats = elig.get("categories")
        if cats is not None:
            if not (isinstance(cats, list) and cats):
                problems.append(f"{where}: categories must be a non-empty list")
            else:
                for cat in cats:
                    if cat not in CATEGORIES:
                        problems.append(f"{where}: non-canonical category {cat!r}")
        for key in ("qingdao_hukou", "income_difficulty"):
            if key in elig and not isinstance(elig[key], bool):
                problems.append(f"{where}: {key} must be true/false")
        for key in ("age_min", "age_max"):
            if (
                key in elig
                and elig[key] is not None
                and not (
                    isinstance(elig[key], int)
                    and not isinstance(elig[key], bool)
                    and 0 < elig[key] < 130
                )
            ):
                problems.append(f"{where}: {key} must be an age")
        grades = elig.get("disability_grades")
        if grades is not None and not (
            isinstance(grades, list)
            and grades
            and all(isinstance(g, int) and not isinstance(g, bool) and 1 <= g <= 10 for g in grades)
        ):
            problems.append(f"{where}: disability_grades must be integers 1..10")
        if NOTICE in "".join(strings(prog)):
            problems.append(f"{where}: repeats the notice (code appends it)")
        problems += invented_fact_problems(where, prog, register)

    if len(set(ids)) != len(ids):
        problems.append("programmes.yml: duplicate ids")
    if len(set(names)) != len(names):
        problems.append("programmes.yml: duplicate names")
    by_name = {p.get("name"): p for p in progs if isinstance(p, dict)}
    for name in MATRIX:
        if name not in by_name:
            problems.append(f"programmes.yml: 荣军矩阵 item {name} missing")
        elif by_name[name].get("kind") != "荣军矩阵":
            problems.append(f"programmes.yml: {name} must have kind 荣军矩阵")
    extra_matrix = [
        p.get("name")
        for p in progs
        if isinstance(p, dict) and p.get("kind") == "荣军矩阵" and p.get("name") not in MATRIX
    ]
    if extra_matrix:
        problems.append(f"programmes.yml: unknown 荣军矩阵 names {extra_matrix}")
    statutory = [p for p in progs if isinstance(p, dict) and p.get("kind") == "法定优待"]
    if len(statutory) < 8:
        problems.append(f"programmes.yml: only {len(statutory)} 法定优待 entries (need >= 8)")
    return problems


def check_knowledge(data: Any, register: dict | None = None) -> list[str]:
    register = S.register() if register is None else register
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["knowledge.yml: top level is not a mapping"]
    if data.get("notice") != NOTICE:
        problems.append("knowledge.yml: notice missing or changed")
    topics = data.get("topics")
    if not isinstance(topics, dict):
        return problems + ["knowledge.yml: no topics mapping"]
    for intent in INFORMATIONAL:
        topic = topics.get(intent)
        if not isinstance(topic, dict):
            problems.append(f"knowledge.yml: {intent} missing")
            continue
        for field in ("label", "answer"):
            if not nonempty_str(topic.get(field)):
                problems.append(f"knowledge.yml: {intent} has no {field}")
        problems += source_problems(f"knowledge.yml: {intent}", topic.get("sources"), register)
    for intent in LABEL_ONLY:
        topic = topics.get(intent)
        if not (isinstance(topic, dict) and nonempty_str(topic.get("label"))):
            problems.append(f"knowledge.yml: {intent} has no label")
    for intent, topic in topics.items():
        where = f"knowledge.yml: {intent}"
        if intent not in CONTRACT_INTENTS:
            problems.append(f"{where}: not a contract intent")
        if not isinstance(topic, dict):
            problems.append(f"{where}: not a mapping")
            continue
        label = topic.get("label")
        if isinstance(label, str) and len(label) > MAX_LABEL:
            problems.append(f"{where}: label {label!r} longer than {MAX_LABEL}")
        answer = topic.get("answer")
        if isinstance(answer, str):
            if len(answer.replace("\n", "")) > MAX_ANSWER:
                problems.append(f"{where}: answer longer than {MAX_ANSWER} characters")
            if NOTICE in answer:
                problems.append(f"{where}: answer repeats the notice (code appends it)")
        for button in topic.get("followups") or []:
            problems += check_button(where, button)
        problems += invented_fact_problems(where, topic, register)
    return problems


BUTTON_RE = re.compile(r"^/(\w+)(\{.*\})?$")


def check_button(where: str, button: Any) -> list[str]:
    if not (
        isinstance(button, dict)
        and nonempty_str(button.get("title"))
        and nonempty_str(button.get("payload"))
    ):
        return [f"{where}: followup needs title and payload"]
    problems = []
    if len(button["title"]) > MAX_LABEL:
        problems.append(f"{where}: button title {button['title']!r} too long")
    match = BUTTON_RE.match(button["payload"])
    if not match:
        return problems + [f"{where}: bad payload {button['payload']!r}"]
    intent, entities = match.groups()
    if intent not in CONTRACT_INTENTS:
        problems.append(f"{where}: payload intent {intent!r} unknown")
    if entities:
        import json

        try:
            values = json.loads(entities)
        except ValueError:
            return problems + [f"{where}: payload entities not JSON: {entities!r}"]
        benefit = values.get("benefit")
        if benefit is not None and benefit not in MATRIX:
            problems.append(f"{where}: payload benefit {benefit!r} not canonical")
    return problems


def check_reporting(data: Any, register: dict | None = None) -> list[str]:
    register = S.register() if register is None else register
    problems: list[str] = []
    if not isinstance(data, dict):
        return ["reporting.yml: top level is not a mapping"]
    cats = data.get("categories")
    if not isinstance(cats, dict) or not cats:
        return ["reporting.yml: no categories mapping"]
    entries = [(f"reporting.yml: {name}", entry) for name, entry in cats.items()]
    for name in cats:
        if name not in CATEGORIES:
            problems.append(f"reporting.yml: non-canonical category {name!r}")
    if "default" not in data:
        problems.append("reporting.yml: default missing")
    else:
        entries.append(("reporting.yml: default", data["default"]))
    for where, entry in entries:
        if not isinstance(entry, dict):
            problems.append(f"{where}: not a mapping")
            continue
        docs = entry.get("documents")
        if not (isinstance(docs, list) and docs and all(nonempty_str(d) for d in docs)):
            problems.append(f"{where}: documents must be a non-empty list of strings")
        if "deadline_days" not in entry:
            problems.append(f"{where}: deadline_days missing (use null when there is no rule)")
        days = entry.get("deadline_days")
        if days is not None:
            if not (isinstance(days, int) and not isinstance(days, bool) and days > 0):
                problems.append(f"{where}: deadline_days must be a positive integer or null")
            if not nonempty_str(entry.get("deadline_from")):
                problems.append(f"{where}: deadline_days without deadline_from")
        problems += source_problems(where, entry.get("sources"), register)
        notes = entry.get("notes")
        if isinstance(notes, str) and NOTICE in notes:
            problems.append(f"{where}: notes repeat the notice (code appends it)")
        problems += invented_fact_problems(where, entry, register)
    return problems


# ───────────────────────── the real files ─────────────────────────


@pytest.fixture(scope="module")
def programmes() -> Any:
    return load("programmes.yml")


@pytest.fixture(scope="module")
def knowledge() -> Any:
    return load("knowledge.yml")


@pytest.fixture(scope="module")
def reporting() -> Any:
    return load("reporting.yml")


def test_programmes_file_is_valid(programmes):
    assert check_programmes(programmes) == []


def test_all_fourteen_matrix_items_with_canonical_names(programmes):
    names = [p["name"] for p in programmes["programmes"] if p["kind"] == "荣军矩阵"]
    assert sorted(names) == sorted(MATRIX)


def test_discriminating_rules_where_policy_is_specific(programmes):
    by_name = {p["name"]: p for p in programmes["programmes"]}
    assert by_name["荣军卡"]["eligibility"].get("qingdao_hukou") is True
    # Art.53 of the 2024 条例: parks and museums for every 抚恤优待对象, not only the disabled
    assert by_name["参观游览优待"]["eligibility"] == {}
    # Art.51 of the 2024 条例 and Art.77 of the 安置条例 include 退役士兵 and 转业军官
    assert "categories" not in by_name["住房优待"]["eligibility"]
    # Art.62: 烈士子女 aged 60+ get the living subsidy
    assert "烈士遗属" in by_name["定期生活补助"]["eligibility"]["categories"]
    assert by_name["伤残抚恤金"]["eligibility"]["categories"] == ["伤残军人"]
    assert by_name["义务兵家庭优待金"]["eligibility"]["categories"] == ["现役军人家属"]
    medical = by_name["残疾军人医疗保障"]["eligibility"]
    assert medical["categories"] == ["伤残军人"] and medical["disability_grades"] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]


def test_unpublished_eligibility_is_never_claimed_by_the_finder(programmes):
    by_name = {p["name"]: p for p in programmes["programmes"]}
    for name in (
        "荣军保",
        "荣军居",
        "荣军鹊桥",
        "荣军驿站",
        "荣军加油",
        "荣军观影",
        "荣军商城",
        "荣军街",
        "荣军夜校",
        "荣军情",
    ):
        assert by_name[name].get("finder") is False, name


def test_corrected_facts(programmes, knowledge):
    by_name = {p["name"]: p for p in programmes["programmes"]}
    insure = "".join(strings(by_name["荣军保"]))
    assert "商业补充医疗保险" in insure and "重点优抚对象" in insure and "基本医疗保险" in insure
    assert "意外" not in insure
    assert "修缮" in by_name["荣军居"]["summary"]
    match = by_name["荣军鹊桥"]
    assert "驻青部队" in match["summary"] and "退役军人" not in match["eligibility_text"]
    transport = by_name["残疾军人交通优待"]["gives"]
    assert "对外公布票价的50%" in transport and "轮渡" in transport
    assert "随同出行的家属" in transport
    assert "“可以”" in by_name["自主就业一次性经济补助"]["gives"]
    assert "放宽" not in by_name["教育培训"]["gives"]
    assert "省" not in by_name["退役军人优待证"]["how_to_apply"]
    platform = knowledge["topics"]["ask_platform_usage"]["answer"]
    assert "“爱山东”小程序" in platform and "青岛市" in platform and "“智慧荣军”" in platform
    assert "“荣军”或" not in platform
    for text in strings(knowledge):
        assert "十四项" not in text
    assert "26个" in knowledge["topics"]["ask_entitlements"]["answer"]


def test_source_register_is_valid_and_every_source_is_used(programmes, knowledge, reporting):
    register = S.parse_register(load("sources.yml"))
    used = set()
    for data in (
        programmes["programmes"],
        knowledge["topics"].values(),
        reporting["categories"].values(),
        [reporting["default"]],
    ):
        for entry in data:
            used.update(S.keys(entry.get("sources")))
    # Domain responses written as text (the crisis first-aid and scam replies) cite a source by
    # its short name after 来源：.
    cited = "\n".join(
        text.split("来源：", 1)[1] for text in _domain_response_texts() if "来源：" in text
    )
    used.update(key for key, source in register.items() if source.short in cited)
    # The agents' scripts (crisis, first aid, scams) cite theirs by {ref: …}.
    used.update(_refs(load("agent_assist.yml")))
    assert used <= set(register)
    assert set(register) - used == set()


def _refs(node) -> set[str]:
    if isinstance(node, dict):
        found = {node["ref"]} if isinstance(node.get("ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _domain_response_texts() -> list[str]:
    domain = yaml.safe_load((DATA.parents[2] / "domain.yml").read_text(encoding="utf-8"))
    return [v.get("text") or "" for vs in domain["responses"].values() for v in vs]


def test_knowledge_file_is_valid(knowledge):
    assert check_knowledge(knowledge) == []


def test_reporting_file_is_valid(reporting):
    assert check_reporting(reporting) == []


def test_verified_reporting_deadlines(reporting):
    # 自主就业退役士兵：被批准退出现役之日起30日内报到
    # （《退役军人安置条例》，沿用原《退役士兵安置条例》）
    assert reporting["categories"]["退役士兵"]["deadline_days"] == 30
    # 残疾军人：办理退役手续后60日内申请转入伤残抚恤关系（《伤残抚恤管理办法》）
    assert reporting["categories"]["伤残军人"]["deadline_days"] == 60


def test_texts_are_simplified_chinese(programmes, knowledge, reporting):
    from bot.core.script import to_simplified

    changed = [
        text
        for data in (programmes, knowledge, reporting)
        for text in strings(data)
        if to_simplified(text) != text
    ]
    assert changed == []


# ───────────────────────── the checks can fail ─────────────────────────


def test_missing_matrix_programme_is_reported(programmes):
    broken = copy.deepcopy(programmes)
    broken["programmes"] = [p for p in broken["programmes"] if p["name"] != "荣军鹊桥"]
    assert any("荣军鹊桥" in problem for problem in check_programmes(broken))


def test_renamed_matrix_programme_is_reported(programmes):
    broken = copy.deepcopy(programmes)
    broken["programmes"][0]["name"] = "荣军卡片"
    problems = check_programmes(broken)
    assert any("荣军卡 missing" in p for p in problems)
    assert any("unknown 荣军矩阵" in p for p in problems)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda p: p.update(id="RongJun-Card"), "bad id"),
        (lambda p: p.update(id="a_very_long_programme_identifier"), "bad id"),
        (lambda p: p["eligibility"].update(veteran_rank="x"), "not allowed"),
        (lambda p: p["eligibility"].update(categories=["老兵"]), "non-canonical category"),
        (lambda p: p["eligibility"].update(disability_grades=[0, 11]), "disability_grades"),
        (lambda p: p.pop("gives"), "missing gives"),
        (lambda p: p.update(documents=["", 3]), "documents"),
        (lambda p: p.pop("sources"), "no sources"),
        (lambda p: p.update(sources=[{"ref": "fuxu_2024"}]), "cite its article"),
        (lambda p: p.update(sources=[{"ref": "no_such_source"}]), "unknown source"),
        (
            lambda p: p.update(
                sources=[{"ref": "fuxu_2024", "art": 1}], figures="累计赔付860余万元"
            ),
            "figures without a report",
        ),
        (lambda p: p.update(placeholder=True), "placeholder entry"),
        (lambda p: p.update(where="示例：市南区某路（部署时替换）"), "示例"),
        (lambda p: p.update(how_to_apply="请拨打0532-88886666咨询。"), "unmarked phone"),
        (lambda p: p.update(where="市南区香港中路99号"), "unmarked address"),
        (lambda p: p.update(gives="每年补贴1200元。"), "unmarked amount"),
        (lambda p: p.update(how_to_apply="请拨打12399咨询。"), "unknown service number"),
    ],
)
def test_programme_rule_violations_are_reported(programmes, mutate, expected):
    broken = copy.deepcopy(programmes)
    mutate(broken["programmes"][0])
    assert any(expected in problem for problem in check_programmes(broken))


def test_reported_figures_may_state_amounts(programmes):
    sourced = copy.deepcopy(programmes)
    sourced["programmes"][0]["figures"] = "据报道累计减免交通费2.88亿元。"
    sourced["programmes"][0]["sources"] = [{"ref": "xinwang_2024"}]
    assert check_programmes(sourced) == []


def test_duplicate_ids_are_reported(programmes):
    broken = copy.deepcopy(programmes)
    broken["programmes"][1]["id"] = broken["programmes"][0]["id"]
    assert "programmes.yml: duplicate ids" in check_programmes(broken)


def test_too_few_statutory_entries_are_reported(programmes):
    broken = copy.deepcopy(programmes)
    broken["programmes"] = [p for p in broken["programmes"] if p["kind"] == "荣军矩阵"]
    assert any("法定优待" in problem for problem in check_programmes(broken))


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda t: t.pop("ask_contact"), "ask_contact missing"),
        (lambda t: t["ask_training"].pop("sources"), "ask_training: no sources"),
        (lambda t: t["ask_training"].update(placeholder=True), "placeholder entry"),
        (lambda t: t["ask_allowance"].update(answer=""), "ask_allowance has no answer"),
        (lambda t: t["check_wish"].pop("label"), "check_wish has no label"),
        (lambda t: t["ask_contact"].update(label="联系方式和地址电话"), "longer than"),
        (lambda t: t["ask_contact"].update(answer="服务中心电话：0532-12345678"), "unmarked phone"),
        (lambda t: t["ask_contact"].update(answer="详见。" + NOTICE), "repeats the notice"),
        (
            lambda t: t["ask_contact"].update(
                followups=[{"title": "去", "payload": "/no_such_intent"}]
            ),
            "unknown",
        ),
        (
            lambda t: t["ask_contact"].update(
                followups=[{"title": "卡", "payload": '/ask_benefit{"benefit":"荣军证"}'}]
            ),
            "not canonical",
        ),
    ],
)
def test_knowledge_rule_violations_are_reported(knowledge, mutate, expected):
    broken = copy.deepcopy(knowledge)
    mutate(broken["topics"])
    assert any(expected in problem for problem in check_knowledge(broken))


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (
            lambda d: d["categories"].update({"退伍兵": d["categories"]["退役士兵"]}),
            "non-canonical",
        ),
        (lambda d: d.pop("default"), "default missing"),
        (lambda d: d["categories"]["退役士兵"].update(documents=[]), "documents"),
        (lambda d: d["categories"]["退役士兵"].update(deadline_from=None), "without deadline_from"),
        (lambda d: d["categories"]["转业军官"].update(deadline_days="三十"), "positive integer"),
        (lambda d: d["categories"]["军休干部"].pop("sources"), "no sources"),
        (
            lambda d: d["categories"]["军休干部"].update(sources=[{"ref": "anzhi_2024"}]),
            "cite its article",
        ),
    ],
)
def test_reporting_rule_violations_are_reported(reporting, mutate, expected):
    broken = copy.deepcopy(reporting)
    mutate(broken)
    assert any(expected in problem for problem in check_reporting(broken))
