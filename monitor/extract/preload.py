"""Imported by the extraction pool's fork server (`monitor.extract.pool`), never by the app.

Loads once, before the workers are forked from the server, what trafilatura and htmldate
otherwise load on first use in every worker: justext's stop words of all its languages, and
dateparser's parser and month names (htmldate's fallback for a page whose markup gives no
date). 0.25 CPU s here, against 0.1-0.35 s in each worker that meets such a page (the
e2e-poll bench's pages, measured one process at a time).
"""

from __future__ import annotations


def warm_caches() -> None:
    try:
        from htmldate.extractors import get_external_parser, month_words
        from trafilatura.external import jt_stoplist_init

        jt_stoplist_init()
        month_words()
        get_external_parser().get_date_data("7 December 2026")
    except Exception:  # these are the libraries' internals: a cold cache costs time, not results
        return


warm_caches()
