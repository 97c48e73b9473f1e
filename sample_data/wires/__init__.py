"""One logical request → the payload each wire convention would carry for it.

A *wire* is one way a request reaches gatewatch: OTel GenAI spans (current and deprecated
names, or completed by a log event), the instrumentations' own span conventions, gateway
request logs and provider responses. Every wire is written from a generator row (the expected
canonical columns plus `sample_data.generator.WIRE_SCHEMA`), following the convention's own
token rules (docs/normalization.md, "Tokens per provider family"), so ingesting any wire's
payload must give back the generator's row. What a convention genuinely cannot carry is named
on the wire (`Wire.differs`, a `Carries` per field) with the value the row then has.
"""

from sample_data.wires.registry import WIRES, Carries, Wire

__all__ = ["WIRES", "Carries", "Wire"]
