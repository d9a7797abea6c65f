"""荣军就业 — job seekers, job postings and a small, explainable matcher.

* ``job_seekers``: one registration per sender (re-registering updates it).
* ``jobs``: postings managed from the agent console. ``data/demo/jobs.yml`` holds invented
  示例 demo jobs (``is_sample``), loaded idempotently by :func:`seed_jobs` only through
  ``make demo-data``; the veteran-facing actions never show ``is_sample`` rows.
* ``data/jobs_vocabulary.yml``: synonyms, stopwords and reason templates for the matcher.
* :func:`match_jobs` ranks active jobs by TF-IDF cosine similarity between the seeker's skills +
  desired job and each job's title + requirements + skills (jieba words, synonyms folded, skills
  counted twice), plus a bonus for the same or a neighbouring district, and explains each match.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Session, validates

from bot.core import clock, districts, people, settings
from bot.core.db import Base
from bot.core.job_words import Vocabulary, tokens, vocabulary
from bot.core.sealed import Sealed

DEMO_JOBS_FILE = settings.DATA_FILES / "demo" / "jobs.yml"

# Derived from the district registry (data/districts.yml), kept here for the job pages.
DISTRICTS = districts.names()
NEIGHBOURS: dict[str, frozenset] = {name: districts.neighbours(name) for name in DISTRICTS}

SAME_DISTRICT_BONUS = 0.2
NEAR_DISTRICT_BONUS = 0.1
DESIRED_TITLE_BONUS = 0.15
SKILLS_WEIGHT = 2  # a job's skills field counts twice as much as its title / requirements


# --- models ---------------------------------------------------------------------------------------


class JobSeeker(Base):
    __tablename__ = "job_seekers"
    __table_args__ = (UniqueConstraint("sender_id", name="uq_job_seekers_sender_id"),)

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False)
    name = Column("name_cipher", Sealed(), nullable=True)  # encrypted at rest
    skills = Column(Text, nullable=False, default="")
    desired_job = Column(String(200), nullable=True)
    district = Column(String(16), nullable=True)
    mobile = Column("mobile_cipher", Sealed(), nullable=True)
    mobile_hash = Column(String(64), nullable=True)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    @validates("mobile")
    def _hash_mobile(self, _key: str, value: str | None) -> str | None:
        self.mobile_hash = people.mobile_fingerprint(value) if value else None
        return value

    @property
    def mobile_masked(self) -> str | None:
        return people.mask_phone(self.mobile) if self.mobile else None

    @property
    def name_masked(self) -> str | None:
        return people.mask_name(self.name) if self.name else None

    def __repr__(self) -> str:
        return f"<JobSeeker {self.id} {self.sender_id}>"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("seed_key", name="uq_jobs_seed_key"),
        Index("ix_jobs_active_district", "active", "district"),
    )

    id = Column(Integer, primary_key=True)
    seed_key = Column(String(40), nullable=True)  # set for rows loaded from demo/jobs.yml
    employer = Column(String(200), nullable=False)
    title = Column(String(200), nullable=False)
    requirements = Column(Text, nullable=False, default="")
    skills = Column(Text, nullable=False, default="")
    district = Column(String(16), nullable=True)
    pay = Column(String(100), nullable=True)
    is_sample = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.title}>"


class JobError(ValueError):
    """Bad input; ``code``: sender_required, skills_required, bad_mobile, bad_district (add_job),
    title_required, employer_required, not_found."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


def demo_jobs(path: Path | None = None) -> tuple[Mapping, ...]:
    """The demo postings in ``demo/jobs.yml`` (the file must say ``demo: true``)."""
    path = Path(path or DEMO_JOBS_FILE)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("demo") is not True:
        raise ValueError(f"{path}: not marked demo: true")
    return tuple(data.get("jobs") or ())


# --- seekers --------------------------------------------------------------------------------------


def normalise_district(district: str | None) -> str | None:
    """The registry's name for a district (市南 → 市南区, 西海岸 → 黄岛区), or None."""
    return districts.normalise(district) if district else None


def get_seeker(s: Session, sender_id: str) -> JobSeeker | None:
    return s.execute(select(JobSeeker).where(JobSeeker.sender_id == sender_id)).scalars().first()


def register_seeker(
    s: Session,
    *,
    sender_id: str,
    skills: str,
    desired_job: str | None = None,
    district: str | None = None,
    mobile: str | None = None,
    name: str | None = None,
    now: datetime,
) -> JobSeeker:
    """Create or update (same sender) the sender's registration; it becomes active again."""
    if not (sender_id or "").strip():
        raise JobError("sender_required")
    skills = " ".join((skills or "").split())
    if not skills:
        raise JobError("skills_required")
    # optional: canonical (西海岸新区 → 黄岛区), or dropped when not a Qingdao district
    district = normalise_district(district) if district else None
    if mobile:
        try:
            mobile = people.validate_phone(mobile)
        except people.InvalidMobile as exc:
            raise JobError("bad_mobile", exc.code) from None
    seeker = (
        s.execute(select(JobSeeker).where(JobSeeker.sender_id == sender_id).with_for_update())
        .scalars()
        .first()
    )
    if seeker is None:
        seeker = JobSeeker(sender_id=sender_id, created_at=now)
        s.add(seeker)
    seeker.skills = skills
    seeker.desired_job = (desired_job or "").strip() or None
    seeker.district = district or None
    if mobile:
        seeker.mobile = mobile
    if name and name.strip():
        seeker.name = name.strip()
    seeker.active = True
    seeker.updated_at = now
    s.flush()
    return seeker


