"""monitor: self-hosted news monitoring with incident alerts.

Pipeline: fetch -> extract -> classify -> dedup (stories) -> alert.
See monitor/pipeline.py for the one orchestrator that wires the stages.
"""

__version__ = "0.1.0"
