"""monitor: self-hosted news monitoring with incident alerts.

Pipeline: fetch -> extract -> classify -> dedup (stories) -> alert.
See monitor/pipeline.py for the one orchestrator that wires the stages.
"""

__version__ = "0.1.0"

import sys

# httpx imports its command-line client (and with it click, rich and pygments: ~5 MB held
# for the life of every monitor process) whenever they are installed; it falls back to a
# stub when that import fails. No monitor process runs httpx's CLI.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
