"""rmote compatibility on the pythond agent: tool files written for rmote import from here."""
