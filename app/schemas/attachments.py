"""Attachment metadata, with the result of verifying a PDF's digital signatures."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.schemas.common import Schema


SignatureStatus = Literal["unsigned", "valid", "untrusted", "invalid", "unsupported", "pending", "not_pdf"]


class SignatureOut(Schema):
    """One digital signature of a PDF, as verified (app.signatures.verify)."""

    field: str | None = Field(description="The PDF's signature field")
    signer_name: str | None = Field(description="The signer certificate's common name")
    signer_subject: str | None
    issuer: str | None
    serial: str | None = Field(description="The signer certificate's serial number, hexadecimal")
    signed_at: datetime | None = Field(description="The signing time the signer claims")
    timestamp_at: datetime | None = Field(description="A timestamp token's time, when there is one")
    intact: bool = Field(description="The signed bytes are unchanged and the signature matches them")
    trusted: bool = Field(description="A path leads from the signer to a root of the trust set")
    coverage: Literal["entire_file", "entire_revision", "partial"]
    modified_after: bool = Field(description="The file was changed after this signature (not allowed additions)")
    status: Literal["valid", "untrusted", "invalid", "unsupported"]
    revocation: Literal["not_checked", "soft_fail", "checked"] = Field(
        description="not_checked without network fetching (CONGVAN_TRUST_FETCH); soft_fail: an unreachable "
        "responder does not fail the signature")
    message: str | None


class SignedFile(Schema):
    signature_status: SignatureStatus = Field(
        description="unsigned, or the worst of its signatures; pending while a large file waits for the worker; "
        "not_pdf for other files")
    signatures: list[SignatureOut] = []
    signatures_checked_at: datetime | None = None


class AttachmentOut(SignedFile):
    id: int
    filename: str = Field(description="The uploaded name, made safe: no directories, no control characters")
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime

