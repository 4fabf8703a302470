"""dh-ietf1024-sha256-aes128-cbc-pkcs7 as libsecret speaks it: RFC 2409's second Oakley group,
HKDF-SHA256 with no salt and no info to 16 bytes, AES-128-CBC with PKCS #7 padding."""
import os
import secrets

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"
# RFC 2409's second Oakley group, the prime of the dh-ietf1024 session algorithm.
PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)


def agree(client_public):
    """The session's AES key and the service's public key, for the client's public key."""
    private = secrets.randbelow(PRIME - 3) + 2
    shared = pow(int.from_bytes(bytes(client_public), "big"), private, PRIME).to_bytes(128, "big")
    key = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=None).derive(shared)
    return key, pow(2, private, PRIME).to_bytes(128, "big")


def decrypt(key, iv, value):
    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(iv))).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    plain = decryptor.update(bytes(value)) + decryptor.finalize()
    return unpadder.update(plain) + unpadder.finalize()


def encrypt(key, plain):
    """A new IV, and `plain` padded and encrypted with it."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv, encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()


def unpaddable(key):
    """An IV and ciphertext that decrypt, under `key`, to a block whose last byte is 0: never valid
    PKCS #7 padding. (Random bytes would decrypt to valid padding about once in 256, and be taken
    for a value: the algorithm has no MAC.)"""
    iv = os.urandom(16)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return iv, encryptor.update(os.urandom(15) + b"\x00") + encryptor.finalize()
