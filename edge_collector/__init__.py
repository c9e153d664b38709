"""The on-site edge collector (``hashinsight-edge``) and its miner simulator.

It runs inside the farm LAN and talks to the HashInsight server over outbound HTTP(S) only,
so it imports nothing from the web app (no Pyramid, SQLAlchemy or huey) and can be shipped
alone: discovery, polling (CGMiner RPC), an on-disk spool with upload, approved commands
through each vendor's control surface, and a simulated farm. See docs/edge.md.
"""

__version__ = "0.1.0"
