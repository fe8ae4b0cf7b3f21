"""Request and response bodies of the v1 API (``openapi/openapi.json``), shared by the routes and the
services that take or return them. No FastAPI here: the services must not depend on the HTTP layer."""
