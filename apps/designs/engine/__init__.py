"""Parsers from pasted texts to the DesignModel. Pure Python: no Django imports here."""
