"""The revmentor console: web pages for programme managers and participants.

It owns no database and imports no service: every page is drawn from the four services' public
HTTP APIs, called with the signed-in person's bearer token.
"""
