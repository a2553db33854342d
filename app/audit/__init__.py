"""The audit trail: the append-only `event` table read and exported for a period, and the guard that keeps
the application from ever changing or removing a row of it."""
