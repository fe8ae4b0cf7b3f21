"""Every real message in ../shared/edxml-samples through the API: accepted, or (the two that are
not well-formed) refused with their line. The expected fields are read here independently, with
a plain lxml tree, and each attachment decoded (and unpacked) here too. Skipped where the samples
are not beside the repository (they are interoperability inputs, not ours to copy)."""

from __future__ import annotations

import base64
import hashlib
import io
import unicodedata
import zipfile

import pytest
from lxml import etree

from tests.exchange_helpers import SAMPLES, XML

API = "/api/v1"
NOT_WELL_FORMED = {"sdk-resources__edoc.edxml": 74, "gateway-resources__edoc.edxml": 116}
FILES = sorted(p.name for p in SAMPLES.glob("*.*ml")) if SAMPLES.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"no edXML samples at {SAMPLES}")


def _tree(data: bytes) -> etree._Element:
    start = data.index(b"<")
    return etree.fromstring(data[start:], etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))


def _first(root: etree._Element, *path: str) -> str | None:
    expression = "/".join(f"*[local-name()='{p}']" for p in path)
    found = root.xpath(f".//{expression}")
    if not found or found[0].text is None:
        return None
    return unicodedata.normalize("NFC", " ".join(found[0].text.split())) or None


def _payload(data: bytes) -> bytes:
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                entries = [i for i in archive.infolist() if not i.is_dir()]
                if len(entries) == 1:
                    return archive.read(entries[0])
        except zipfile.BadZipFile:
            pass
    return data


def _expected_attachments(root: etree._Element) -> list[str]:
    digests = []
    for node in root.xpath(".//*[local-name()='ContentTransferEncoded']"):
        digests.append(hashlib.sha256(_payload(base64.b64decode("".join((node.text or "").split())))).hexdigest())
    return digests


@pytest.mark.parametrize("name", FILES)
def test_every_sample_is_taken_in_or_refused_with_its_line(client, as_user, name):
    data = (SAMPLES / name).read_bytes()
    response = client.post(f"{API}/exchange/messages", content=data, headers={**as_user("hub"), **XML})
    if name in NOT_WELL_FORMED:
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["errors"][0]["line"] == NOT_WELL_FORMED[name]
        assert f"line {NOT_WELL_FORMED[name]}, column" in problem["errors"][0]["message"]
        return
    assert response.status_code == 201, response.text
    item = response.json()
    root = _tree(data)
    header = root.xpath(".//*[local-name()='MessageHeader']")[0]
    if _first(header, "StatusCode"):
        assert item["kind"] == "status" and item["status_code"] == _first(header, "StatusCode")
        assert item["edxml_document_id"] == _first(header, "ResponseFor", "DocumentId")
        return
    assert item["kind"] == "document"
    number, notation = _first(header, "Code", "CodeNumber"), _first(header, "Code", "CodeNotation")
    assert item["symbol"] == (f"{number}/{notation}" if number and notation else None)
    date = _first(header, "PromulgationInfo", "PromulgationDate")
    assert item["document_date"] == (date.replace("/", "-") if date else None)
    assert item["issuer"] == (_first(header, "From", "OrganName") or _first(header, "From", "OrganId"))
    assert item["summary"] == _first(header, "Subject")
    assert item["signer_name"] == _first(header, "SignerInfo", "FullName")
    priority = _first(header, "OtherInfo", "Priority")
    assert item["urgency"] == {None: "normal", "0": "normal", "1": "urgent", "2": "very_urgent"}.get(priority, "flash")
    assert [a["sha256"] for a in item["attachments"]] == _expected_attachments(root)
    for attachment in item["attachments"]:
        assert len(attachment["sha256"]) == 64 and attachment["size"] >= 0
    raw = client.get(f"{API}/exchange/inbox/{item['id']}/raw", headers=as_user("clerk"))
    assert raw.content == data


def test_the_samples_irregularities_are_warnings(client, as_user):
    def warnings(name: str) -> set[str]:
        data = (SAMPLES / name).read_bytes()
        item = client.post(f"{API}/exchange/messages", content=data, headers={**as_user("hub"), **XML}).json()
        return {w["code"] for w in item["warnings"]}

    assert "exchange.junk_before_xml" in warnings("gateway-resources__edoc_new.edxml")
    assert "exchange.no_business_type" in warnings("gateway-test_user_edxml.xml")
    assert "exchange.attachment_type_mismatch" in warnings("sdk-resources__edoc_new.edxml")  # a .doc holding edXML
    assert "exchange.target_not_found" in warnings("sdk-resources__edoc_revocation.edxml")
