"""The API's blueprint: flask-smorest's, with each argument schema made once, JSON loaded within limits and the
pagination header exact."""

from __future__ import annotations

import flask_smorest

from mobile_api.parsing import Parser


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()  # JSON bodies within depth and number-length limits

    def arguments(self, schema, **kwargs):
        """flask-smorest's ``arguments``, given a schema instance: webargs makes a new instance of a schema
        class on every request, and a marshmallow schema keeps no state between loads."""
        return super().arguments(schema() if isinstance(schema, type) else schema, **kwargs)

    def _document_pagination_metadata(self, spec, resp_doc):
        """``X-Pagination`` is a JSON text: flask-smorest documents it as an object."""
        from mobile_api.openapi import pagination_header

        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = pagination_header()
