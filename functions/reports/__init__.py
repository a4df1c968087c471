"""Worker: reports."""
