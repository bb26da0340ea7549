"""Privacy (SPEC §20): download my data, delete my account with a grace period. It reads and acts across
every other context (the record, credentials, sessions, email, Zato attributes), so it comes last."""
