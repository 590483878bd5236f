"""Dedup stage: same item, near-copies, and online story assignment."""
