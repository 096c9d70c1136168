"""Live MIS connections: a school's registration with Wonde, Xporter on Demand or a OneRoster API."""
