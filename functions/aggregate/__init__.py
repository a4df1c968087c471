"""Worker: aggregate."""
