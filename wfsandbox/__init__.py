"""The Wildfire sandbox: a stand-in for a Wildfire IM server (robot API, admin API, robot callbacks).

Run it with ``python -m wfsandbox``; see ``wfsandbox/README.md``. Every byte on the wire follows
``wildfire-protocol.md``; the section numbers in comments (§2.3, §5.1, …) point into it.
"""
