"""Classifying in another process, ahead of an article's turn on the processing thread.

Classification is pure (title, text, publication time and the watchlists in, a
Classification out; no database, no clock), so a worker process can make it while the one
processing thread groups and stores earlier articles. The classifier travels pickled
(~0.9 MB with the shipped watchlists), made once per watchlist version; a worker unpickles
it only when the version differs from the one it holds. A classification made ahead
answers only for the classifier, title, text and time it was made with: after a watchlist
reload, or when the time it was dated by is not the one processing uses, the article is
classified again where it is processed.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from monitor.classify.classifier import Classifier
from monitor.types import Classification


@dataclass(frozen=True, slots=True)
class Portable:
    """A classifier as a worker process receives it."""

    version: str  # a digest of ``pickled``: equal pickles are one version
    pickled: bytes


@lru_cache(maxsize=1)  # the classifier in force; a reload makes a new one
def portable(classifier: Classifier) -> Portable:
    pickled = pickle.dumps(classifier, protocol=pickle.HIGHEST_PROTOCOL)
    return Portable(hashlib.blake2b(pickled, digest_size=16).hexdigest(), pickled)


# In a worker process: the last classifier it unpickled, by version. The lock matters only
# when the "process" pool is a thread pool (tests).
_held: dict[str, Classifier] = {}
_lock = threading.Lock()


def classify_in_worker(
    classifier: Portable, *, title: str, text: str, published: datetime
) -> Classification:
    """What ``Classifier.classify`` gives, computed where this runs (a worker process)."""
    with _lock:
        held = _held.get(classifier.version)
        if held is None:
            held = pickle.loads(classifier.pickled)  # our own bytes
            _held.clear()
            _held[classifier.version] = held
    return held.classify(title=title, text=text, published=published)


@dataclass(frozen=True, slots=True)
class Classified:
    """A classification made ahead, and what it was made from."""

    classifier: Classifier  # this process's object, compared by identity
    title: str
    text: str
    published: datetime
    classification: Classification

    def answers(
        self, classifier: Classifier, *, title: str, text: str, published: datetime
    ) -> bool:
        """Whether ``classifier.classify(title=, text=, published=)`` would give it."""
        return (
            self.classifier is classifier
            and self.published == published
            and self.published.utcoffset() == published.utcoffset()  # the same local day
            and self.title == title
            and self.text == text
        )
