"""Feedback: validated answers in SQLite, a summary per role × view, a formula-safe CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from biostresstest.core.settings import Settings
from biostresstest.web.app import create_app
from biostresstest.web.csv_safe import safe_cell
from biostresstest.web.feedback import RATE_LIMIT, RateLimiter


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _answer(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "role": "bewoner",
        "view": "map",
        "clarity": 4,
        "layer": "score",
        "area": "GM0758",
        "comment": "Duidelijk",
    }
    return {**body, **changes}


def test_answers_are_stored_and_summarised(client: TestClient, settings: Settings) -> None:
    assert client.post("/api/feedback", json=_answer()).status_code == 201
    client.post("/api/feedback", json=_answer(clarity=2, comment=""))
    client.post("/api/feedback", json=_answer(role="bestuurder", view="comparison", clarity=5))
    assert (settings.data_dir / "feedback.sqlite").is_file()
    summary = client.get("/api/feedback/summary").json()
    assert summary["total"] == 3 and summary["mean_clarity"] == pytest.approx(11 / 3, abs=0.01)
    groups = {(g["role"], g["view"]): g for g in summary["groups"]}
    assert groups[("bewoner", "map")] == {
        "role": "bewoner",
        "view": "map",
        "count": 2,
        "mean_clarity": 3.0,
    }
    assert groups[("bestuurder", "comparison")]["count"] == 1
    assert [c["comment"] for c in summary["recent_comments"]] == ["Duidelijk", "Duidelijk"]
    assert client.get("/feedback").status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        {"role": "hacker"},
        {"view": "admin"},
        {"clarity": 0},
        {"clarity": 6},
        {"comment": "x" * 1001},
        {"layer": "score'; DROP TABLE feedback;--"},
        {"area": "<script>"},
        {"extra": 1},
        {"lang": "fr"},
    ],
)
def test_bad_answers_are_refused(client: TestClient, bad: dict[str, object]) -> None:
    answer = client.post("/api/feedback", json=_answer(**bad))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid-input"
    assert client.get("/api/feedback/summary").json()["total"] == 0


def test_rate_limit_per_client(client: TestClient) -> None:
    for _ in range(RATE_LIMIT):
        assert client.post("/api/feedback", json=_answer()).status_code == 201
    refused = client.post("/api/feedback", json=_answer())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/feedback/summary").json()["total"] == RATE_LIMIT


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(2, 10.0)
    assert limiter.check("a", 0.0) == 0 and limiter.check("a", 1.0) == 0
    assert limiter.check("a", 2.0) == pytest.approx(8.0)
    assert limiter.check("b", 2.0) == 0  # another client is not affected
    assert limiter.check("a", 10.5) == 0  # the first answer left the window


def test_csv_export_neutralises_formulas(client: TestClient) -> None:
    evil = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "gewoon"]
    for text in evil:
        client.post("/api/feedback", json=_answer(comment=text))
    answer = client.get("/api/feedback/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    comments = [row["comment"] for row in rows]
    assert comments[:4] == ["'" + text for text in evil[:4]]
    for row in rows:
        assert row["comment"][:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert "gewoon" in comments and '\'=HYPERLINK("http://x")' in comments
    assert {row["clarity"] for row in rows} == {"4"}


def test_safe_cell() -> None:
    assert safe_cell("=1+1") == "'=1+1"
    assert safe_cell("\t=1") == "'\t=1"
    assert safe_cell(-3.5) == "-3.5" and safe_cell(7) == "7" and safe_cell(float("nan")) == ""
    assert safe_cell(None) == "" and safe_cell("Breda") == "Breda"
