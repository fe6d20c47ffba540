"""Which service consumes which events (DESIGN section 2): part of the contract between the
services, read by the bus's topology and by the AsyncAPI document."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Which service consumes which events (DESIGN section 2), as (type, version) pairs.
SUBSCRIPTIONS: Mapping[str, tuple[tuple[str, int], ...]] = MappingProxyType(
    {
        "invitations": (
            ("AccountActivated", 1),
            ("SignInMethodsChanged", 1),
            ("EmailDelivered", 1),
            ("EmailFailed", 1),
        ),
        "identity": (
            ("InvitationIssued", 1),
            ("CodeExpired", 1),
            ("InvitationRevoked", 1),
            ("PasswordResetAsked", 1),
        ),
        "notifier": (
            ("InvitationIssued", 1),
            ("TwoFactorCodeRequested", 1),
            ("PasswordResetRequested", 1),
            ("PasswordChanged", 1),
            ("AccountActivated", 1),
            ("CopySubmitted", 1),
            # no email of their own: they stop an invitation email whose code is dead
            ("CodeExpired", 1),
            ("InvitationRevoked", 1),
        ),
        "exams": (
            ("AccountActivated", 1),
            ("DeviceValidated", 1),
            ("InvitationIssued", 1),
        ),
    }
)

#: Events that every process of a service must see rather than one of them: each process
#: binds a queue of its own (``Topology.process_queue``). The gateway's processes each keep
#: the list of ended sessions whose access tokens they refuse.
EVERY_PROCESS: Mapping[str, tuple[tuple[str, int], ...]] = MappingProxyType(
    {"gateway": (("SessionsEnded", 1),)}
)
