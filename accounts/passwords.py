"""Passwords: hashing (Argon2id), temporary passwords handed to a person once, and the rules a chosen
password keeps.

A temporary password (new account, reset, roster import) is made here from 12 random characters of
an alphabet without look-alikes (≈ 59 bits), so it needs none of the cost that protects a password a
person chose: it is hashed with a cheaper Argon2id (t=1, 4 MiB, ≈ 3 ms here instead of ≈ 250 ms), which
lets a roster of 5,000 people be imported in one request. Guessing 2^58 of them at 3 µs each would still
take tens of thousands of years. It works for one login only, which can do nothing but choose a new one."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import FieldError

_hasher = PasswordHasher()
_temporary_hasher = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1)
# Verified when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("anxun-timing-equaliser")

# No 0/o, 1/l/i: read aloud or copied from paper without mistakes.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_LENGTH = 12
MIN_LENGTH = 8
MAX_LENGTH = 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches (the hash records its own parameters); None checks a dummy hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def temporary_password() -> tuple[str, str]:
    """A new temporary password and its hash."""
    password = "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))
    return password, _temporary_hasher.hash(password)


def weak_password(password: str, *, username: str, phone: str | None, field: str = "new_password") -> FieldError | None:
    """Why a chosen password is refused, or None: at least 8 characters of at least two kinds (letters,
    digits, others) and not the username or phone number."""
    kinds = sum(
        (any(c.isalpha() for c in password), any(c.isdigit() for c in password), any(not c.isalnum() for c in password))
    )
    if len(password) < MIN_LENGTH or len(password) > MAX_LENGTH:
        return FieldError("auth.weak_password", field, f"密码长度应为 {MIN_LENGTH}–{MAX_LENGTH} 个字符")
    if kinds < 2:
        return FieldError("auth.weak_password", field, "密码须包含字母、数字、符号中的至少两类")
    lowered = password.lower()
    if username.lower() in lowered or (phone and phone in password):
        return FieldError("auth.weak_password", field, "密码不能包含用户名或手机号")
    return None
