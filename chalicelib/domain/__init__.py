"""Business rules: plain Python, no chalice, no boto3 — testable without a network."""
