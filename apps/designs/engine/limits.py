"""Limits the parsers enforce. Built from settings at the edge and passed in, never read here."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ParseLimits:
    max_document_bytes: int = 25 * 1024 * 1024
    max_yaml_nodes: int = 5_000_000
    max_schema_depth: int = 64
    max_operations: int = 25_000
