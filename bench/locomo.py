"""LoCoMo retrieval protocol: one memory per turn, questions of categories 1-4 with evidence, recall and hit@k.

Reads the original LoCoMo format (a list of samples with `conversation` and `qa`) from any path.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

KS = (1, 5, 10, 25, 50)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")


@dataclass(frozen=True)
class Turn:
    """One conversation turn, stored as one memory."""

    dia_id: str
    session: int
    date: str
    text: str


@dataclass(frozen=True)
class Question:
    """A question with the turns that answer it."""

    text: str
    category: int
    gold: tuple[str, ...]


@dataclass
class Conversation:
    """A sample: its turns in order and its answerable questions."""

    sample_id: str
    turns: list[Turn] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def normalise_evidence(evidence: Iterable[str], valid: set[str]) -> tuple[str, ...]:
    """Fixes the file's malformed evidence ids (`D8:6; D9:17`, `D:11:26`, `D30:05`, bare `D`, duplicates)."""
    out: list[str] = []
    for entry in evidence:
        for token in re.split(r"[;,\s]+", str(entry)):
            match = _EVIDENCE.fullmatch(token.strip())
            if match:
                dia_id = f"D{int(match.group(1))}:{int(match.group(2))}"
                if dia_id in valid and dia_id not in out:
                    out.append(dia_id)
    return tuple(out)


def load(path: Path) -> list[Conversation]:
    """Turns as `"{speaker}: {text}"` (+ ` [shares {caption}]`), questions of categories 1-4 with evidence."""
    conversations = []
    for sample in json.loads(Path(path).read_text(encoding="utf-8")):
        body = sample["conversation"]
        conversation = Conversation(sample["sample_id"])
        sessions = sorted(int(k.split("_")[1]) for k in body if re.fullmatch(r"session_\d+", k))
        for number in sessions:
            date = body.get(f"session_{number}_date_time", "")
            for turn in body[f"session_{number}"]:
                text = f"{turn['speaker']}: {turn['text']}"
                if turn.get("blip_caption"):
                    text += f" [shares {turn['blip_caption']}]"
                conversation.turns.append(Turn(turn["dia_id"], number, date, text))
        valid = {t.dia_id for t in conversation.turns}
        for qa in sample.get("qa", []):
            if qa.get("category") not in CATEGORIES:
                continue
            gold = normalise_evidence(qa.get("evidence", []), valid)
            if gold:
                conversation.questions.append(Question(qa["question"], qa["category"], gold))
        conversations.append(conversation)
    return conversations


class Scores:
    """Accumulates recall@k and hit@k, overall and per category."""

    def __init__(self) -> None:
        self._sums: dict[str, dict[str, dict[int, float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        self._counts: dict[str, int] = defaultdict(int)

    def add(self, question: Question, ranked: list[str]) -> None:
        gold = set(question.gold)
        for group in ("overall", CATEGORIES[question.category]):
            self._counts[group] += 1
            for k in KS:
                found = len(gold & set(ranked[:k]))
                self._sums[group]["recall"][k] += found / len(gold)
                self._sums[group]["hit"][k] += 1.0 if found else 0.0

    def _group(self, group: str) -> dict[str, object]:
        n = self._counts[group]
        return {
            "questions": n,
            "recall": {str(k): round(self._sums[group]["recall"][k] / n, 4) for k in KS},
            "hit": {str(k): round(self._sums[group]["hit"][k] / n, 4) for k in KS},
        }

    def result(self) -> dict[str, object]:
        overall = self._group("overall")
        overall["per_category"] = {c: self._group(c) for c in CATEGORIES.values() if self._counts[c]}
        return overall
