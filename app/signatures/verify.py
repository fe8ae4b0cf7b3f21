"""Verifying the digital signatures of a PDF (PAdES / ``adbe.pkcs7.detached``) with pyHanko.

The reading is strict, and it is the one owner of what a signature's ``status`` means:

* ``invalid``: the signed bytes were changed (not intact), the cryptography does not hold, or the
  file was changed after it was signed: the *last* signature must cover the entire file, and an
  earlier one may only be followed by revisions that add signatures or fill forms. A library's
  summary flag may still say "fine" for a file with bytes appended after its signature; we do not.
* ``untrusted``: intact and covering, but no path from the signer to a root of the trust set.
* ``valid``: intact, covering, trusted.
* ``unsupported``: the file cannot be read as a PDF, is encrypted, or the signature is of a kind
  we cannot check; ``message`` says which.

Revocation is soft-fail: with no network fetching (the default) it is not checked, and every
result says so (``revocation``); an unreachable responder never makes a valid signature invalid.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from app.signatures.trust import TrustSet

FILE_STATUSES = ("unsigned", "valid", "untrusted", "invalid", "unsupported")
_WORST_FIRST = ("invalid", "unsupported", "untrusted", "valid")

# pyHanko logs a full traceback for every path it cannot build (an untrusted signer): that is an
# answer here, not an error of the service.
for _name in ("pyhanko.sign.validation.generic_cms", "pyhanko_certvalidator", "pyhanko.sign.validation"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


@dataclass
class SignatureResult:
    field: str | None
    signer_name: str | None
    signer_subject: str | None
    issuer: str | None
    serial: str | None
    signed_at: datetime | None  # the time the signer claims
    timestamp_at: datetime | None  # a timestamp token's time, when there is one
    intact: bool
    trusted: bool
    coverage: str  # entire_file | entire_revision | partial
    modified_after: bool
    status: str  # valid | untrusted | invalid | unsupported
    revocation: str  # not_checked | checked | soft_fail
    message: str | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("signed_at", "timestamp_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass
class Verdict:
    """A file's result: its signatures and one flag for it (the worst of them, or ``unsigned``)."""

    status: str
    signatures: list[SignatureResult] = field(default_factory=list)
    message: str | None = None


def summary(statuses: list[str]) -> str:
    if not statuses:
        return "unsigned"
    return next(s for s in _WORST_FIRST if s in statuses)


def verify_pdf(path: Path, trust: TrustSet, *, allow_fetching: bool = False) -> Verdict:
    """Every signature of the PDF at ``path`` checked against ``trust``. Never raises for what
    the file holds: an unreadable file is ``unsupported``."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    with path.open("rb") as source:  # read as needed, never the whole file at once
        try:
            reader = PdfFileReader(source, strict=False)
            if reader.encrypted:
                return Verdict("unsupported", message="the PDF is encrypted: its signatures cannot be checked")
            embedded = list(reader.embedded_signatures)
        except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError) as exc:
            return Verdict("unsupported", message=f"not a readable PDF: {exc}"[:500])
        if not embedded:
            return Verdict("unsigned")
        context = _context(trust, allow_fetching)
        results = [_check(signature, context, last=i == len(embedded) - 1, fetching=allow_fetching)
                   for i, signature in enumerate(embedded)]
    return Verdict(summary([r.status for r in results]), results)


def _context(trust: TrustSet, allow_fetching: bool):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=trust.roots, other_certs=trust.intermediates,
                             allow_fetching=allow_fetching, revocation_mode="soft-fail")


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _check(signature, context, *, last: bool, fetching: bool) -> SignatureResult:
    from pyhanko.sign.diff_analysis.policy_api import ModificationLevel
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    field_name = getattr(signature, "field_name", None)
    field_name = str(field_name) if field_name is not None else None  # a PDF string object: keep plain text
    try:
        status = validate_pdf_signature(signature, context)
    except (SignatureValidationError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        certificate = _signer_certificate(signature)
        return SignatureResult(field_name, *_names(certificate), None, None, False, False, "partial", False,
                               "unsupported", "not_checked", f"the signature cannot be checked: {exc}"[:500])
    coverage = {SignatureCoverageLevel.ENTIRE_FILE: "entire_file",
                SignatureCoverageLevel.ENTIRE_REVISION: "entire_revision"}.get(status.coverage, "partial")
    later_changes_allowed = status.modification_level is not None and \
        status.modification_level <= ModificationLevel.FORM_FILLING
    modified_after = coverage == "partial" or (coverage == "entire_revision" and (last or not later_changes_allowed))
    intact = bool(status.intact and status.valid)
    trusted = bool(status.trusted)
    if not intact:
        verdict, message = "invalid", "the signed bytes were changed, or the signature does not match them"
    elif modified_after:
        verdict, message = "invalid", ("the file was changed after this signature" if coverage == "entire_revision"
                                       else "the signature does not cover the whole file")
    elif not trusted:
        verdict, message = "untrusted", "no path from the signer's certificate to a trusted root"
    else:
        verdict, message = "valid", None
    timestamp = getattr(status, "timestamp_validity", None)
    return SignatureResult(
        field=field_name, **dict(zip(("signer_name", "signer_subject", "issuer", "serial"),
                                     _names(status.signing_cert))),
        signed_at=_aware(status.signer_reported_dt), timestamp_at=_aware(timestamp.timestamp) if timestamp else None,
        intact=intact, trusted=trusted, coverage=coverage, modified_after=modified_after, status=verdict,
        revocation="soft_fail" if fetching else "not_checked", message=message,
    )


def _signer_certificate(signature):
    try:
        return signature.signer_cert
    except Exception:  # noqa: BLE001 - a signature too broken to name its signer
        return None


def _names(certificate) -> tuple[str | None, str | None, str | None, str | None]:
    if certificate is None:
        return None, None, None, None
    subject = certificate.subject
    return (subject.native.get("common_name"), subject.human_friendly, certificate.issuer.human_friendly,
            format(certificate.serial_number, "x"))


_MAIN_WARNINGS = {
    None: ("signature.main_missing", "the document has no PDF attachment: its digital signature cannot be checked"),
    "unsigned": ("signature.main_unsigned", "the main attachment is not digitally signed"),
    "invalid": ("signature.main_invalid", "the main attachment's signature is not valid (changed, or not covering)"),
    "untrusted": ("signature.main_untrusted", "the main attachment's signer does not chain to a trusted root"),
    "unsupported": ("signature.main_unsupported", "the main attachment's signature cannot be checked"),
    "pending": ("signature.main_pending", "the main attachment's signature is still being checked"),
}


def registration_warning(main_status: str | None) -> tuple[str, str] | None:
    """What the clerk is told when registering an electronic document whose main attachment (its
    first PDF; None when it has none) is not validly signed (Decree 30, Art. 21: authenticity and
    integrity are checked before registration). None when it is valid."""
    return None if main_status == "valid" else _MAIN_WARNINGS.get(main_status, _MAIN_WARNINGS["unsupported"])
