"""Extract stage: article text and metadata from the page (trafilatura), with fallbacks."""
