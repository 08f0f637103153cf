"""The WSGI entry point gunicorn loads (``jessr serve``): the app from the environment."""

from web import create_app

app = create_app()
