"""Signing in and the sessions it opens: login (with the two-factor step), logout, renew, verify,
list and end sessions, and what a login records of the device."""
