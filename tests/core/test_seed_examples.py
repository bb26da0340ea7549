def test_the_seed_examples_run_verbatim_with_a_real_ust(sso, admin, alice):
    from datetime import datetime, timedelta

    _, admin_ust = admin
    user, alice_ust = alice
    sso.user.update_current_user(
        "cid", {"display_name": "New Display Name", "email": "myuser@example.com"}, alice_ust, "CRM", "127.0.0.1"
    )
    sso.user.update_user_by_id(
        "cid",
        user["user_id"],
        {
            "display_name": "My Display Name",
            "is_locked": False,
            "password_expiry": datetime.utcnow() + timedelta(days=90),
        },
        admin_ust,
        "CRM",
        "127.0.0.1",
    )
    shown = sso.user.get_user_by_id("cid", user["user_id"], admin_ust, "CRM", "127.0.0.1")
    assert shown["display_name"] == "My Display Name"
    assert shown["email"] == "myuser@example.com"
    assert shown["version"] == 3
