"""Time limits: working days by the Chinese holiday calendar, and the due dates of tasks."""
