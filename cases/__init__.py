"""行政处罚 cases (penalty cases): records of their own beside inspections and hazards."""
