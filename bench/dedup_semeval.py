"""SemEval-2022 task 8 pairs: precision and recall of "same story" through `monitor replay`."""

from __future__ import annotations

from bench import _dedup
from bench._report import update_section

COMMAND = ".venv/bin/python -m bench.dedup_semeval"


def main() -> None:
    if not _dedup.SEMEVAL.exists():
        print(f"skipped: {_dedup.SEMEVAL} not present")
        return
    lines, pairs = _dedup.semeval_inputs()
    out, driver = _dedup.run(lines)
    tp = fp = fn = tn = 0
    for a, b, overall in pairs:
        if 1.5 < overall < 2.5:
            continue  # in between: not scored, as the data README says
        same = out[a]["story_id"] == out[b]["story_id"]
        positive = overall <= 1.5
        tp, fp = tp + (positive and same), fp + (not positive and same)
        fn, tn = fn + (positive and not same), tn + (not positive and not same)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    md = (
        "## dedup-semeval: same story or not (SemEval-2022 task 8, English train pairs)\n\n"
        f"Run through {driver}; {len(pairs)} pairs, {tp + fn} positive (overall ≤ 1.5), "
        f"{fp + tn} negative (overall ≥ 2.5), the rest not scored.\n\n"
        "| precision | recall | TP | FP | FN | TN |\n|---|---|---|---|---|---|\n"
        f"| {precision:.3f} | {recall:.3f} | {tp} | {fp} | {fn} | {tn} |\n\n"
        "Target: precision ≥ 0.95 with recall ≥ 0.85."
    )
    update_section("dedup-semeval", md, command=COMMAND)


if __name__ == "__main__":
    main()
