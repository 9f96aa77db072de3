"""Settlement: what the payment providers paid out, line by line, matched to the shop's orders.

``base`` holds the provider-neutral line and the small parsing pieces; ``vipps``, ``klarna`` and
``stripe`` read each provider's documented report shapes (pure: no database, no network);
``factory`` picks the parser from the configuration. Built in issue #15.
"""
