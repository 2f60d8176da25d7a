"""The API's blueprint: flask-smorest's, with each argument schema made once and JSON loaded within limits."""

from __future__ import annotations

import flask_smorest

from mobile_api.parsing import Parser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()  # JSON bodies within depth and number-length limits

    def arguments(self, schema, **kwargs):
        """flask-smorest's ``arguments``, given a schema instance: webargs makes a new instance of a schema
        class on every request, and a marshmallow schema keeps no state between loads."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)
