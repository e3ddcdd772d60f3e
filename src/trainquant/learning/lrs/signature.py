"""Signed statements (Data 2.6): a JWS (RFC 7515, compact serialisation) attached with the signature
usage type, whose payload is the statement as it was signed.

The LRS refuses (400) a signature that is not a JWS, uses an algorithm other than RS256/384/512, or
whose payload is not the statement (compared as Data 2.3.1 compares statements). When the JWS header
carries the signer's certificate (``x5c``), the signature itself is verified against it; without one
there is no key to verify with, and the statement is stored with its signature for whoever holds it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from trainquant.learning.lrs.http import BadRequest
from trainquant.learning.xapi import StatementError, statement_key

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def _b64url(text: str, where: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest(f"{where}: the signature is not a JWS (a part is not base64url)", code="xapi-signature-malformed") from None


def check_signature(jws: bytes, statement: Mapping[str, Any], *, where: str) -> None:
    try:
        compact = jws.decode("ascii").strip()
    except UnicodeDecodeError:
        raise BadRequest(f"{where}: the signature is not a JWS compact serialisation", code="xapi-signature-malformed") from None
    pieces = compact.split(".")
    if len(pieces) != 3 or not all(pieces[:2]) or not pieces[2]:
        raise BadRequest(f"{where}: the signature is not a JWS compact serialisation (header.payload.signature)", code="xapi-signature-malformed")
    try:
        header = orjson.loads(_b64url(pieces[0], where))
        payload = orjson.loads(_b64url(pieces[1], where))
    except orjson.JSONDecodeError:
        raise BadRequest(f"{where}: the JWS header or payload is not JSON", code="xapi-signature-malformed") from None
    if not isinstance(header, dict) or header.get("alg") not in _HASHES:
        alg = header.get("alg") if isinstance(header, dict) else None
        raise BadRequest(f"{where}: the JWS algorithm is {alg!r}; xAPI signs with RS256, RS384 or RS512", code="xapi-signature-algorithm")
    unsigned = {key: value for key, value in statement.items() if key != "attachments"}
    try:
        same = isinstance(payload, dict) and statement_key(payload) == statement_key(unsigned)
    except StatementError:
        same = False
    if not same:
        raise BadRequest(f"{where}: the JWS payload is not this statement", code="xapi-signature-payload")
    if header.get("x5c"):
        _verify(header, pieces, where)


def _verify(header: Mapping[str, Any], pieces: list[str], where: str) -> None:
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        key = certificate.public_key()
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error):
        raise BadRequest(f"{where}: the JWS x5c certificate cannot be read", code="xapi-signature-certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadRequest(f"{where}: the JWS certificate's key is not RSA", code="xapi-signature-certificate")
    try:
        key.verify(_b64url(pieces[2], where), f"{pieces[0]}.{pieces[1]}".encode("ascii"), padding.PKCS1v15(), _HASHES[header["alg"]]())
    except InvalidSignature:
        raise BadRequest(f"{where}: the signature does not verify with the key of its x5c certificate", code="xapi-signature-invalid") from None
