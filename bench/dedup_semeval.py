"""SemEval-2022 task 8 pairs: precision and recall of "same story" through `monitor replay`."""

from __future__ import annotations

from typing import Any

from bench import _dedup
from bench._report import TINY, update_section

COMMAND = ".venv/bin/python -m bench.dedup_semeval"


def count(
    out: dict[str, dict[str, Any]], pairs: list[tuple[str, str, float]]
) -> tuple[int, int, int, int]:
    """TP, FP, FN, TN of "same story" over the scored pairs."""
    tp = fp = fn = tn = 0
    for a, b, overall in pairs:
        if 1.5 < overall < 2.5:
            continue  # in between: not scored, as the data README says
        same = out[a]["story_id"] == out[b]["story_id"]
        positive = overall <= 1.5
        tp, fp = tp + (positive and same), fp + (not positive and same)
        fn, tn = fn + (positive and not same), tn + (not positive and not same)
    return tp, fp, fn, tn


def row(label: str, counts: tuple[int, int, int, int]) -> str:
    tp, fp, fn, tn = counts
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return f"| {label} | {precision:.3f} | {recall:.3f} | {tp} | {fp} | {fn} | {tn} |"


def main() -> None:
    if not _dedup.SEMEVAL.exists():
        print(f"skipped: {_dedup.SEMEVAL} not present")
        return
    lines, pairs = _dedup.semeval_inputs()
    out, driver = _dedup.run(lines)
    rows = [row("shipped (semantic check on)", count(out, pairs))]
    if driver == "`monitor replay`" and not TINY:  # the ablation: full runs only
        rows.append(
            row(
                "words only (`semantic.enabled: false`)",
                count(_dedup.run_replay(lines, words_only=True), pairs),
            )
        )
    tp, fp, fn, tn = count(out, pairs)
    md = (
        "## dedup-semeval: same story or not (SemEval-2022 task 8, English train pairs)\n\n"
        f"Run through {driver}; {len(pairs)} pairs, {tp + fn} positive (overall ≤ 1.5), "
        f"{fp + tn} negative (overall ≥ 2.5), the rest not scored.\n\n"
        "| configuration | precision | recall | TP | FP | FN | TN |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Target: precision ≥ 0.95 with recall ≥ 0.85."
    )
    update_section("dedup-semeval", md, command=COMMAND)


if __name__ == "__main__":
    main()
