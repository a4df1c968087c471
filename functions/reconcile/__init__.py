"""Worker: reconcile."""
