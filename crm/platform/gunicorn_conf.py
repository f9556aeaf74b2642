"""gunicorn settings:
``gunicorn -c python:crm.platform.gunicorn_conf --workers 4 --bind ... wsgi:app``.

Access lines carry the path without its query string (staff searches put phone numbers and
addresses there) and no referrer; every log record, gunicorn's own included, goes through
``crm.platform.logs`` redaction, installed here so the master process has it before any
worker starts.
"""

import gc
from typing import Any

from crm.platform.logs import install_redaction

install_redaction()

accesslog = "-"
errorlog = "-"
# %(h)s is written as a keyed hash by the redaction; %(U)s is the path alone (%(r)s and %(q)s
# would include the query string).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def post_worker_init(_worker: Any) -> None:
    """The app is loaded: its modules, templates and catalogues live as long as the worker.

    Frozen, the collector's full passes leave them out; otherwise every few hundred requests
    one walks all of them (about 130,000 objects), a pause of tens of milliseconds for
    whichever request set it off.
    """
    gc.freeze()
