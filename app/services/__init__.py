"""Use cases. Functions take ``session`` keyword-only, flush but never commit."""
