"""Trusted timestamps (RFC 3161) of an evidence package's manifest, with rfc3161-client.

`timestamp()` asks the authority at TSA_URL for a token over the manifest's SHA-256 and returns the
whole TimeStampResp (DER), stored as manifest.tsr: `openssl ts -reply -in manifest.tsr -text` reads
it, `openssl ts -verify -data manifest.json -in manifest.tsr -CAfile tsa.pem` checks it.

`checker()` verifies a token: always that it covers the manifest's hash, and, with TSA_CA_FILE (the
authority's certificate chain, PEM), its signature and certificate chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from server.domain.messages import Message, _m
from server.settings import get_settings

TIMEOUT_S = 15.0
SHA256_OID = "2.16.840.1.101.3.4.2.1"


class TimestampFailed(RuntimeError):
    pass


async def timestamp(url: str, data: bytes) -> bytes:
    request = TimestampRequestBuilder(data=data, hash_algorithm=HashAlgorithm.SHA256, nonce=True,
                                      cert_req=True).build()
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        answer = await client.post(url, content=request.as_bytes(),
                                   headers={"Content-Type": "application/timestamp-query"})
    if answer.status_code != 200:
        raise TimestampFailed(f"time-stamping authority answered HTTP {answer.status_code}")
    try:
        response = decode_timestamp_response(answer.content)
    except ValueError as exc:
        raise TimestampFailed(f"not a timestamp response: {exc}") from None
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampFailed(f"time-stamping authority refused: status {response.status} {response.status_string}")
    info = response.tst_info
    if info.message_imprint.message != hashlib.sha256(data).digest() or info.nonce != request.nonce:
        raise TimestampFailed("the token does not cover the manifest (hash or nonce differs)")
    return answer.content


def _roots() -> list[x509.Certificate] | None:
    path = get_settings().tsa_ca_file
    if path is None or not path.exists():
        return None
    return list(x509.load_pem_x509_certificates(path.read_bytes()))


def checker() -> Callable[[bytes, bytes], tuple[Message | None, str | None, Message | None]]:
    roots = _roots()

    def check(manifest: bytes, token: bytes) -> tuple[Message | None, str | None, Message | None]:
        try:
            response = decode_timestamp_response(token)
        except ValueError:
            return _m("无法解析"), None, None
        info = response.tst_info
        when = info.gen_time.isoformat()
        if info.message_imprint.hash_algorithm.dotted_string != SHA256_OID or \
                info.message_imprint.message != hashlib.sha256(manifest).digest():
            return _m("令牌不是针对此 %(file)s 签发的", file="manifest.json"), when, None
        if roots is None:
            return None, when, _m("未配置时间戳机构证书（TSA_CA_FILE），只核对了令牌覆盖的哈希，未验证其签名")
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        try:
            builder.build().verify_message(response, manifest)
        except VerificationError as exc:
            return _m("签名或证书链无效（%(detail)s）", detail=str(exc)), when, None
        return None, when, None

    return check
