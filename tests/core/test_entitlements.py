"""Programme catalogue and the entitlement finder (synthetic catalogue + one pass over the real
file)."""

from __future__ import annotations

import itertools
import os

import pytest
import yaml

from bot.core import entitlements as E
from bot.core.entitlements import UNKNOWN

REPORT = [{"ref": "xinwang_2024"}]
SYNTHETIC = {
    "notice": "以官方最新公布为准",
    "source_label": "来源：",
    "documents_unknown": "请向经办部门确认",
    "programmes": [
        {
            "id": "card",
            "name": "示例卡",
            "kind": "荣军矩阵",
            "summary": "卡",
            "eligibility": {"categories": ["退役士兵", "伤残军人"], "qingdao_hukou": True},
            "gives": "免费乘车",
            "eligibility_text": "青岛户籍退役军人",
            "how_to_apply": "到服务站",
            "where": "服务站",
            "documents": ["身份证"],
            "sources": [{"ref": "fuxu_2024", "art": [52, 53]}],
        },
        {
            "id": "pension",
            "name": "示例抚恤金",
            "kind": "法定优待",
            "sources": REPORT,
            "eligibility": {"categories": ["伤残军人"], "disability_grades": [1, 2, 3, 4, 5, 6]},
        },
        {
            "id": "elder",
            "name": "示例老年补助",
            "kind": "法定优待",
            "sources": REPORT,
            "eligibility": {"categories": ["退役士兵"], "age_min": 60},
        },
        {
            "id": "hardship",
            "name": "示例困难帮扶",
            "kind": "荣军矩阵",
            "sources": REPORT,
            "eligibility": {"qingdao_hukou": True, "income_difficulty": True},
        },
        {"id": "open", "name": "示例开放服务", "kind": "荣军矩阵", "sources": REPORT},
        {
            "id": "family",
            "name": "示例家属优待",
            "kind": "法定优待",
            "sources": REPORT,
            "eligibility": {"categories": ["现役军人家属"]},
        },
        {
            "id": "young",
            "name": "示例青年培训",
            "kind": "法定优待",
            "sources": REPORT,
            "eligibility": {"categories": ["退役士兵", "转业军官"], "age_max": 45},
        },
    ],
}


@pytest.fixture()
def cat():
    return E.parse_catalogue(SYNTHETIC)


def by_id(cat, pid):
    return next(p for p in cat if p.id == pid)


def names(programmes):
    return sorted(p.id for p in programmes)


# --- catalogue ------------------------------------------------------------------------------------


def test_parse_catalogue(cat):
    assert [p.id for p in cat] == [p["id"] for p in SYNTHETIC["programmes"]]
    card = by_id(cat, "card")
    assert card.eligibility.categories == ("退役士兵", "伤残军人")
    assert card.eligibility.qingdao_hukou is True and card.eligibility.income_difficulty is False
    assert card.documents == ("身份证",) and card.notice == "以官方最新公布为准"
    assert by_id(cat, "open").eligibility == E.Eligibility()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["programmes"].append(dict(d["programmes"][0])), "duplicate"),
        (lambda d: d["programmes"][0]["eligibility"].update(veteran=True), "unknown eligibility"),
        (lambda d: d["programmes"][0].update(id="Card-1"), "ascii"),
        (lambda d: d["programmes"][0].update(name=""), "without id or name"),
        (lambda d: d["programmes"][0].pop("sources"), "no sources"),
        (lambda d: d["programmes"][1].update(sources=[{"ref": "fuxu_2024"}]), "cite its article"),
        (lambda d: d["programmes"][1].update(sources=["invented_source"]), "unknown source"),
    ],
)
def test_parse_catalogue_rejects_bad_files(mutate, message):
    import copy

    data = copy.deepcopy(SYNTHETIC)
    mutate(data)
    with pytest.raises(ValueError, match=message):
        E.parse_catalogue(data)


