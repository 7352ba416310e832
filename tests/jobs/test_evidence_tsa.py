"""The manifest's RFC 3161 timestamp (TSA_URL), against a local authority built with `openssl ts`."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from server.models import EvidencePackage, Job, User
from server.services import evidence as evidence_service
from server.services import sessions
from server.settings import override_settings
from tests.factories import make_org
from tests.jobs.test_evidence_job import rewrite

CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Qingkuan Test TSA
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
[ tsa_config ]
dir = .
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@pytest.fixture
def authority() -> Iterator[tuple[str, Path]]:
    """A time-stamping authority on 127.0.0.1: a self-signed TSA certificate, `openssl ts -reply` per request."""
    with tempfile.TemporaryDirectory(prefix="qk-tsa-") as folder:
        root = Path(folder)
        (root / "tsa.cnf").write_text(CONFIG)
        (root / "serial").write_text("01\n")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out",
                        "tsa.pem", "-days", "2", "-config", "tsa.cnf", "-extensions", "v3_tsa"],
                       cwd=root, check=True, capture_output=True)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_response(415)
                    self.end_headers()
                    return
                with lock, tempfile.TemporaryDirectory(dir=root) as work:
                    query, reply = Path(work) / "q.tsq", Path(work) / "r.tsr"
                    query.write_bytes(body)
                    subprocess.run(["openssl", "ts", "-reply", "-queryfile", str(query), "-inkey", "tsa.key",
                                    "-signer", "tsa.pem", "-config", "tsa.cnf", "-section", "tsa_config",
                                    "-out", str(reply)], cwd=root, check=True, capture_output=True)
                    answer = reply.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/tsa", root / "tsa.pem"
        finally:
            server.shutdown()
            server.server_close()


def _openssl_verify(manifest: bytes, token: bytes, certificate: Path) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "manifest.json").write_bytes(manifest)
        (Path(folder) / "manifest.tsr").write_bytes(token)
        return subprocess.run(["openssl", "ts", "-verify", "-data", "manifest.json", "-in", "manifest.tsr",
                               "-CAfile", str(certificate)], cwd=folder, capture_output=True, text=True)


async def test_manifest_is_timestamped_and_the_token_verifies(db, job_settings, run_burst, authority):
    url, certificate = authority
    override_settings(dataclasses.replace(job_settings, tsa_url=url, tsa_ca_file=certificate))
    try:
        people = await make_org()
        finance = sessions.viewer_for(await User.get(username="finance"))
        package = await evidence_service.request_package(finance, people.sales)
        await run_burst()
        job = await Job.get(id=package.job_id)
        assert job.state == "DONE", job.error
        assert (await EvidencePackage.get(id=package.id)).timestamped
        data = evidence_service.package_path(package.id).read_bytes()
        archive = zipfile.ZipFile(io.BytesIO(data))
        manifest, token = archive.read("manifest.json"), archive.read("manifest.tsr")

        # openssl itself accepts the token for the manifest, as a court's expert would check it.
        check = _openssl_verify(manifest, token, certificate)
        assert "Verification: OK" in check.stdout, check.stdout + check.stderr

        verdict = evidence_service.verify_package(data)
        assert verdict.ok, [str(p.message) for p in verdict.problems]
        assert verdict.timestamp is not None

        # A manifest edited after it was stamped (here: another creator) no longer matches its token.
        edited = json.loads(manifest)
        edited["createdBy"]["username"] = "someone-else"
        forged = rewrite(data, {"manifest.json": json.dumps(edited, ensure_ascii=False).encode()})
        assert evidence_service.verify_package(forged).codes == ["TIMESTAMP_INVALID"]

        # Without the authority's certificate the imprint is still checked, and the verdict says what was not.
        override_settings(dataclasses.replace(job_settings, tsa_url=url, tsa_ca_file=None))
        unsure = evidence_service.verify_package(data)
        assert unsure.ok and any("TSA_CA_FILE" in str(n) for n in unsure.notes)
        assert evidence_service.verify_package(forged).codes == ["TIMESTAMP_INVALID"]
    finally:
        override_settings(job_settings)


async def test_an_unreachable_authority_fails_the_job(db, job_settings, run_burst):
    override_settings(dataclasses.replace(job_settings, tsa_url="http://127.0.0.1:9/tsa"))
    try:
        people = await make_org()
        finance = sessions.viewer_for(await User.get(username="finance"))
        package = await evidence_service.request_package(finance, people.sales)
        await run_burst()
        job = await Job.get(id=package.job_id)
        assert job.state == "FAILED" and "ConnectError" in (job.error or "")
        assert not evidence_service.package_path(package.id).exists()
        assert (await EvidencePackage.get(id=package.id)).sha256 is None
    finally:
        override_settings(job_settings)
