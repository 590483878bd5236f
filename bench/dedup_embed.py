"""The semantic check's cost: embedding one article with the installed sentence model.

Every English SemEval article, embedded as dedup embeds it (title + cleaned body, first
MAX_TOKENS tokens), one at a time, with one intra-op thread and with the default (the usable
CPUs, at most 4). Wall time per article: median and mean of the fastest 95 % (the rest are
other processes taking the core). Then the CPU time of one thread per article when the
model reads the first MAX_TOKENS tokens and when it reads the 256 it was trained on, rounds
interleaved, and how close the two embeddings of each article are.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import _dedup
from bench._report import update_section
from monitor.dedup import meaning
from monitor.dedup.features import features_of
from monitor.types import Article, Classification

COMMAND = ".venv/bin/python -m bench.dedup_embed"


class _Texts:
    """An encoder that keeps what it is given: the texts dedup would embed."""

    dimensions = 384

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode(self, text: str) -> tuple[float, ...]:
        self.texts.append(text)
        return (0.0,) * self.dimensions


def texts() -> list[str]:
    lines, _ = _dedup.semeval_inputs()
    keep, now = _Texts(), datetime(2024, 1, 1, tzinfo=UTC)
    for n, line in enumerate(lines):
        article = Article(
            key=str(n), url=None, title=line["title"], text=line["text"], published=now
        )
        features_of(article, Classification(), now, encoder=keep)
    return keep.texts


def timings(encoder: meaning.OnnxEncoder, items: list[str]) -> list[float]:
    encoder.encode(items[0])  # the first run allocates
    out = []
    for text in items:
        start = time.perf_counter()
        encoder.encode(text)
        out.append(time.perf_counter() - start)
    return out


TRAINED_TOKENS = 256  # all-MiniLM-L6-v2's own limit


def cut_costs(
    model: Path, items: list[str], rounds: int = 2
) -> tuple[dict[int, float], list[float]]:
    """CPU ms per article on one thread at each cut (least of ``rounds`` interleaved), and
    each article's cosine between its embeddings at MAX_TOKENS and at the trained limit."""
    encoder = meaning.OnnxEncoder(model, threads=1)
    cuts = sorted({meaning.MAX_TOKENS, TRAINED_TOKENS})
    cpu: dict[int, float] = {}
    vectors: dict[int, list[tuple[float, ...]]] = {}
    for _ in range(rounds):
        for cut in cuts:
            encoder.tokenizer.enable_truncation(cut)
            encoder.encode(items[0])
            start = time.process_time()
            vectors[cut] = [encoder.encode(t) for t in items]
            spent = 1000 * (time.process_time() - start) / len(items)
            cpu[cut] = min(cpu.get(cut, spent), spent)
    pairs = zip(vectors[meaning.MAX_TOKENS], vectors[TRAINED_TOKENS], strict=True)
    return cpu, [sum(x * y for x, y in zip(a, b, strict=True)) for a, b in pairs]


def batch_time(encoder: meaning.OnnxEncoder, items: list[str]) -> float:
    """Seconds per article when all are submitted at once to the worker threads (as a
    poll's articles are), one worker per usable CPU."""
    workers = meaning.EncoderWorkers(encoder)
    try:
        workers.submit(items[0]).result()  # the first run allocates
        start = time.perf_counter()
        for pending in [workers.submit(t) for t in items]:
            pending.result()
        return (time.perf_counter() - start) / len(items)
    finally:
        workers.close()


def main() -> None:
    model = meaning.installed_model()
    if model is None or not _dedup.SEMEVAL.exists():
        print("skipped: the model or the SemEval pairs are not installed")
        return
    items, load = texts(), os.getloadavg()[0]
    tokens = [len(meaning.load_encoder().tokenizer.encode(t).ids) for t in items]
    rows = []
    for threads in sorted({1, meaning.default_threads()}):
        spent = sorted(timings(meaning.OnnxEncoder(model, threads=threads), items))
        fastest = spent[: int(len(spent) * 0.95)]
        rows.append(
            f"| {threads} | {1000 * statistics.median(spent):.1f} ms "
            f"| {1000 * statistics.mean(fastest):.1f} ms |"
        )
    default = meaning.default_threads()
    together = batch_time(meaning.OnnxEncoder(model, threads=default), items)
    cpu, agree = cut_costs(model, items)
    md = (
        "## dedup-embed: the semantic check's time per article\n\n"
        f"{len(items)} English SemEval articles embedded one at a time by the installed "
        f"model (int8 ONNX, ONNX Runtime), mean {statistics.mean(tokens):.0f} tokens "
        f"({sum(t == meaning.MAX_TOKENS for t in tokens) / len(tokens):.0%} cut at "
        f"{meaning.MAX_TOKENS}). The NumPy forward pass it replaced took 65–83 ms per "
        "article in dedup-scale (2026-11-21).\n\n"
        "| intra-op threads | median | mean of fastest 95 % |\n|---|---|---|\n"
        + "\n".join(rows)
        + f"\n\nAll {len(items)} submitted at once to the {default} embedding worker threads "
        f"(as the pipeline does with a poll's articles; {default} intra-op threads each): "
        f"**{1000 * together:.1f} ms per article** (target ≤ 15).\n\n"
        "CPU time per article on one thread (process time, least of 2 interleaved rounds) "
        "by what the model reads: "
        + "; ".join(f"first {cut} tokens {ms:.1f} ms" for cut, ms in sorted(cpu.items()))
        + f". Cosine between an article's embeddings at {meaning.MAX_TOKENS} and at "
        f"{TRAINED_TOKENS} tokens: mean {statistics.mean(agree):.3f}, least {min(agree):.3f} "
        "(1 for the articles that fit in both)."
        + f"\n\nLoad average when the run started: {load:.1f} on {os.cpu_count()} CPUs "
        "(other processes share this machine)."
    )
    update_section("dedup-embed", md, command=COMMAND)


if __name__ == "__main__":
    main()
