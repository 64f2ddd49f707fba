"""Hosted accounts: people who sign up on a node with a username and a password.

Each account is a self-certifying identity like any other (weft.core.identity); the node
holds its web-device key and a low-ranked rotation key, sealed with the node secret
(weft.vault), and offers the person the recovery key to keep.
"""

from weft.accounts.service import Account, Accounts, RegistrationMode, hash_token, new_token

__all__ = ["Account", "Accounts", "RegistrationMode", "hash_token", "new_token"]
