"""Readers for external data formats (TNTP traffic-assignment files)."""

from gametheory.io.tntp import TntpNetwork, read_tntp_flows, read_tntp_net, read_tntp_trips

__all__ = ["TntpNetwork", "read_tntp_flows", "read_tntp_net", "read_tntp_trips"]
