"""Nexam contracts, in three layers that import only downwards:

- ``contracts.events``: the envelope, the event schemas, codes, who subscribes to what, and
  the internal HTTP contracts between services;
- ``contracts.bus``: topology, outbox, relay, consumer and inbox, sealing, AsyncAPI;
- ``contracts.runtime``: settings, database, migrations, key files, the worker loop and the
  web kit every service uses.

``contracts.testing`` is the pytest plugin every test folder uses."""
