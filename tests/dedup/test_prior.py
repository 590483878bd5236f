"""The general-English prior: the compact table must give wordfreq's own frequencies."""

from __future__ import annotations

import wordfreq

from monitor.dedup.prior import word_frequency


def test_the_compact_table_gives_every_word_wordfreqs_frequency() -> None:
    expected = wordfreq.get_frequency_dict("en", wordlist="best")
    assert all(word_frequency(w) == f for w, f in expected.items())
    # "kp" and "火" (U+706B, code units 6B 70) once shared a hash, and so a frequency.
    assert word_frequency("kp") == expected["kp"] != expected["火"] == word_frequency("火")
    assert word_frequency("qzxvbnmqzx") == 0.0
