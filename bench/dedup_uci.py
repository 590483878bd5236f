"""UCI News Aggregator headline stream: pairwise and B-cubed scores, stories made."""

from __future__ import annotations

from bench import _dedup
from bench._report import TINY, update_section

COMMAND = ".venv/bin/python -m bench.dedup_uci"


def main() -> None:
    if not _dedup.UCI.exists():
        print(f"skipped: {_dedup.UCI} not present")
        return
    lines, gold = _dedup.uci_inputs()
    out, driver = _dedup.run(lines)
    made = {i: out[i]["story_id"] for i in gold}
    pw, b3 = _dedup.pairwise(gold, made), _dedup.bcubed(gold, made)
    md = (
        "## dedup-uci: headline stream clustering (UCI News Aggregator, 2014-03-10)\n\n"
        f"Run through {driver}; {len(gold)} headlines, {len(set(gold.values()))} gold stories, "
        f"**{len(set(made.values()))} stories made**.\n\n"
        "| measure | precision | recall | F1 |\n|---|---|---|---|\n"
        f"| pairwise | {pw[0]:.3f} | {pw[1]:.3f} | {pw[2]:.3f} |\n"
        f"| B-cubed | {b3[0]:.3f} | {b3[1]:.3f} | {b3[2]:.3f} |"
    )
    if driver == "`monitor replay`" and not TINY:  # the ablation: full runs only
        plain = _dedup.run_replay(lines, words_only=True)
        made = {i: plain[i]["story_id"] for i in gold}
        pw, b3 = _dedup.pairwise(gold, made), _dedup.bcubed(gold, made)
        md += (
            f"\n\nWords only (`semantic.enabled: false`): {len(set(made.values()))} stories, "
            f"pairwise P {pw[0]:.3f} / R {pw[1]:.3f} / F1 {pw[2]:.3f}, "
            f"B-cubed P {b3[0]:.3f} / R {b3[1]:.3f} / F1 {b3[2]:.3f}."
        )
    update_section("dedup-uci", md, command=COMMAND)


if __name__ == "__main__":
    main()
