"""荣军就业: seekers, jobs, the 示例 demo jobs and the matcher."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from bot.core import districts, job_words
from bot.core import jobs as J
from bot.core.jobs import JobError


def _job(session, now, title, skills, district, requirements="", employer="示例企业X"):
    return J.add_job(
        session,
        employer=employer,
        title=title,
        requirements=requirements,
        skills=skills,
        district=district,
        pay="面议 示例",
        now=now,
    )


# --- seed -----------------------------------------------------------------------------------------


def test_demo_file_is_all_samples():
    data = yaml.safe_load(J.DEMO_JOBS_FILE.read_text(encoding="utf-8"))
    assert data["demo"] is True
    assert "jobs" not in yaml.safe_load(job_words.VOCABULARY_FILE.read_text(encoding="utf-8"))
    items = data["jobs"]
    assert 8 <= len(items) <= 15
    assert len({i["key"] for i in items}) == len(items)
    for item in items:
        assert item["is_sample"] is True
        assert item["employer"].startswith("示例企业")
        assert "示例" in item["pay"] and "示例" in item["title"]
        assert districts.normalise(item["district"]) == item["district"]
        assert item["skills"] and item["requirements"]


def test_seed_jobs_is_idempotent(session, now):
    count = len(yaml.safe_load(J.DEMO_JOBS_FILE.read_text(encoding="utf-8"))["jobs"])
    assert J.seed_jobs(session, now=now) == count
    assert J.seed_jobs(session, now=now) == 0
    jobs = J.list_jobs(session)
    assert len(jobs) == count
    assert all(j.is_sample and j.active and j.seed_key for j in jobs)
    # a seeded job deactivated in the console stays deactivated after re-seeding
    J.deactivate_job(session, jobs[0].id, now)
    assert J.seed_jobs(session, now=now) == 0
    assert len(J.list_jobs(session)) == count - 1
    assert J.list_jobs(session, include_samples=False) == []


# --- seekers --------------------------------------------------------------------------------------


def test_register_then_re_register_updates_the_same_row(session, now):
    first = J.register_seeker(
        session,
        sender_id="tg-1",
        skills="会开车",
        desired_job="司机",
        district="西海岸新区",
        mobile="+86 139 8765 4321",
        name="王建国",
        now=now,
    )
    assert first.district == "黄岛区"
    assert first.mobile == "13987654321" and first.mobile_masked == "139****4321"
    assert first.name_masked == "王*国"
    later = now + timedelta(days=3)
    again = J.register_seeker(
        session,
        sender_id="tg-1",
        skills="电工，持电工证",
        desired_job=None,
        district="胶州",
        now=later,
    )
    assert again.id == first.id
    assert (again.skills, again.desired_job, again.district) == ("电工，持电工证", None, "胶州市")
    assert again.mobile == "13987654321"  # kept when not given again
    assert again.created_at == now and again.updated_at == later
    assert len(J.list_seekers(session)) == 1
    assert J.get_seeker(session, "tg-1") is again
    assert (
        J.register_seeker(
            session, sender_id="tg-1", skills="电工", district="济南市", now=later
        ).district
        is None
    )


def test_withdraw_and_re_register_reactivates(session, now):
    J.register_seeker(session, sender_id="tg-2", skills="厨师", now=now)
    assert J.withdraw_seeker(session, "tg-2", now) is True
    assert J.withdraw_seeker(session, "tg-2", now) is False
    assert J.list_seekers(session) == []
    assert len(J.list_seekers(session, active_only=False)) == 1
    assert J.register_seeker(session, sender_id="tg-2", skills="厨师", now=now).active is True


@pytest.mark.parametrize(
    "kwargs, code",
    [
        ({"skills": "  "}, "skills_required"),
        ({"sender_id": ""}, "sender_required"),
        ({"mobile": "8888"}, "bad_mobile"),
    ],
)
def test_register_validates(session, now, kwargs, code):
    data = {"sender_id": "tg-3", "skills": "保安", "now": now, **kwargs}
    with pytest.raises(JobError) as err:
        J.register_seeker(session, **data)
    assert err.value.code == code


# --- console operations ---------------------------------------------------------------------------


def test_add_list_deactivate(session, now):
    a = _job(session, now, "叉车工", "叉车", "城阳区")
    b = _job(session, now, "厨师", "厨师", "即墨区")
    assert [j.id for j in J.list_jobs(session)] == [a.id, b.id]
    assert [j.id for j in J.list_jobs(session, district="即墨")] == [b.id]
    J.deactivate_job(session, a.id, now + timedelta(hours=1))
    assert a.active is False and a.updated_at == now + timedelta(hours=1)
    assert [j.id for j in J.list_jobs(session)] == [b.id]
    assert len(J.list_jobs(session, active_only=False)) == 2
    J.reactivate_job(session, a.id, now)
    assert a.active is True
    with pytest.raises(JobError) as err:
        J.deactivate_job(session, 999999, now)
    assert err.value.code == "not_found"
    for kwargs, code in (
        ({"title": ""}, "title_required"),
        ({"employer": " "}, "employer_required"),
        ({"district": "火星"}, "bad_district"),
    ):
        with pytest.raises(JobError) as err:
            J.add_job(session, **{"employer": "示例企业Y", "title": "岗位", "now": now, **kwargs})
        assert err.value.code == code
    assert J.job_dict(b)["title"] == "厨师"


# --- matching -------------------------------------------------------------------------------------


def test_seeded_matches_are_sensible(session, now):
    J.seed_jobs(session, now=now)
    cases = [
        (
            {"skills": "会开车，有B2驾照", "desired_job": "司机", "district": "胶州市"},
            "货车司机（示例）",
        ),
        ({"skills": "当过炊事员，会做面点", "district": "李沧区"}, "单位食堂厨师（示例）"),
        (
            {"skills": "保安，站岗巡逻", "desired_job": "安保", "district": "市北区"},
            "小区安保队长（示例）",
        ),
        ({"skills": "开叉车，仓库管理", "district": "城阳区"}, "叉车工（示例）"),
        (
            {"skills": "消防员退役，持消防设施操作员证", "district": "莱西市"},
            "物业消防控制室值班员（示例）",
        ),
    ]
    for profile, best in cases:
        matches = J.match_jobs(session, profile)
        assert matches and matches[0].job.title == best, (profile, [m.job.title for m in matches])
        assert len(matches) <= 3
        assert matches == sorted(matches, key=lambda m: (-m.score, m.job.id))


def test_skills_overlap_ranks_first(session, now):
    weak = _job(session, now, "仓库管理员", "仓储、管理", "市南区")
    strong = _job(session, now, "叉车司机", "叉车、叉车证、仓储", "市南区")
    _job(session, now, "厨师", "厨师、面点", "市南区")
    matches = J.match_jobs(session, {"skills": "开叉车，有叉车证", "district": "市南区"})
    assert [m.job.id for m in matches] == [strong.id, weak.id] or [m.job.id for m in matches] == [
        strong.id
    ]
    assert matches[0].matched_terms[0] == "叉车"
    assert "叉车" in matches[0].reason


def test_district_bonus_same_then_neighbour_then_far(session, now):
    far = _job(session, now, "电工", "电工、电工证", "莱西市")
    near = _job(session, now, "电工", "电工、电工证", "市北区")
    same = _job(session, now, "电工", "电工、电工证", "市南区")
    unknown = _job(session, now, "电工", "电工、电工证", None)
    matches = J.match_jobs(session, {"skills": "电工", "district": "市南区"}, limit=10)
    assert [m.job.id for m in matches] == [same.id, near.id, far.id, unknown.id]
    assert [m.district_match for m in matches] == ["same", "near", None, None]
    assert matches[0].score > matches[1].score > matches[2].score == matches[3].score
    assert "市南区" in matches[0].reason and "市北区" in matches[1].reason
    assert "莱西市" not in matches[2].reason


def test_skills_beat_district(session, now):
    other = _job(session, now, "厨师", "厨师", "市南区")
    fit = _job(session, now, "汽修技工", "汽修、维修、发动机", "莱西市")
    matches = J.match_jobs(session, {"skills": "修车，懂发动机", "district": "市南区"})
    assert [m.job.id for m in matches] == [fit.id]
    assert other.id not in [m.job.id for m in matches]  # same district alone is no match


def test_desired_job_counts(session, now):
    a = _job(session, now, "配送站站长", "配送、管理", "市南区")
    b = _job(session, now, "军训教官", "教练、管理", "市南区")
    matches = J.match_jobs(session, {"skills": "当过班长，会管理", "desired_job": "教官"})
    assert [m.job.id for m in matches][:2] == [b.id, a.id]
    assert matches[0].desired_terms == ("教练",)  # 教官 and 军训 both fold to 教练


def test_synonyms_fold_everyday_words(session, now):
    job = _job(session, now, "货车司机", "驾驶、驾驶证", "黄岛区")
    [match] = J.match_jobs(session, {"skills": "开车十年，有驾照"})
    assert match.job.id == job.id
    assert set(match.matched_terms) >= {"驾驶", "驾驶证"}


def test_traditional_and_fullwidth_input(session, now):
    job = _job(session, now, "叉车工", "叉车、叉车证", "城阳区")
    [match] = J.match_jobs(session, {"skills": "會開叉車，有叉車證", "district": "城陽區"})
    assert match.job.id == job.id
    [match] = J.match_jobs(
        session, {"skills": "Ｂ２驾照"}, jobs=[_job(session, now, "司机", "B2、驾驶证", None)]
    )
    assert "B2" in match.matched_terms


def test_no_overlap_no_match_and_inactive_jobs_are_ignored(session, now):
    job = _job(session, now, "厨师", "厨师、面点", "市南区")
    assert J.match_jobs(session, {"skills": "唱歌跳舞", "district": "市南区"}) == []
    assert J.match_jobs(session, {"skills": "面点"})[0].job.id == job.id
    J.deactivate_job(session, job.id, now)
    assert J.match_jobs(session, {"skills": "面点"}) == []


def test_match_with_a_registered_seeker_and_limit(session, now):
    for district in J.DISTRICTS:
        _job(session, now, f"保安员{district}", "安保、巡逻", district)
    seeker = J.register_seeker(session, sender_id="tg-7", skills="保安", district="崂山区", now=now)
    matches = J.match_jobs(session, seeker)
    assert len(matches) == 3
    assert matches[0].job.district == "崂山区"
    assert {m.job.district for m in matches[1:]} <= J.NEIGHBOURS["崂山区"]
    assert len(J.match_jobs(session, seeker, limit=5)) == 5
    assert matches[0].as_dict()["score"] == matches[0].score
    with pytest.raises(TypeError):
        J.match_jobs(session, "tg-7")


def test_neighbours_are_symmetric_and_known():
    for district, near in J.NEIGHBOURS.items():
        assert district in J.DISTRICTS and district not in near
        for other in near:
            assert district in J.NEIGHBOURS[other]
    assert J.district_relation("西海岸新区", "黄岛区") == "same"
    assert J.district_relation("市南区", None) is None


def test_domain_words_do_not_leak_into_global_jieba(session, now):
    import jieba

    _job(session, now, "消防值班员", "消防设施操作员证", "莱西市")
    J.match_jobs(session, {"skills": "消防设施操作员证"})
    jieba.initialize()
    assert "消防设施操作员证" not in jieba.dt.FREQ


def test_job_terms_are_the_words_the_vocabulary_knows():
    assert job_words.job_terms("开大车的也行 保安也中")
    assert job_words.job_terms("俺会电焊 有电工证")
    assert job_words.job_terms("今天天气不错") == []
    assert job_words.job_terms("先不用了 谢谢") == []
    assert job_words.job_terms("") == []
