"""A user's record: create, update (SPEC §2–§4), look up, search, the lifecycle (approve, reject,
lock, unlock, delete) with its guard rails (§8), the history of changes and the audit export."""
