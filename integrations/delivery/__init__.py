"""Downstream delivery: signed webhooks (Standard Webhooks) to the apps Tagscope feeds.

- signing.py: secrets (`whsec_...`) and the `webhook-*` headers.
- mapping.py: the declarative field mapping (rows of source path, output name, transform, default).
- network.py: the SSRF guard and the one bounded HTTP POST.
- services.py: what admins do with destinations (create, rotate, resume, mappings, test events).
- sending.py: fan-out of events into Delivery rows, sending with claims, retries, pauses, dead letters
  and redelivery (docs/architecture.md, "Delivery").

The demo receiver lives with the development tools (dashboard/devtools/receiver.py).
"""
