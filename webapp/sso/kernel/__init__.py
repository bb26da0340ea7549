"""What every context shares and no context owns: the service's `Context`, errors and events, the
audit record, the tables, the attribute table with its value rules (and the password's), how a user
row is presented, tokens and hashing, and the caller of a call (who they are, their rate limit, the
sessions a lock ended). It imports no other context."""
