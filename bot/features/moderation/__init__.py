"""Moderation: automatic rules, warnings, the audit log and undo."""