def withdraw_seeker(s: Session, sender_id: str, now: datetime) -> bool:
    seeker = get_seeker(s, sender_id)
    if seeker is None or not seeker.active:
        return False
    seeker.active = False
    seeker.updated_at = now
    s.flush()
    return True


def list_seekers(
    s: Session, *, active_only: bool = True, district: str | None = None
) -> list[JobSeeker]:
    stmt = select(JobSeeker)
    if active_only:
        stmt = stmt.where(JobSeeker.active.is_(True))
    if district:
        stmt = stmt.where(JobSeeker.district == normalise_district(district))
    return list(s.execute(stmt.order_by(JobSeeker.updated_at.desc(), JobSeeker.id)).scalars().all())


# --- jobs -----------------------------------------------------------------------------------------


def add_job(
    s: Session,
    *,
    employer: str,
    title: str,
    requirements: str = "",
    skills: str = "",
    district: str | None = None,
    pay: str | None = None,
    is_sample: bool = False,
    now: datetime,
    seed_key: str | None = None,
) -> Job:
    if not (employer or "").strip():
        raise JobError("employer_required")
    if not (title or "").strip():
        raise JobError("title_required")
    if district:
        normalised = normalise_district(district)
        if not normalised:
            raise JobError("bad_district", f"unknown district {district!r}")
        district = normalised
    job = Job(
        seed_key=seed_key,
        employer=employer.strip(),
        title=title.strip(),
        requirements=(requirements or "").strip(),
        skills=(skills or "").strip(),
        district=district or None,
        pay=(pay or "").strip() or None,
        is_sample=bool(is_sample),
        active=True,
        created_at=now,
        updated_at=now,
    )
    s.add(job)
    s.flush()
    return job


def get_job(s: Session, job_id: int) -> Job | None:
    return s.get(Job, int(job_id))


def _set_job_active(s: Session, job_id: int, active: bool, now: datetime) -> Job:
    job = get_job(s, job_id)
    if job is None:
        raise JobError("not_found", f"no job {job_id}")
    if job.active != active:
        job.active = active
        job.updated_at = now
        s.flush()
    return job


def deactivate_job(s: Session, job_id: int, now: datetime) -> Job:
    return _set_job_active(s, job_id, False, now)


def reactivate_job(s: Session, job_id: int, now: datetime) -> Job:
    return _set_job_active(s, job_id, True, now)


def list_jobs(
    s: Session,
    *,
    active_only: bool = True,
    district: str | None = None,
    include_samples: bool = True,
) -> list[Job]:
    stmt = select(Job)
    if active_only:
        stmt = stmt.where(Job.active.is_(True))
    if district:
        stmt = stmt.where(Job.district == normalise_district(district))
    if not include_samples:
        stmt = stmt.where(Job.is_sample.is_(False))
    return list(s.execute(stmt.order_by(Job.id)).scalars().all())


def seed_jobs(s: Session, *, now: datetime | None = None, path: Path | None = None) -> int:
    """Insert the demo (示例) jobs whose ``key`` is not in the table yet, all as ``is_sample``;
    returns how many were added. Only ``make demo-data`` calls this outside tests.

    Idempotent: rows already seeded (even if later edited or deactivated in the console) are left
    alone.
    """
    now = now or clock.now()
    existing = set(s.execute(select(Job.seed_key).where(Job.seed_key.isnot(None))).scalars())
    added = 0
    for item in demo_jobs(path):
        key = str(item["key"])
        if key in existing:
            continue
        add_job(
            s,
            employer=item["employer"],
            title=item["title"],
            requirements=item.get("requirements") or "",
            skills=item.get("skills") or "",
            district=item.get("district"),
            pay=item.get("pay"),
            is_sample=True,
            now=now,
            seed_key=key,
        )
        existing.add(key)
        added += 1
    return added


def job_dict(job: Job) -> dict:
    return {
        "id": job.id,
        "employer": job.employer,
        "title": job.title,
        "requirements": job.requirements,
        "skills": job.skills,
        "district": job.district,
        "pay": job.pay,
        "is_sample": job.is_sample,
        "active": job.active,
    }


# --- matching -------------------------------------------------------------------------------------


