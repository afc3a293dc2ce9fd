"""Points: XP, reputation, levels, check-ins and the ledger."""
