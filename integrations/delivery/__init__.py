"""Downstream delivery: signed webhooks (Standard Webhooks) to the apps Tagscope feeds.

- signing.py: secrets (`whsec_...`) and the `webhook-*` headers.
- mapping.py: the declarative field mapping (rows of source path, output name, transform, default).
- network.py: the SSRF guard and the one bounded HTTP POST.
- services.py: destinations (create, rotate, pause), fan-out of events into Delivery rows, sending
  with claims, retries, dead letters and redelivery.
- receiver.py: a tiny stdlib WSGI receiver for demos and tests (`manage.py runreceiver`).
"""
