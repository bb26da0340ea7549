"""The UST codec (webapp/sso/kernel/tokens.py): a UST opened once is not decrypted again (issue 30), and the
answers stay those of decrypting it every time."""

from __future__ import annotations

from cryptography.fernet import Fernet

from webapp.sso.kernel import tokens
from webapp.sso.kernel.tokens import TokenCodec, session_hash


def test_a_ust_is_decrypted_once_and_answers_as_before(monkeypatch):
    codec = TokenCodec([Fernet.generate_key().decode()])
    ust, digest = codec.new()
    decrypted = []
    decrypt = codec._fernet.decrypt

    def counted(token, *args):
        decrypted.append(token)
        return decrypt(token, *args)

    monkeypatch.setattr(codec._fernet, "decrypt", counted)
    assert [codec.session_hash_of(ust) for _ in range(3)] == [digest] * 3
    assert len(decrypted) == 1
    assert ust.encode() not in codec._opened and all(len(key) == 32 for key in codec._opened)  # no token kept
    # what does not open is never kept, and still answers None
    other = TokenCodec([Fernet.generate_key().decode()]).new()[0]
    for bad in (other, other, ust[:-2] + "AA", "zß", "", None, 7, "x" * 5000):
        assert codec.session_hash_of(bad) is None
    assert len(codec._opened) == 1
    # a codec without the key does not open a UST another codec has opened
    assert TokenCodec([Fernet.generate_key().decode()]).session_hash_of(ust) is None


def test_the_kept_hashes_are_bounded(monkeypatch):
    monkeypatch.setattr(tokens, "OPENED_KEPT", 3)
    codec = TokenCodec([Fernet.generate_key().decode()])
    pairs = [codec.new() for _ in range(7)]
    for ust, digest in pairs:
        assert codec.session_hash_of(ust) == digest
        assert len(codec._opened) <= 3
    session_id = "a-known-session-id"
    assert codec.session_hash_of(codec.wrap(session_id)) == session_hash(session_id)
