"""Readers for external data formats: the one tabular/JSON reader for users' files, and TNTP networks."""

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