@dataclass
class JobMatch:
    job: Job
    score: float
    reason: str
    matched_terms: tuple[str, ...] = ()
    desired_terms: tuple[str, ...] = ()
    district_match: str | None = None  # "same" | "near" | None

    def as_dict(self) -> dict:
        return {
            **job_dict(self.job),
            "score": self.score,
            "reason": self.reason,
            "matched_terms": list(self.matched_terms),
            "district_match": self.district_match,
        }


def district_relation(a: str | None, b: str | None) -> str | None:
    a, b = normalise_district(a), normalise_district(b)
    if not a or not b:
        return None
    if a == b:
        return "same"
    if b in NEIGHBOURS.get(a, ()):
        return "near"
    return None


def _profile(seeker_or_profile) -> tuple[str, str, str | None]:
    if isinstance(seeker_or_profile, JobSeeker):
        return (
            seeker_or_profile.skills or "",
            seeker_or_profile.desired_job or "",
            seeker_or_profile.district,
        )
    if isinstance(seeker_or_profile, Mapping):
        return (
            str(seeker_or_profile.get("skills") or ""),
            str(seeker_or_profile.get("desired_job") or ""),
            seeker_or_profile.get("district"),
        )
    raise TypeError(
        "match_jobs needs a JobSeeker or a mapping with skills / desired_job / district"
    )


def _reason(
    vocab: Vocabulary,
    terms: Sequence[str],
    desired: Sequence[str],
    relation: str | None,
    district: str | None,
) -> str:
    r = vocab.reasons
    join_terms = r.get("term_joiner", "、")
    parts = []
    if terms:
        parts.append(r.get("skills", "{terms}").format(terms=join_terms.join(terms)))
    if desired:
        parts.append(r.get("desired", "{terms}").format(terms=join_terms.join(desired)))
    if relation == "same":
        parts.append(r.get("same_district", "{district}").format(district=district))
    elif relation == "near":
        parts.append(r.get("near_district", "{district}").format(district=district))
    return r.get("joiner", "; ").join(parts)


def match_jobs(
    s: Session, seeker_or_profile, limit: int = 3, *, jobs: Sequence[Job] | None = None
) -> list[JobMatch]:
    """Best active jobs for a seeker (or a dict with skills, desired_job, district), best first.

    score = cosine(tf-idf(seeker skills + desired job), tf-idf(job title + requirements + 2×skills))
            + 0.15 when the desired job shares a word with the title
            + 0.2 same district / + 0.1 neighbouring district.
    Jobs sharing no word with the seeker are not returned. Ties: lower job id first.
    """
    vocab = vocabulary()
    skills, desired, district = _profile(seeker_or_profile)
    jobs = list(jobs) if jobs is not None else list_jobs(s)
    if not jobs:
        return []
    for job in jobs:  # learn every skills item first so all texts are cut the same way
        tokens(job.skills, vocab, learn=True)
    docs: list[Counter] = []
    titles: list[set] = []
    for job in jobs:
        counts = Counter(tokens(job.title, vocab))
        titles.append(set(counts))
        counts.update(tokens(job.requirements, vocab))
        for _ in range(SKILLS_WEIGHT):
            counts.update(tokens(job.skills, vocab))
        docs.append(counts)
    n = len(docs)
    df = Counter(term for doc in docs for term in doc)
    idf = {term: math.log((n + 1) / (count + 1)) + 1.0 for term, count in df.items()}

    query = Counter(tokens(skills, vocab))
    desired_tokens = tokens(desired, vocab)
    query.update(desired_tokens)
    qvec = {t: c * idf.get(t, 0.0) for t, c in query.items() if t in idf}
    qnorm = math.sqrt(sum(v * v for v in qvec.values()))

    results: list[JobMatch] = []
    for job, doc, title_terms in zip(jobs, docs, titles, strict=False):
        dvec = {t: c * idf[t] for t, c in doc.items()}
        dnorm = math.sqrt(sum(v * v for v in dvec.values()))
        shared = [t for t in qvec if t in dvec]
        if not shared or not qnorm or not dnorm:
            continue
        cosine = sum(qvec[t] * dvec[t] for t in shared) / (qnorm * dnorm)
        desired_hit = [t for t in dict.fromkeys(desired_tokens) if t in title_terms]
        relation = district_relation(district, job.district)
        score = cosine
        if desired_hit:
            score += DESIRED_TITLE_BONUS
        if relation == "same":
            score += SAME_DISTRICT_BONUS
        elif relation == "near":
            score += NEAR_DISTRICT_BONUS
        terms = sorted(shared, key=lambda t: (-qvec[t] * dvec[t], t))
        skill_terms = tuple(t for t in terms if t not in desired_hit)[:3]
        results.append(
            JobMatch(
                job=job,
                score=round(score, 4),
                reason=_reason(vocab, skill_terms, desired_hit[:2], relation, job.district),
                matched_terms=tuple(terms),
                desired_terms=tuple(desired_hit),
                district_match=relation,
            )
        )
    results.sort(key=lambda m: (-m.score, m.job.id))
    return results[: max(0, limit)] if limit else results
