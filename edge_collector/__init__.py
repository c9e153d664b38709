"""The on-site edge collector (``hashinsight-edge``).

It runs inside the farm LAN and talks to the HashInsight server over outbound HTTP(S) only,
so it imports nothing from the web app (no Pyramid, SQLAlchemy or huey) and can be shipped
alone. Polling, discovery, upload and commands arrive with the edge collector issue; today it
can check that the server it will report to is reachable.
"""

__version__ = "0.1.0"
