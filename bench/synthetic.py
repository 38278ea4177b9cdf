"""Distinct, plausible memory texts and queries for load tests (deterministic from a seed)."""

from __future__ import annotations

import random

PEOPLE = [
    "Alice",
    "Bob",
    "Chen",
    "Dara",
    "Elif",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Yara",
]
VERBS = [
    "prefers",
    "bought",
    "visited",
    "is learning",
    "dislikes",
    "recommended",
    "lost",
    "borrowed",
    "painted",
    "cooked",
    "repaired",
    "booked",
    "cancelled",
    "finished",
    "started",
    "sold",
    "planned",
    "reviewed",
]
THINGS = [
    "a vintage bicycle",
    "the jazz festival",
    "Portuguese lessons",
    "spicy ramen",
    "a hiking trip",
    "the quarterly report",
    "a sourdough starter",
    "an electric kettle",
    "the museum tour",
    "a chess set",
    "the garden shed",
    "noise-cancelling headphones",
    "a pottery class",
    "the Lisbon flight",
    "a climbing harness",
    "the budget spreadsheet",
    "a birthday cake",
    "the dentist appointment",
    "a used camera",
    "the book club meeting",
    "a mountain cabin",
    "the yoga retreat",
    "a drone",
    "the tax return",
    "a vegetable patch",
    "the violin",
    "a road bike",
    "the marathon",
    "a telescope",
]
WHEN = [
    "last Monday",
    "in March",
    "yesterday",
    "two weeks ago",
    "on Friday evening",
    "over the summer",
    "this morning",
    "in 2023",
    "at the weekend",
    "before the holidays",
    "after work",
    "in early spring",
]
WHY = [
    "because it was on sale",
    "for a friend",
    "to relax",
    "for work",
    "after a long search",
    "on a whim",
    "with the family",
    "to save money",
    "as a gift",
    "despite the rain",
    "",
    "",
    "",
]


def memory_text(rng: random.Random, index: int) -> str:
    """A memory sentence; the index makes every text distinct, so no embedding is ever a cache hit."""
    parts = [rng.choice(PEOPLE), rng.choice(VERBS), rng.choice(THINGS), rng.choice(WHEN), rng.choice(WHY)]
    return " ".join(p for p in parts if p) + f" (note {index})"


def memory_texts(count: int, seed: int = 1, offset: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [memory_text(rng, offset + i) for i in range(count)]


def queries(count: int, seed: int = 99) -> list[str]:
    """Natural questions over the same vocabulary."""
    rng = random.Random(seed)
    forms = [
        "What did {p} do with {t}?",
        "When did {p} get {t}?",
        "Who {v} {t}?",
        "Tell me about {t}",
        "Why did {p} choose {t}?",
        "what does {p} think about {t}",
    ]
    return [
        rng.choice(forms).format(p=rng.choice(PEOPLE), t=rng.choice(THINGS), v=rng.choice(VERBS)) for _ in range(count)
    ]
