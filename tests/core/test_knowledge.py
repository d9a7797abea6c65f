"""FAQ answers (knowledge.yml) and 报到 requirements (reporting.yml)."""

from __future__ import annotations

import pytest
import yaml

from bot.core import knowledge as K

NOTICE = "以官方最新公布为准"
ENDING = "以官方最新公布为准。"
REPORT = [{"ref": "xinwang_2024"}]
LAW = [{"ref": "anzhi_2024", "art": 51}]
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
LABEL_ONLY = ["book_appointment", "check_appointment", "submit_wish", "check_wish", "request_human"]


@pytest.fixture()
def files(tmp_path):
    knowledge = tmp_path / "knowledge.yml"
    knowledge.write_text(
        yaml.safe_dump(
            {
                "notice": NOTICE,
                "source_label": "来源：",
                "topics": {
                    "ask_allowance": {
                        "label": "抚恤补助",
                        "answer": "抚恤金按等级发放。\n",
                        "sources": REPORT,
                        "followups": [
                            {"title": "预约报到", "payload": "/book_appointment"},
                            {"title": "坏按钮"},
                        ],
                    },
                    "ask_contact": {
                        "label": "联系方式",
                        "answer": "请拨打12345。\n",
                        "sources": LAW,
                    },
                    "book_appointment": {"label": "预约报到"},
                    "no_label": {"answer": "有答复没标签", "sources": REPORT},
                    "ask_training": {
                        "label": "教育培训",
                        "answer": "未核实的草稿",
                        "placeholder": True,
                    },
                    "ask_employment": {"label": "就业服务", "answer": "没有来源的答复"},
                },
            },
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    reporting = tmp_path / "reporting.yml"
    reporting.write_text(
        yaml.safe_dump(
            {
                "notice": NOTICE,
                "categories": {
                    "退役士兵": {
                        "deadline_days": 30,
                        "deadline_from": "退出现役之日",
                        "documents": ["退役证", "身份证"],
                        "notes": "30日内报到",
                        "sources": LAW,
                    },
                    "转业军官": {"deadline_days": None, "documents": ["介绍信"]},
                },
                "default": {"deadline_days": None, "documents": ["身份证"], "sources": REPORT},
            },
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    return knowledge, reporting


# --- synthetic files ------------------------------------------------------------------------------


def test_answer_appends_notice_once(files):
    knowledge, _ = files
    text, source, followups = K.answer("ask_allowance", path=knowledge)
    assert text == "抚恤金按等级发放。\n\n来源：信网报道（2024年）。以官方最新公布为准。"
    assert source == "信网报道（2024年）"
    assert followups == [
        {"title": "预约报到", "payload": "/book_appointment"}
    ]  # broken button dropped
    contact = K.answer("ask_contact", path=knowledge)
    assert contact.text.count(NOTICE) == 1 and contact.text.endswith(ENDING)
    assert "来源：《退役军人安置条例》第51条。" in contact.text
    assert contact.followups == []


def test_placeholder_and_unsourced_answers(files):
    from bot.core.sources import SourceError

    knowledge, _ = files
    assert K.answer("ask_training", path=knowledge) is None  # drafts are never shown
    assert "ask_training" not in dict(K.topic_labels(path=knowledge, answered_only=True))
    with pytest.raises(SourceError, match="ask_employment: no sources"):
        K.answer("ask_employment", path=knowledge)


def test_label_only_and_unknown_topics(files):
    knowledge, _ = files
    assert K.answer("book_appointment", path=knowledge) is None
    assert K.answer("nonexistent", path=knowledge) is None
    assert K.label("book_appointment", path=knowledge) == "预约报到"
    assert K.label("no_label", path=knowledge) is None
    assert K.label("nonexistent", path=knowledge) is None


def test_topic_labels_in_file_order(files):
    knowledge, _ = files
    assert K.topic_labels(path=knowledge) == [
        ("ask_allowance", "抚恤补助"),
        ("ask_contact", "联系方式"),
        ("book_appointment", "预约报到"),
        ("ask_training", "教育培训"),
        ("ask_employment", "就业服务"),
    ]
    # the placeholder draft is left out
    assert K.topic_labels(path=knowledge, answered_only=True) == [
        ("ask_allowance", "抚恤补助"),
        ("ask_contact", "联系方式"),
        ("ask_employment", "就业服务"),
    ]


def test_reporting_requirements(files):
    _, reporting = files
    soldier = K.reporting_requirements("退役士兵", path=reporting)
    assert soldier == {
        "category": "退役士兵",
        "documents": ["退役证", "身份证"],
        "deadline_days": 30,
        "deadline_from": "退出现役之日",
        "notes": "30日内报到",
        "source": "《退役军人安置条例》第51条",
        "notice": NOTICE,
        "is_default": False,
    }
    officer = K.reporting_requirements("自主择业军转干部", path=reporting)  # alias → 转业军官
    assert officer["category"] == "转业军官" and officer["deadline_days"] is None
    assert officer["source"] == "信网报道（2024年）"  # falls back to the default entry's sources
    for category in (None, "", "外星人"):
        fallback = K.reporting_requirements(category, path=reporting)
        assert fallback["is_default"] and fallback["category"] is None
        assert fallback["documents"] == ["身份证"]
    assert K.reporting_requirements("退役士兵 ", path=reporting)["category"] == "退役士兵"
    assert K.reporting_categories(path=reporting) == ["退役士兵", "转业军官"]


# --- the real files -------------------------------------------------------------------------------


@pytest.mark.parametrize("intent", INFORMATIONAL)
def test_every_informational_intent_has_an_answer(intent):
    result = K.answer(intent)
    assert result is not None
    assert result.text.endswith(ENDING) and result.text.count(NOTICE) == 1
    assert f"来源：{result.source}。" in result.text
    assert result.source
    assert all(f["title"] and f["payload"].startswith("/") for f in result.followups)
    assert K.label(intent) and len(K.label(intent)) <= 8


@pytest.mark.parametrize("intent", LABEL_ONLY)
def test_action_intents_have_labels(intent):
    assert K.label(intent) and len(K.label(intent)) <= 8


def test_real_topic_labels():
    labels = dict(K.topic_labels())
    assert set(INFORMATIONAL) | set(LABEL_ONLY) <= set(labels)
    assert len(set(labels.values())) == len(labels)  # distinct buttons
    assert K.notice() == NOTICE


def test_real_reporting_requirements():
    soldier = K.reporting_requirements("退役士兵")
    assert soldier["deadline_days"] == 30 and soldier["documents"] and soldier["source"]
    disabled = K.reporting_requirements("傷殘軍人")  # Traditional input
    assert disabled["category"] == "伤残军人" and disabled["deadline_days"] == 60
    fallback = K.reporting_requirements(None)
    assert fallback["is_default"] and fallback["documents"] and fallback["notice"] == NOTICE
    from bot.core.entitlements import VETERAN_CATEGORIES

    assert set(K.reporting_categories()) <= set(VETERAN_CATEGORIES)
