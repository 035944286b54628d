"""Deals and the sales pipeline: stages, commands, metrics, nudges and export."""
