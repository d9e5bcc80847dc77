"""Sigstore bundles and OpenSSF model.sig files: recognised here, verified after the walk.

Verification needs the digests of the files a signature covers, so it runs in the signature pass
(`mlsbom.signing.scan_pass`) once every file has been hashed.
"""

from __future__ import annotations

from mlsbom.analyzers.base import Analysis, Hint, Job
from mlsbom.models import Format

_MEDIA_TYPE = b"application/vnd.dev.sigstore.bundle"


class SignatureFileAnalyzer:
    formats: tuple[Format, ...] = (Format.SIGSTORE_BUNDLE,)

    def sniff(self, head: bytes, hint: Hint) -> Format | None:
        body = head.lstrip(b" \t\r\n\xef\xbb\xbf")
        if body[:1] == b"{" and b'"mediaType"' in head and _MEDIA_TYPE in head:
            return Format.SIGSTORE_BUNDLE
        return None

    def analyze(self, job: Job) -> Analysis:
        return Analysis()
