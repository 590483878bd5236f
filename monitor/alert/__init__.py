"""Alert stage: outbox, routing, Slack / webhook / console sinks, message rendering."""