def test_load_catalogue_caches_and_reloads(tmp_path):
    path = tmp_path / "programmes.yml"
    path.write_text(yaml.safe_dump(SYNTHETIC, allow_unicode=True), encoding="utf-8")
    first = E.load_catalogue(path)
    assert E.load_catalogue(path) is first
    assert E.catalogue_notice(path) == "以官方最新公布为准"
    smaller = {**SYNTHETIC, "programmes": SYNTHETIC["programmes"][:2]}
    path.write_text(yaml.safe_dump(smaller, allow_unicode=True), encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    assert len(E.load_catalogue(path)) == 2


def test_programme_by_name(cat):
    assert E.programme_by_name("card", cat).name == "示例卡"
    assert E.programme_by_name("CARD", cat).id == "card"
    assert E.programme_by_name("示例卡", cat).id == "card"
    assert E.programme_by_name(" 示例卡 ", cat).id == "card"
    assert E.programme_by_name("示例撫恤金", cat).id == "pension"  # Traditional
    assert E.programme_by_name("我想问问示例抚恤金怎么领", cat).id == "pension"  # contained
    assert E.programme_by_name("老年补助", cat).id == "elder"  # unique partial
    assert E.programme_by_name("示例", cat) is None  # ambiguous
    assert E.programme_by_name("", cat) is None
    assert E.programme_by_name(None, cat) is None
    assert E.programme_by_name("不存在", cat) is None


def test_details(cat):
    d = E.details(by_id(cat, "card"))
    assert d["gives"] == "免费乘车" and d["eligibility_text"] == "青岛户籍退役军人"
    assert d["how_to_apply"] == "到服务站" and d["where"] == "服务站"
    assert d["documents"] == ["身份证"] and d["documents_text"] == "身份证"
    assert d["source"] == "《军人抚恤优待条例》（2024年修订）第52、53条"
    assert d["footer"] == "来源：《军人抚恤优待条例》（2024年修订）第52、53条。以官方最新公布为准。"
    assert d["notice"] == "以官方最新公布为准"
    assert {"id", "name", "summary", "kind"} <= set(d)
    assert E.details(by_id(cat, "open"))["documents_text"] == "请向经办部门确认"


def test_figures_follow_the_summary():
    import copy

    data = copy.deepcopy(SYNTHETIC)
    data["programmes"][4]["summary"] = "开放服务。"
    data["programmes"][4]["figures"] = "据报道服务了很多人。"
    [open_] = [p for p in E.parse_catalogue(data) if p.id == "open"]
    assert E.details(open_)["summary"] == "开放服务。\n据报道服务了很多人。"


def test_placeholder_entries_are_never_loaded():
    import copy

    data = copy.deepcopy(SYNTHETIC)
    data["programmes"][0]["placeholder"] = True
    data["programmes"][0].pop("sources")  # a draft may lack its source: it is skipped, not shown
    assert "card" not in {p.id for p in E.parse_catalogue(data)}


def test_finder_never_claims_programmes_with_unpublished_eligibility():
    import copy

    data = copy.deepcopy(SYNTHETIC)
    data["programmes"][4]["finder"] = False
    cat = E.parse_catalogue(data)
    result = E.find(
        {
            "veteran_category": "退役士兵",
            "qingdao_hukou": True,
            "age": 30,
            "income_difficulty": True,
        },
        cat,
    )
    shown = {p.id for p in result.qualifies} | {p.id for p, _ in result.maybe}
    assert "open" not in shown and "card" in shown
    assert E.programme_by_name("示例开放服务", cat).id == "open"  # details still available


# --- profile --------------------------------------------------------------------------------------


def test_normalise_profile():
    assert E.normalise_profile(
        {
            "veteran_category": "自主择业军转干部",
            "qingdao_hukou": "是",
            "age": "65岁",
            "disability_grade": "三级",
            "income_difficulty": "不知道",
            "other": 1,
            "slot": None,
        }
    ) == {
        "veteran_category": "转业军官",
        "qingdao_hukou": True,
        "age": 65,
        "disability_grade": 3,
        "income_difficulty": UNKNOWN,
    }
    assert E.normalise_profile(
        {"veteran_category": "傷殘軍人", "qingdao_hukou": "false", "age": 70.0}
    ) == {"veteran_category": "伤残军人", "qingdao_hukou": False, "age": 70}
    assert E.normalise_profile(None) == {}
    assert E.normalise_profile({"age": ""}) == {}
    with pytest.raises(ValueError):
        E.normalise_profile({"age": "很老"})
    with pytest.raises(ValueError):
        E.normalise_profile({"qingdao_hukou": "也许"})


# --- evaluate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pid, profile, expected",
    [
        ("open", {}, "yes"),
        ("card", {}, ("maybe", ("veteran_category", "qingdao_hukou"))),
        ("card", {"veteran_category": "退役士兵"}, ("maybe", ("qingdao_hukou",))),
        ("card", {"veteran_category": "退役士兵", "qingdao_hukou": True}, "yes"),
        ("card", {"veteran_category": "退役士兵", "qingdao_hukou": False}, "no"),
        ("card", {"veteran_category": "烈士遗属"}, "no"),
        (
            "card",
            {"qingdao_hukou": False},
            "no",
        ),  # a failing answer settles it although category is missing
        (
            "card",
            {"veteran_category": UNKNOWN, "qingdao_hukou": True},
            ("maybe", ("veteran_category",)),
        ),
        ("pension", {}, ("maybe", ("veteran_category", "disability_grade"))),
        ("pension", {"veteran_category": "伤残军人"}, ("maybe", ("disability_grade",))),
        ("pension", {"veteran_category": "伤残军人", "disability_grade": 4}, "yes"),
        ("pension", {"veteran_category": "伤残军人", "disability_grade": 8}, "no"),
        ("pension", {"veteran_category": "退役士兵"}, "no"),
        (
            "pension",
            {"veteran_category": UNKNOWN},
            ("maybe", ("veteran_category", "disability_grade")),
        ),
        (
            "pension",
            {"veteran_category": UNKNOWN, "disability_grade": 2},
            "yes",
        ),  # a grade means 伤残军人
        ("pension", {"disability_grade": 0}, "no"),  # 0 = no disability grade
        ("elder", {"veteran_category": "退役士兵", "age": 60}, "yes"),
        ("elder", {"veteran_category": "退役士兵", "age": 59}, "no"),
        ("elder", {"veteran_category": "退役士兵", "age": UNKNOWN}, ("maybe", ("age",))),
        ("young", {"veteran_category": "转业军官", "age": 45}, "yes"),
        ("young", {"veteran_category": "转业军官", "age": 46}, "no"),
        ("hardship", {"qingdao_hukou": True}, ("maybe", ("income_difficulty",))),
        ("hardship", {"qingdao_hukou": True, "income_difficulty": "否"}, "no"),
        ("hardship", {"qingdao_hukou": "是", "income_difficulty": "是"}, "yes"),
        ("family", {"veteran_category": "军属"}, "yes"),  # alias
    ],
)
def test_evaluate(cat, pid, profile, expected):
    assert E.evaluate(by_id(cat, pid), profile) == expected


