"""What goes through a person's mailbox: the mailer, single-use emailed tokens, sign-up and its
confirmation, the password reset, and confirming a changed email address (SPEC §11)."""
