"""The edXML parser alone (pure: bytes in, a typed message out): what it tolerates and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import io
import unicodedata
import zipfile
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from app.exchange.message import BusinessType, NotEdxml
from app.exchange.parser import parse_message
from app.exchange.payload import PayloadLimits
from app.workflow.exchange_status import StatusCode, statuses_after_action
from tests.exchange_helpers import NS, document_message, pdf_bytes, status_13, zipped

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def parse(data: bytes, tmp_path, **kwargs):
    return parse_message(io.BytesIO(data), tmp_path, tz=TZ, **kwargs)


def codes(message) -> list[str]:
    return [n.code for n in message.notices]


def test_prefixes_mean_nothing_only_the_namespace(tmp_path):
    one = parse(document_message(prefix="edXML:"), tmp_path)
    other = parse(document_message(prefix="").replace(b"<edXML xmlns", b"<edXML xmlns"), tmp_path)
    rebound = parse(document_message(prefix="x:").replace(b'xmlns:edXML="', b'xmlns:x="'), tmp_path)
    assert one.symbol == other.symbol == rebound.symbol == "125/VPCP-TCCV"
    assert one.subject == other.subject == rebound.subject


def test_elements_of_another_namespace_are_not_read_as_ours(tmp_path):
    data = document_message(extra_header='<q:Subject xmlns:q="urn:other">Không phải trích yếu</q:Subject>')
    assert parse(data, tmp_path).subject == "V/v triển khai kết nối liên thông văn bản điện tử"


def test_unqualified_elements_are_read_with_a_warning(tmp_path):
    data = (b'<edXML><edXMLEnvelope><edXMLHeader><MessageHeader><From><OrganId>G1</OrganId></From>'
            b'<To><OrganId>H2</OrganId></To><DocumentId>d</DocumentId><Subject>Tr\xc3\xadch y\xe1\xba\xbfu</Subject>'
            b'</MessageHeader></edXMLHeader></edXMLEnvelope></edXML>')
    message = parse(data, tmp_path)
    assert message.subject == "Trích yếu" and "exchange.no_namespace" in codes(message)


def test_decomposed_text_is_stored_composed(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Trương Minh Tuấn")
    message = parse(document_message(signer=decomposed), tmp_path)
    assert message.signer_name == "Trương Minh Tuấn" and unicodedata.is_normalized("NFC", message.signer_name)
    assert "exchange.text_normalised" in codes(message)


@pytest.mark.parametrize(("written", "read"), [("2026/11/20", date(2026, 11, 20)), ("20/11/2026", date(2026, 11, 20)),
                                               ("2026-11-20", date(2026, 11, 20)), ("2014/02/30", None)])
def test_dates_in_the_forms_seen(tmp_path, written, read):
    message = parse(document_message(date=written, due=None), tmp_path)
    assert message.document_date == read
    assert ("exchange.bad_date" in codes(message)) is (read is None)


def test_junk_before_the_declaration_is_skipped_and_lines_still_count(tmp_path):
    message = parse(b"1212" + document_message(), tmp_path)
    assert "exchange.junk_before_xml" in codes(message)
    broken = b"junk\n\n" + b'<?xml version="1.0"?>\n<edXML>\n<a></b></edXML>'
    with pytest.raises(NotEdxml) as refused:
        parse(broken, tmp_path)
    assert refused.value.line == 5


def test_business_types_and_the_documents_they_name(tmp_path):
    replace = parse(document_message(business="3", replaced=("G22,2026/11/01,1/X",)), tmp_path)
    assert replace.business_type == BusinessType.replace and replace.named_document_ids()[0] == "G22,2026/11/01,1/X"
    missing = parse(document_message(business=None), tmp_path)
    assert missing.business_type == BusinessType.new and "exchange.no_business_type" in codes(missing)
    odd = parse(document_message(business="7"), tmp_path)
    assert odd.business_type == BusinessType.new and "exchange.no_business_type" in codes(odd)


def test_priority_out_of_range_is_normal_with_a_warning(tmp_path):
    message = parse(document_message(priority="9"), tmp_path)
    assert message.priority is None and "exchange.bad_priority" in codes(message)


def test_due_date_before_the_document_is_a_warning(tmp_path):
    message = parse(document_message(date="2026/11/20", due="2026/11/01"), tmp_path)
    assert "exchange.due_before_date" in codes(message)


def test_attachments_are_decoded_sniffed_and_single_entry_zips_unpacked(tmp_path):
    pdf = pdf_bytes("p", 10_000)
    several = io.BytesIO()
    with zipfile.ZipFile(several, "w") as archive:
        archive.writestr("a.txt", "a")
        archive.writestr("b.txt", "b")
    message = parse(document_message(attachments=[
        ("Quyết định.pdf", "application/pdf", pdf),
        ("ghi-chu.txt", "application/zip", zipped("x.txt", "Ghi chú".encode())),
        ("hai-tep.zip", "application/zip", several.getvalue()),
        ("gia.SIGNED.PDF", "application/pdf", b"not a pdf at all"),
    ]), tmp_path)
    first, text, archive_kept, fake = message.attachments
    assert (first.filename, first.content_type, first.sha256) == (
        "Quyết định.pdf", "application/pdf", hashlib.sha256(pdf).hexdigest())
    assert first.path.read_bytes() == pdf
    assert text.unpacked_from == "x.txt" and text.path.read_bytes() == "Ghi chú".encode()
    assert archive_kept.unpacked_from is None and archive_kept.content_type == "application/zip"
    assert fake.content_type.startswith("text/plain")
    assert any(n.code == "exchange.attachment_type_mismatch" and "gia.SIGNED.PDF" in n.message
               for n in message.notices)


def test_a_zip_bomb_is_kept_zipped(tmp_path):
    bomb = zipped("bomb.pdf", b"\0" * (20 * 1024 * 1024))
    message = parse(document_message(attachments=[("a.pdf", "application/zip", bomb)]), tmp_path,
                    limits=PayloadLimits(max_entry_bytes=50 * 1024 * 1024, max_ratio=200))
    (attachment,) = message.attachments
    assert attachment.unpacked_from is None and attachment.size == len(bomb)
    assert "exchange.attachment_zip_limits" in codes(message)


def test_a_truncated_zip_is_kept_as_it_came(tmp_path):
    truncated = zipped("x.pdf", pdf_bytes("t", 50_000))[:-40]
    message = parse(document_message(attachments=[("x.pdf", "application/zip", truncated)]), tmp_path)
    (attachment,) = message.attachments
    assert attachment.sha256 == hashlib.sha256(truncated).hexdigest()
    assert "exchange.attachment_zip_unreadable" in codes(message)


def test_broken_base64_keeps_what_came_before_it(tmp_path):
    data = document_message(attachments=[("a.pdf", "application/pdf", pdf_bytes())])
    data = data.replace(b"</edXML:ContentTransferEncoded>", b"!!!!</edXML:ContentTransferEncoded>")
    message = parse(data, tmp_path)
    assert "exchange.attachment_bad_base64" in codes(message)


def test_manifest_and_attachments_that_do_not_match(tmp_path):
    data = document_message(attachments=[("a.pdf", "application/pdf", pdf_bytes())])
    data = data.replace(b"<ContentId>cid:1</ContentId>", b"<ContentId>cid:99</ContentId>")
    found = codes(parse(data, tmp_path))
    assert "exchange.attachment_unreferenced" in found and "exchange.attachment_missing" in found


def test_the_gateway_form_of_attachments_is_read_with_a_warning(tmp_path):
    payload = base64.b64encode(pdf_bytes("g")).decode()
    data = (f'<edXML xmlns="{NS}"><edXMLEnvelope><edXMLHeader><MessageHeader><From><OrganId>G</OrganId></From>'
            f'<To><OrganId>H</OrganId></To><DocumentId>d</DocumentId><Subject>s</Subject></MessageHeader>'
            f'</edXMLHeader></edXMLEnvelope><edXMLAttachments><Attachment><AttachmentName>g.pdf</AttachmentName>'
            f'<AttachmentData>{payload}</AttachmentData></Attachment></edXMLAttachments></edXML>').encode()
    message = parse(data, tmp_path)
    assert [a.filename for a in message.attachments] == ["g.pdf"]
    assert "exchange.nonstandard_attachments" in codes(message)


def test_status_messages_keep_their_two_digit_code(tmp_path):
    message = parse(status_13("G22,2026/11/20,125/VPCP-TCCV"), tmp_path)
    assert message.kind == "status" and message.status_code == "13"
    assert message.response_for.document_id == "G22,2026/11/20,125/VPCP-TCCV"
    assert message.timestamp.isoformat() == "2026-11-21T09:15:00+07:00"


@pytest.mark.parametrize("data", [
    b"", b"not xml", b"<edXML", b"<other/>", b'<edXML xmlns="urn:not-edxml"><MessageHeader/></edXML>',
    f'<edXML xmlns="{NS}"><nothing/></edXML>'.encode(),
    b'<?xml version="1.0"?><!DOCTYPE edXML SYSTEM "http://example.com/x.dtd"><edXML/>',
])
def test_what_is_not_edxml_is_refused(tmp_path, data):
    with pytest.raises(NotEdxml):
        parse(data, tmp_path)
    assert not [p for p in tmp_path.iterdir()]  # no decoded file left behind


def test_the_status_rule_follows_the_slip():
    assert statuses_after_action("direct", "leadership_review", "in_progress") == [StatusCode.directed]
    assert statuses_after_action("assign", "in_progress", "in_progress") == [StatusCode.in_progress]
    assert statuses_after_action("complete", "in_progress", "resolved") == [StatusCode.in_progress,
                                                                           StatusCode.resolved]
    assert statuses_after_action("acknowledge", "in_progress", "in_progress") == []
    assert statuses_after_action("submit", "registered", "office_review") == []


def test_a_message_of_a_thousand_attachments_is_refused(tmp_path):
    data = document_message(attachments=[(f"{i}.txt", "text/plain", b"x") for i in range(1000)])
    with pytest.raises(NotEdxml) as refused:
        parse(data, tmp_path)
    assert refused.value.code == "exchange.too_large"
    assert not list(tmp_path.iterdir())


def test_a_header_of_many_megabytes_is_refused(tmp_path):
    data = document_message(subject="x" * (5 * 1024 * 1024))
    with pytest.raises(NotEdxml) as refused:
        parse(data, tmp_path)
    assert refused.value.code == "exchange.too_large"
