"""Worker: removes personal data of responses older than their survey's retention period."""
