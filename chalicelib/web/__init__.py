"""Citizen-facing web pages: server-rendered HTML, a small stylesheet and a progressive-enhancement script."""
