"""Readers for external data formats: the one tabular/JSON reader for users' files, and TNTP networks.

References
----------
.. [1] Y. Shafranovich, "Common Format and MIME Type for Comma-Separated Values (CSV) Files", RFC 4180, 2005.
.. [2] T. Bray (ed.), "The JavaScript Object Notation (JSON) Data Interchange Format", RFC 8259, 2017.
.. [3] Transportation Networks for Research Core Team, *Transportation Networks for Research*,
   github.com/bstabler/TransportationNetworks (the TNTP format).
"""

from gametheory.io.table import TextTable, read_json, read_jsonl, read_table, read_text
from gametheory.io.tntp import TntpNetwork, read_tntp_flows, read_tntp_net, read_tntp_trips

__all__ = [
    "TextTable",
    "TntpNetwork",
    "read_json",
    "read_jsonl",
    "read_table",
    "read_text",
    "read_tntp_flows",
    "read_tntp_net",
    "read_tntp_trips",
]
