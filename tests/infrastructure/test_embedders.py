"""Embedders: the local int8 MiniLM, and the OpenAI adapter through the real SDK against a local HTTP stub."""

from __future__ import annotations

import numpy as np
import pytest

from agentmem.infrastructure.embedders import (
    LOCAL_SPEC,
    EmbedderError,
    LocalMiniLM,
    OpenAIEmbedder,
    QueryCache,
    embedder_for,
)
from agentmem.infrastructure.settings import Settings
from tests.stubs.openai_stub import OpenAIStub, hashed_vector


@pytest.fixture(scope="module")
def minilm() -> LocalMiniLM:
    return LocalMiniLM()


def test_the_local_model_puts_paraphrases_closer_than_unrelated_text(minilm: LocalMiniLM) -> None:
    tea, also_tea, stocks = minilm.embed(
        ["Alice loves green tea", "Alice enjoys drinking tea", "The stock market fell sharply today"]
    )
    assert tea @ also_tea > 0.7
    assert tea @ stocks < 0.2


def test_local_vectors_are_unit_length_deterministic_and_independent_of_batching(minilm: LocalMiniLM) -> None:
    # long texts (truncated to 256 tokens) go in smaller batches than short ones; order must not matter
    long = [f"topic {i}: " + "words about the garden " * (60 + i) for i in range(12)]
    texts = ["short", long[0], "a somewhat longer sentence about gardening and tomatoes", *long[1:], "x" * 3000]
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts])
    assert together.shape == (len(texts), 384) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-5)


def test_the_default_embedder_is_the_local_model() -> None:
    assert embedder_for(LOCAL_SPEC, Settings()).dimension == 384


def test_the_openai_adapter_speaks_the_real_sdk_and_keeps_order() -> None:
    with OpenAIStub() as stub:
        embedder = OpenAIEmbedder("text-embedding-3-small", 32, stub.base_url, "sk-test")
        texts = [f"text number {i}" for i in range(300)]
        vectors = embedder.embed(texts)
        assert vectors.shape == (300, 32) and stub.requests == 2
        assert np.allclose(vectors[123], hashed_vector(texts[123], 32), atol=1e-6)
        assert embedder.spec == "openai:text-embedding-3-small:32"


def test_a_wrong_dimension_or_a_failing_endpoint_is_a_clear_error() -> None:
    with OpenAIStub(default_dimension=16) as stub:
        wrong = OpenAIEmbedder("m", 32, stub.base_url, "k", send_dimensions=False)
        with pytest.raises(EmbedderError, match="16 dimensions, expected 32"):
            wrong.embed(["hello"])
        stub.fail = True
        with pytest.raises(EmbedderError, match="embedding endpoint failed"):
            OpenAIEmbedder("m", 16, stub.base_url, "k", max_retries=0).embed(["hello"])


def test_unknown_specs_are_refused() -> None:
    for spec in ("bogus:model", "openai:no-dimension"):
        with pytest.raises(EmbedderError):
            embedder_for(spec, Settings())


def test_the_query_cache_embeds_a_repeated_query_once() -> None:
    with OpenAIStub() as stub:
        cache = QueryCache(OpenAIEmbedder("m", 8, stub.base_url, "k"), size=2)
        first = cache.embed_one("hello")
        assert np.array_equal(cache.embed_one("hello"), first) and stub.texts == 1
        cache.embed_one("a")
        cache.embed_one("b")
        cache.embed_one("hello")
        assert stub.texts == 4
