"""Event-driven workers (Lambda handlers) fed by the responses stream, EventBridge schedules and events."""