# --- find -----------------------------------------------------------------------------------------


def run_dialogue(cat, truth):
    """Ask what the finder asks; answer from ``truth`` or decline (UNKNOWN). Returns (questions,
    result)."""
    profile, asked = {}, []
    for _ in range(10):
        result = E.find(profile, cat)
        if result.settled:
            return asked, result
        question = result.next_question
        assert question not in profile  # never re-asked, answered or declined
        asked.append(question)
        profile[question] = truth.get(question, UNKNOWN)
    raise AssertionError(f"finder did not settle: {asked}")


def test_first_question_is_category(cat):
    result = E.find({}, cat)
    assert names(result.qualifies) == ["open"]
    assert result.not_eligible == []
    assert result.next_question == "veteran_category" and result.settled is False


def test_dialogue_for_a_disabled_veteran(cat):
    asked, result = run_dialogue(
        cat,
        {
            "veteran_category": "伤残军人",
            "qingdao_hukou": True,
            "disability_grade": 3,
            "income_difficulty": False,
            "age": 50,
        },
    )
    # hukou settles card (and hardship when "no"); then grade and income settle one each →
    # FIELD_ORDER
    assert asked == ["veteran_category", "qingdao_hukou", "income_difficulty", "disability_grade"]
    assert names(result.qualifies) == ["card", "open", "pension"]
    assert result.maybe == [] and result.settled and result.next_question is None
    assert "age" not in asked  # no maybe-programme needs it for this profile


def test_dialogue_for_an_old_soldier(cat):
    asked, result = run_dialogue(
        cat,
        {
            "veteran_category": "退役士兵",
            "qingdao_hukou": True,
            "age": 65,
            "income_difficulty": True,
        },
    )
    # age settles elder and young whatever the answer; hukou settles card always, hardship only on
    # "no"
    assert asked == ["veteran_category", "age", "qingdao_hukou", "income_difficulty"]
    assert names(result.qualifies) == ["card", "elder", "hardship", "open"]
    assert names(result.not_eligible) == ["family", "pension", "young"]
    assert "disability_grade" not in asked


