"""Seed data for the local stack and tests: survey definitions and generated submissions."""
