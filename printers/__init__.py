"""Turning a ticket into printer bytes and sending them to thermal printers."""
