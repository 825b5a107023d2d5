"""JupyterLab behind Codespaces' port forwarding (installed as /etc/jupyter/jupyter_server_config.py).

The browser reaches the server through ``https://<codespace>-<port>.<forwarding domain>``: the Host
and Origin headers name that domain, not 127.0.0.1, and Jupyter answers 403 to both unless told.
Only that origin is allowed; the token (``make lab`` prints it) stays required.
"""

import os
import re

c = get_config()  # noqa: F821 (Jupyter's config loader defines it)

c.ServerApp.allow_remote_access = True  # the forwarded Host header is not a local address
c.ServerApp.trust_xheaders = True  # the forwarder terminates HTTPS and says so in X-Forwarded-Proto
_name = os.environ.get("CODESPACE_NAME")
_domain = os.environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
if _name and _domain:
    c.ServerApp.allow_origin_pat = rf"https://{re.escape(_name)}-\d+\.{re.escape(_domain)}"
