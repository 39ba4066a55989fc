"""Wiring only: one Blueprint per feature (chalicelib/routes/<feature>.py), registered here.

Each route calls one service function with the dependencies of this cold start, which the
composition root (chalicelib/composition.py) builds on first use.
"""
from chalice import Chalice

from chalicelib.api.correlation import with_correlation_id
from chalicelib.api.http import decode_path_parameters
from chalicelib.routes import (access, campaigns, flows, lifecycle, loyalty, mail, orders, privacy, products, shops,
                               templates, workspace)

app = Chalice(app_name="loyalty-mail")


@app.middleware("http")
def correlation_id(request, get_response):
    # Outermost: every line a request logs, and its answer, carry its correlation id.
    return with_correlation_id(request, get_response)


@app.middleware("http")
def decoded_path_parameters(request, get_response):
    # Every route's path parameters arrive percent-encoded: decoded here, once, for all of them.
    return decode_path_parameters(request.uri_params) or get_response(request)


for feature in (shops, access, orders, loyalty, mail, templates, campaigns, lifecycle, privacy, workspace, flows,
                products):
    app.register_blueprint(feature.bp)
