"""Classify stage: normalisation, alias/keyword matching, incident types, casualties, rules."""
