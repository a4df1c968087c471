"""Infrastructure: deployment templates and the local stack."""
