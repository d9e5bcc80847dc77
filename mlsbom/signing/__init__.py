"""Signature verification: OpenSSF model signing (`model.sig`) and detached Sigstore bundles.

Offline by default: keyless signatures are checked against the production trust root that
sigstore-python ships (or `--trusted-root`); key and certificate-chain signatures against the
keys the user names. Results are data (facts), judged by the `signature-*` rules.
"""
