"""A self-made certificate authority and signed PDFs for the signature tests (pyHanko signs them,
as a Vietnamese agency's signing tool would: PAdES, adbe.pkcs7.detached)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.services.demo_exchange import _pdf as one_page_pdf

__all__ = ["Authority", "encrypted_pdf", "one_page_pdf", "pem", "sign_pdf"]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Thử nghiệm congvan"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.certificate.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        return asn1_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def _issue(common_name: str, issuer: Issued | None, *, ca: bool) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateBuilder().subject_name(_name(common_name))
        .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=not ca, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                     encipher_only=False, decipher_only=False), critical=True)
    )
    return Issued(builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


class Authority:
    """A root, an intermediate under it, and leaves under that."""

    def __init__(self, name: str = "Root CA thử nghiệm") -> None:
        self.root = _issue(name, None, ca=True)
        self.intermediate = _issue(f"{name} – trung gian", self.root, ca=True)

    def leaf(self, common_name: str) -> Issued:
        return _issue(common_name, self.intermediate, ca=False)


def pem(issued: Issued) -> bytes:
    return issued.certificate.public_bytes(serialization.Encoding.PEM)


def sign_pdf(pdf: bytes, signer: Issued, authority: Authority, *, embed_intermediate: bool = True,
             field: str = "Signature1") -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    chain = [authority.intermediate.asn1] if embed_intermediate else []
    simple = signers.SimpleSigner(signing_cert=signer.asn1, signing_key=signer.asn1_key,
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), signers.PdfSignatureMetadata(field_name=field),
                           signer=simple)
    return out.getvalue()


def encrypted_pdf(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf)))
    writer.encrypt("mat-khau-chu", "mat-khau")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@contextmanager
def trusted_authority(trust_dir: Path, name: str) -> Iterator[Authority]:
    """A test CA whose root is in the server's trust directory while the block runs."""
    from app.signatures.trust import TrustStore

    authority = Authority(name)
    added = TrustStore(trust_dir).add(pem(authority.root))
    try:
        yield authority
    finally:
        for certificate in added:
            certificate.path.unlink(missing_ok=True)
