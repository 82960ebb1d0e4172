"""Model pack building and storage."""
