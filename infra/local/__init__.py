"""The local stack: AWS emulated on one machine, plus seed data."""
