"""Redline reviewers: the checklist, the offline rule-based reviewer and the offline chat."""
