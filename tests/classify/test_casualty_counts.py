"""Counts an analyst reads at a glance that the patterns missed or overstated (h-bgfix)."""

from __future__ import annotations

import pytest

from monitor.classify.casualties import extract_casualties


@pytest.mark.parametrize(
    ("text", "killed", "wounded"),
    [
        ("A civilian contractor has died of his wounds after the barrage.", 1, None),
        ("An Iraqi soldier died on Tuesday when his patrol was ambushed.", 1, None),
        ("A policeman was killed and two civilians were wounded in the blast.", 1, 2),
        ("A young girl was hurt by flying glass, medics said.", None, 1),
        ("A driver was shot dead near the checkpoint.", 1, None),
        # a lone "a" that is no victim: a speaker, a denial, a soldier who did the killing
        ("A man said the explosion shook his windows.", None, None),
        ("Not a single soldier was killed in the exchange.", None, None),
        ("A soldier killed two militants in the exchange.", 2, None),
    ],
)
def test_a_lone_victim_counts_one(text: str, killed: int | None, wounded: int | None) -> None:
    found = extract_casualties(text)
    assert (found.killed, found.wounded) == (killed, wounded)
