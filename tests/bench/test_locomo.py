"""The LoCoMo protocol of the benchmark: evidence normalisation, the turn text, and recall/hit@k."""

from __future__ import annotations

import json
from pathlib import Path

from agentmem.bench.locomo import Question, Scores, load, normalise_evidence


def test_malformed_evidence_ids_are_normalised_and_unknown_ones_dropped() -> None:
    valid = {"D8:6", "D9:17", "D11:26", "D30:5", "D1:3"}
    evidence = ["D8:6; D9:17", "D:11:26", "D30:05", "D", "D1:3", "D1:3", "D99:1"]
    assert normalise_evidence(evidence, valid) == ("D8:6", "D9:17", "D11:26", "D30:5", "D1:3")


def test_a_sample_becomes_turns_with_captions_and_answerable_questions(tmp_path: Path) -> None:
    sample = {
        "sample_id": "conv-x",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Ben",
            "session_1_date_time": "1 May 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "Look at this!", "blip_caption": "a red kite"},
                {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely."},
            ],
        },
        "qa": [
            {"question": "What did Ann show?", "answer": "a kite", "evidence": ["D1:1"], "category": 4},
            {"question": "Unanswerable?", "adversarial_answer": "x", "evidence": ["D1:2"], "category": 5},
            {"question": "No evidence?", "answer": "y", "evidence": ["D7:7"], "category": 1},
        ],
    }
    path = tmp_path / "locomo.json"
    path.write_text(json.dumps([sample]))
    [conversation] = load(path)
    assert [t.text for t in conversation.turns] == ["Ann: Look at this! [shares a red kite]", "Ben: Lovely."]
    assert conversation.turns[0].session == 1 and conversation.turns[0].date == "1 May 2023"
    assert conversation.questions == [Question("What did Ann show?", 4, ("D1:1",))]


def test_recall_and_hit_at_k_overall_and_per_category() -> None:
    scores = Scores()
    scores.add(Question("q1", 4, ("a", "b")), ["a", "x", "y", "z", "w", "b"])
    scores.add(Question("q2", 2, ("c",)), ["x"] * 60)
    result = scores.result()
    assert result["questions"] == 2
    assert result["recall"]["1"] == 0.25 and result["recall"]["10"] == 0.5
    assert result["hit"]["1"] == 0.5 and result["hit"]["50"] == 0.5
    assert result["per_category"]["single-hop"]["recall"]["5"] == 0.5
    assert result["per_category"]["temporal"]["hit"]["50"] == 0.0
