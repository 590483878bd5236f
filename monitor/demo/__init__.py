"""The offline demo: sample feed and pages in our own words, served in-process."""
