"""The trust set: the root and intermediate certificates in ``CONGVAN_TRUST_DIR``.

Files are PEM (one or several certificates) or DER. A self-signed certificate is a root (a trust
anchor); any other is an intermediate, offered to path building but trusted only through a root.
The set's fingerprint (SHA-256 over the sorted certificate fingerprints) is stored with every
verification result, so a result says which trust set it was checked against; a change of the
directory is noticed by its files' names, sizes and times, and the set read again.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

SUFFIXES = {".pem", ".crt", ".cer", ".der"}


@dataclass(frozen=True)
class TrustedCertificate:
    certificate: asn1_x509.Certificate
    path: Path

    @property
    def is_root(self) -> bool:
        return self.certificate.self_signed in ("maybe", "yes") and self.certificate.subject == self.certificate.issuer

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.certificate.dump()).hexdigest()

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly

    @property
    def not_before(self) -> datetime:
        return self.certificate["tbs_certificate"]["validity"]["not_before"].native

    @property
    def not_after(self) -> datetime:
        return self.certificate["tbs_certificate"]["validity"]["not_after"].native


@dataclass(frozen=True)
class TrustSet:
    certificates: tuple[TrustedCertificate, ...]
    problems: tuple[str, ...]  # files that could not be read, said in ``congvan trust list``

    @property
    def roots(self) -> list[asn1_x509.Certificate]:
        return [c.certificate for c in self.certificates if c.is_root]

    @property
    def intermediates(self) -> list[asn1_x509.Certificate]:
        return [c.certificate for c in self.certificates if not c.is_root]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256("".join(sorted(c.fingerprint for c in self.certificates)).encode()).hexdigest()


class InvalidCertificate(ValueError):
    pass


def read_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """The certificates in a PEM or DER file's bytes; InvalidCertificate when there are none."""
    try:
        if pem.detect(data):
            found = [asn1_x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                     if kind == "CERTIFICATE"]
        else:
            found = [asn1_x509.Certificate.load(data)]
        for certificate in found:
            certificate.native  # parse it all now: a broken one fails here, not during a verification
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCertificate(f"not a certificate: {exc}") from None
    if not found:
        raise InvalidCertificate("no CERTIFICATE block in the file")
    return found


def load_trust_set(directory: Path) -> TrustSet:
    certificates: dict[str, TrustedCertificate] = {}
    problems: list[str] = []
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        try:
            for certificate in read_certificates(path.read_bytes()):
                trusted = TrustedCertificate(certificate, path)
                certificates.setdefault(trusted.fingerprint, trusted)
        except (InvalidCertificate, OSError) as exc:
            problems.append(f"{path.name}: {exc}")
    return TrustSet(tuple(certificates.values()), tuple(problems))


class TrustStore:
    """The trust set of a directory, read again when the directory's files change."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._set = TrustSet((), ())

    def _current_stamp(self) -> tuple:
        if not self.directory.is_dir():
            return ()
        return tuple(sorted((p.name, s.st_size, s.st_mtime_ns) for p in self.directory.iterdir()
                            if p.is_file() for s in [p.stat()]))

    def current(self) -> TrustSet:
        stamp = self._current_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._set = load_trust_set(self.directory)
                self._stamp = stamp
            return self._set

    def add(self, data: bytes) -> list[TrustedCertificate]:
        """Store the certificates in ``data`` (PEM or DER), one PEM file each, named by fingerprint."""
        added = []
        self.directory.mkdir(parents=True, exist_ok=True)
        for certificate in read_certificates(data):
            trusted = TrustedCertificate(certificate, self.directory / f"{hashlib.sha256(certificate.dump()).hexdigest()[:16]}.pem")
            trusted.path.write_bytes(pem.armor("CERTIFICATE", certificate.dump()))
            added.append(trusted)
        return added
