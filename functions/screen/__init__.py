"""Worker: screens each newly received response (quality and fraud signals)."""
