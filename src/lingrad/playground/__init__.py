"""The browser playground: train a linear classifier on 2-D points by hand and by gradient
descent, every number computed by lingrad on the server.

``create_app()`` is the ASGI app (Starlette); ``lingrad playground`` serves it on 127.0.0.1;
in a notebook ``lingrad.playground.show()`` serves it on loopback and returns an IFrame of it.
See :mod:`lingrad.playground.app` for the JSON API.
"""

from lingrad.playground.app import create_app
from lingrad.playground.notebook import show

__all__ = ["create_app", "show"]
