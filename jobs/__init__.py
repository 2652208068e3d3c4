"""Redline's review engine: settings, store, event log, SAQ queues, tasks and reviewers."""
