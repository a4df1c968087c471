"""Versioned reference data (administrative geography) and its stdlib-only loaders."""
