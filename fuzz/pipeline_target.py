"""Coverage-guided fuzz target (atheris) over fuzz/pipeline_harness.py: feed bytes and page
HTML -> parse -> extract -> classify -> store, in one process.

    make fuzz                  # 60 s; FUZZ_SECONDS=600 make fuzz for longer
    .venv/bin/python fuzz/pipeline_target.py -max_total_time=60 -timeout=20 \
        -rss_limit_mb=2048 .fuzz/corpus fuzz/seeds

Only the code on that path is instrumented (monitor, feedparser, trafilatura and the
extraction helpers it calls), which keeps start-up to seconds.
"""

from __future__ import annotations

import sys

import atheris

INSTRUMENTED = ["monitor", "feedparser", "trafilatura", "justext", "htmldate", "courlan",
                "lxml_html_clean", "rapidfuzz", "ahocorasick"]  # fmt: skip

with atheris.instrument_imports(include=INSTRUMENTED):
    from pipeline_harness import run_one


def main() -> None:
    run_one(b"")  # build the harness (config, watchlists, database) before fuzzing starts
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
