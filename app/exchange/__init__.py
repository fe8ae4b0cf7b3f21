"""The edXML exchange (QCVN 102:2016) with the national document hub, as pure functions.

``parser.parse_message`` turns a message's bytes into a typed ``DocumentMessage`` or
``StatusMessage`` (``message``); ``payload`` decodes, sniffs and unpacks attachments on the way;
``writer`` writes status messages and document messages back out. Nothing here touches the
database or HTTP: ``app.services.exchange`` stores what the parser read.
"""
