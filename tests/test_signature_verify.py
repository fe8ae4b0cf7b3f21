"""Verification of PDF signatures alone (app.signatures: files and certificates in, a verdict out)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from app.signatures.trust import TrustStore, load_trust_set, read_certificates, InvalidCertificate
from app.signatures.verify import registration_warning, verify_pdf
from tests.signature_helpers import Authority, encrypted_pdf, one_page_pdf, pem, sign_pdf


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


@pytest.fixture
def trusted(tmp_path, authority):
    """A trust directory holding the authority's root only."""
    directory = tmp_path / "trust"
    TrustStore(directory).add(pem(authority.root))
    return load_trust_set(directory)


def _verify(tmp_path, data: bytes, trust):
    path = tmp_path / "file.pdf"
    path.write_bytes(data)
    return verify_pdf(path, trust)


def test_a_file_signed_under_a_trusted_root_is_valid_with_its_signer_and_time(tmp_path, authority, trusted):
    before = datetime.now(timezone.utc)
    signed = sign_pdf(one_page_pdf("CV 125"), authority.leaf("Nguyễn Thị Hằng"), authority)
    verdict = _verify(tmp_path, signed, trusted)
    assert verdict.status == "valid"
    (signature,) = verdict.signatures
    assert signature.signer_name == "Nguyễn Thị Hằng"
    assert "Thử nghiệm congvan" in signature.signer_subject and "trung gian" in signature.issuer
    assert abs((signature.signed_at - before).total_seconds()) <= 1.5
    assert (signature.intact, signature.trusted, signature.coverage, signature.modified_after) == (
        True, True, "entire_file", False)
    assert signature.revocation == "not_checked"


def test_one_byte_changed_inside_the_signed_range_is_invalid(tmp_path, authority, trusted):
    signed = sign_pdf(one_page_pdf("CV 125"), authority.leaf("Lê Văn B"), authority)
    at = signed.index(b"CV 125")
    tampered = signed[:at] + b"CV 126" + signed[at + 6:]
    verdict = _verify(tmp_path, tampered, trusted)
    assert verdict.status == "invalid" and verdict.signatures[0].intact is False


def test_bytes_appended_after_the_signature_are_not_valid(tmp_path, authority, trusted):
    signed = sign_pdf(one_page_pdf("CV 125"), authority.leaf("Lê Văn B"), authority)
    verdict = _verify(tmp_path, signed + b"\n% added later\n", trusted)
    (signature,) = verdict.signatures
    assert signature.intact is True  # the signed bytes themselves are untouched...
    assert signature.coverage != "entire_file" and signature.modified_after is True
    assert verdict.status == "invalid"  # ...but the file is not what was signed


def test_a_signer_outside_the_trust_set_is_untrusted(tmp_path, trusted):
    stranger = Authority("Root CA lạ")
    verdict = _verify(tmp_path, sign_pdf(one_page_pdf("x"), stranger.leaf("Trần C"), stranger), trusted)
    assert verdict.status == "untrusted" and verdict.signatures[0].intact is True


def test_an_intermediate_not_embedded_is_found_in_the_trust_dir(tmp_path, authority):
    signed = sign_pdf(one_page_pdf("x"), authority.leaf("Phạm D"), authority, embed_intermediate=False)
    root_only = tmp_path / "root-only"
    TrustStore(root_only).add(pem(authority.root))
    assert _verify(tmp_path, signed, load_trust_set(root_only)).status == "untrusted"
    TrustStore(root_only).add(pem(authority.intermediate))
    assert _verify(tmp_path, signed, load_trust_set(root_only)).status == "valid"


def test_a_second_signature_added_later_keeps_the_first_valid(tmp_path, authority, trusted):
    once = sign_pdf(one_page_pdf("x"), authority.leaf("Người ký 1"), authority, field="Sig1")
    twice = sign_pdf(once, authority.leaf("Người ký 2"), authority, field="Sig2")
    verdict = _verify(tmp_path, twice, trusted)
    assert [s.status for s in verdict.signatures] == ["valid", "valid"]
    assert [s.coverage for s in verdict.signatures] == ["entire_revision", "entire_file"]


@pytest.mark.parametrize(("data", "status"), [
    (one_page_pdf("unsigned"), "unsigned"),
    (b"%PDF-1.7\nthis is not really a pdf", "unsupported"),
    (b"", "unsupported"),
    (one_page_pdf("x")[:120], "unsupported"),
])
def test_unsigned_and_broken_files(tmp_path, trusted, data, status):
    verdict = _verify(tmp_path, data, trusted)
    assert verdict.status == status and verdict.signatures == []
    assert (verdict.message is not None) is (status == "unsupported")


def test_an_encrypted_file_is_unsupported_with_a_message(tmp_path, trusted):
    verdict = _verify(tmp_path, encrypted_pdf(one_page_pdf("bí mật")), trusted)
    assert verdict.status == "unsupported" and "encrypted" in verdict.message


def test_the_trust_directory_is_read_again_when_it_changes(tmp_path, authority):
    store = TrustStore(tmp_path / "t")
    assert store.current().certificates == ()
    store.add(pem(authority.root) + pem(authority.intermediate))
    trust = store.current()
    assert len(trust.roots) == 1 and len(trust.intermediates) == 1
    (tmp_path / "t" / "junk.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")
    time.sleep(0.01)
    assert store.current().problems and store.current().fingerprint == trust.fingerprint
    with pytest.raises(InvalidCertificate):
        read_certificates(b"not a certificate")


def test_what_the_clerk_is_told_on_registration():
    assert registration_warning("valid") is None
    assert registration_warning("unsigned")[0] == "signature.main_unsigned"
    assert registration_warning("invalid")[0] == "signature.main_invalid"
    assert registration_warning(None)[0] == "signature.main_missing"