def test_dialogue_stops_as_soon_as_settled(cat):
    asked, result = run_dialogue(cat, {"veteran_category": "现役军人家属", "qingdao_hukou": False})
    assert asked == ["veteran_category", "qingdao_hukou"]  # hukou False also settles hardship
    assert names(result.qualifies) == ["family", "open"]
    assert result.maybe == []


def test_declining_everything_asks_each_field_at_most_once(cat):
    asked, result = run_dialogue(cat, {})
    assert len(asked) == len(set(asked))
    assert asked[0] == "veteran_category"
    assert "disability_grade" in asked  # category declined, and the grade matters for pension
    assert result.settled and result.next_question is None
    assert result.maybe  # still undecided, but nothing left worth asking
    assert set(result.declined) == set(asked)


def test_declined_category_then_grade(cat):
    result = E.find(
        {"veteran_category": UNKNOWN, "qingdao_hukou": True, "income_difficulty": False, "age": 50},
        cat,
    )
    assert result.next_question == "disability_grade"
    after = E.find(
        {
            "veteran_category": UNKNOWN,
            "qingdao_hukou": True,
            "income_difficulty": False,
            "age": 50,
            "disability_grade": 2,
        },
        cat,
    )
    assert "pension" in names(after.qualifies) and "card" in names(after.qualifies)
    assert after.settled


def test_grade_is_not_asked_before_the_category_nor_for_other_categories(cat):
    for profile in (
        {},
        {"qingdao_hukou": True},
        {"qingdao_hukou": True, "age": 70, "income_difficulty": True},
    ):
        assert E.find(profile, cat).next_question == "veteran_category"
    result = E.find({"veteran_category": "退役士兵"}, cat)
    assert "pension" in names(result.not_eligible)
    for other in ("退役士兵", "烈士遗属", "转业军官"):
        asked, _ = run_dialogue(cat, {"veteran_category": other})
        assert "disability_grade" not in asked


def test_grade_not_asked_when_it_does_not_matter():
    cat = E.parse_catalogue(
        {
            "programmes": [
                {
                    "id": "card",
                    "name": "卡",
                    "sources": REPORT,
                    "eligibility": {"categories": ["伤残军人"], "qingdao_hukou": True},
                },
            ]
        }
    )
    asked, result = run_dialogue(cat, {"veteran_category": "伤残军人", "qingdao_hukou": True})
    assert asked == ["veteran_category", "qingdao_hukou"]
    asked, _ = run_dialogue(cat, {})
    assert "disability_grade" not in asked


def test_prefers_the_field_that_settles_most():
    cat = E.parse_catalogue(
        {
            "programmes": [
                {
                    "id": "a",
                    "name": "甲",
                    "sources": REPORT,
                    "eligibility": {"income_difficulty": True},
                },
                {
                    "id": "b",
                    "name": "乙",
                    "sources": REPORT,
                    "eligibility": {"income_difficulty": True},
                },
                {
                    "id": "c",
                    "name": "丙",
                    "sources": REPORT,
                    "eligibility": {"qingdao_hukou": True, "income_difficulty": True},
                },
                {
                    "id": "d",
                    "name": "丁",
                    "sources": REPORT,
                    "eligibility": {"qingdao_hukou": True, "age_min": 60},
                },
            ]
        }
    )
    # income settles a and b whatever the answer (and c when "no"); hukou settles only when "no"
    assert E.find({}, cat).next_question == "income_difficulty"


def test_ties_follow_field_order():
    cat = E.parse_catalogue(
        {
            "programmes": [
                {
                    "id": "a",
                    "name": "甲",
                    "sources": REPORT,
                    "eligibility": {"income_difficulty": True},
                },
                {
                    "id": "b",
                    "name": "乙",
                    "sources": REPORT,
                    "eligibility": {"qingdao_hukou": True},
                },
            ]
        }
    )
    assert E.find({}, cat).next_question == "qingdao_hukou"
    assert E.find({"qingdao_hukou": UNKNOWN}, cat).next_question == "income_difficulty"


