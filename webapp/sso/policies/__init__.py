"""Account policies (issue 27, SPEC §19): lock accounts without a sign-in for N days, delete sign-ups never
confirmed after N days, warn N days before either. `settings.py` holds what a super-user (policies.manage)
switched on, audited old → new; `run.py` is the dry run and the run (`flask --app webapp sso run-policies`, or
the Policies page's button), which also carries out the deletions people scheduled (SPEC §20). It acts on other
contexts' rows (accounts' lock and delete, email's outbox, privacy's due deletions), so it comes last."""
