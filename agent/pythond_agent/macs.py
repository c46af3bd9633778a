"""HMAC-SHA256 (RFC 2104) for the proof of the daemon's per-session secret, on the interpreter's
built-in SHA-256. hashlib and hmac would load OpenSSL's libcrypto into every session: ~3.7 MiB of
an idle session's RSS here (docs/PERFORMANCE.md, "Idle session RSS")."""
try:
    from _operator import _compare_digest as compare_digest  # what hmac.compare_digest falls back to
except ImportError:
    from hmac import compare_digest  # constant time either way

try:
    from _sha256 import sha256 as _sha256  # CPython 3.9-3.11
except ImportError:
    try:
        from _sha2 import sha256 as _sha256  # CPython 3.12+
    except ImportError:  # a build without them: OpenSSL's after all
        from hashlib import sha256 as _sha256

_BLOCK = 64
_INNER = bytes(b ^ 0x36 for b in range(256))
_OUTER = bytes(b ^ 0x5C for b in range(256))


def hmac_sha256_hex(key, message):
    """hmac.new(key, message, hashlib.sha256).hexdigest(), for bytes key and message."""
    if len(key) > _BLOCK:
        key = _sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = _sha256(key.translate(_INNER))
    inner.update(message)
    return _sha256(key.translate(_OUTER) + inner.digest()).hexdigest()
