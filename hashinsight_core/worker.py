"""For ``huey_consumer hashinsight_core.worker.huey``: the app's huey, built from an ini.

The consumer imports this module; it boots the app from ``$HASHINSIGHT_INI`` (default
``production.ini``) so that the huey it finds has exactly the enabled plugins' tasks.
``hashinsight worker INI`` does the same without the environment variable.
"""

import os

from pyramid.paster import bootstrap, setup_logging

_ini = os.environ.get("HASHINSIGHT_INI", "production.ini")
setup_logging(_ini)
_env = bootstrap(_ini)
huey = _env["registry"]["huey"]
