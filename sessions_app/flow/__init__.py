"""The customer flow: inbound messages, bot, assignment and queue, relay, transfer, closing."""
