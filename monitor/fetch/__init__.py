"""Fetch stage: polite HTTP, feed parsing, URL canonicalisation, address safety."""
