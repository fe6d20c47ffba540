"""Nexam contracts: the event envelope, the event schemas, the bus client and the web kit
shared by every service."""

from contracts.codec import ContractViolation, decode, encode, redact
from contracts.envelope import Event
from contracts.events import CONTRACTS, Contract, contract_for

__all__ = [
    "CONTRACTS",
    "Contract",
    "ContractViolation",
    "Event",
    "contract_for",
    "decode",
    "encode",
    "redact",
]