def test_question_order_is_deterministic(cat):
    truth = {
        "veteran_category": "退役士兵",
        "qingdao_hukou": True,
        "age": 30,
        "income_difficulty": False,
    }
    runs = {tuple(run_dialogue(cat, truth)[0]) for _ in range(5)}
    shuffled = E.parse_catalogue(
        {**SYNTHETIC, "programmes": list(reversed(SYNTHETIC["programmes"]))}
    )
    runs.add(tuple(run_dialogue(shuffled, truth)[0]))
    assert len(runs) == 1


ANSWERS = {
    "veteran_category": [None, UNKNOWN, "退役士兵", "伤残军人", "烈士遗属"],
    "qingdao_hukou": [None, UNKNOWN, True, False],
    "age": [None, UNKNOWN, 30, 65],
    "disability_grade": [None, UNKNOWN, 2, 9],
    "income_difficulty": [None, UNKNOWN, True, False],
}


def test_next_question_always_matters_and_is_never_answered(cat):
    for values in itertools.product(*ANSWERS.values()):
        profile = {k: v for k, v in zip(ANSWERS, values, strict=False) if v is not None}
        result = E.find(profile, cat)
        missing = {f for _, fields in result.maybe for f in fields}
        if result.next_question is None:
            assert result.settled
            askable = {f for f in missing if f not in profile}
            if profile.get("veteran_category") not in ("伤残军人", UNKNOWN):
                askable.discard("disability_grade")
            assert not askable, (profile, askable)
        else:
            assert not result.settled
            assert result.next_question in missing
            assert result.next_question not in profile
            if result.next_question == "disability_grade":
                assert profile.get("veteran_category") in ("伤残军人", UNKNOWN)
        total = len(result.qualifies) + len(result.maybe) + len(result.not_eligible)
        assert total == len(cat)


# --- the real catalogue ---------------------------------------------------------------------------

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


def test_real_catalogue_loads():
    cat = E.load_catalogue()
    matrix = [p for p in cat if p.kind == "荣军矩阵"]
    assert sorted(p.name for p in matrix) == sorted(MATRIX)
    assert all(p.kind in ("荣军矩阵", "青岛服务", "法定优待") for p in cat)
    for p in cat:
        assert (
            p.notice == "以官方最新公布为准" and p.source and p.eligibility_text and p.how_to_apply
        )
        assert set(p.eligibility.categories or ()) <= set(E.VETERAN_CATEGORIES)
        assert E.programme_by_name(p.name) is p and E.programme_by_name(p.id) is p
    assert E.programme_by_name("榮軍卡").id == "rongjun_card"


def test_real_catalogue_for_a_disabled_veteran():
    profile = {
        "veteran_category": "伤残军人",
        "qingdao_hukou": True,
        "age": 55,
        "disability_grade": 4,
        "income_difficulty": False,
    }
    result = E.find(profile)
    got = {p.name for p in result.qualifies}
    assert {"伤残抚恤金", "残疾军人医疗保障", "荣军卡", "退役军人优待证"} <= got
    assert "义务兵家庭优待金" not in got and "遗属定期抚恤金" not in got
    assert result.settled


def test_real_catalogue_dialogues_are_short_and_terminate():
    cat = E.load_catalogue()
    truths = [
        {
            "veteran_category": "伤残军人",
            "qingdao_hukou": True,
            "disability_grade": 8,
            "age": 40,
            "income_difficulty": True,
        },
        {
            "veteran_category": "退役士兵",
            "qingdao_hukou": True,
            "age": 66,
            "income_difficulty": False,
        },
        {"veteran_category": "烈士遗属", "qingdao_hukou": False},
        {"veteran_category": "现役军人家属"},
        {},
    ]
    for truth in truths:
        asked, result = run_dialogue(cat, truth)
        assert asked[0] == "veteran_category"
        assert len(asked) == len(set(asked)) <= len(E.FIELD_ORDER)
        if truth.get("veteran_category") not in (None, "伤残军人"):
            assert "disability_grade" not in asked
    asked, result = run_dialogue(cat, truths[0])
    assert "伤残抚恤金" in {p.name for p in result.qualifies}
    medical = E.programme_by_name("残疾军人医疗保障")
    if medical and 8 not in (medical.eligibility.disability_grades or range(1, 11)):
        assert medical not in result.qualifies
