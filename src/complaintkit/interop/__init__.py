"""Mappings to the industry's APIs: TMF621 (trouble ticket) and TMF681 (communication message)."""
