"""Supervision: where each case waits, who is late, and how each town is doing (SQL over query rows)."""
