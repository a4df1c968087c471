"""Worker: archive."""
