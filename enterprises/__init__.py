"""Enterprises (生产经营单位, “一企一档”): the records inspections and hazards are about."""
